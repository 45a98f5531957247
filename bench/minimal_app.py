"""The throughput baseline: a minimal Starlette app rendering one small Jinja template (a loop of 20 rows),
behind Starlette's GZipMiddleware at the portal's gzip settings (the bench asks for gzip only). Served by
bench/throughput.py with `uvicorn bench.minimal_app:app --workers 1 --log-level warning --no-access-log`.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from portal.web.compression import GZIP_LEVEL, MINIMUM_SIZE

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,  # Starlette does not set it when handed an env (as in the portal)
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
)

ROWS = [
    {"id": n, "name": f"Client number {n} & Sons Ltd", "reference": f"{1234567890 + n * 7919}",
     "due": f"{(n % 28) + 1} January 2027"}
    for n in range(1, 21)
]


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "minimal.html", {"title": "Twenty rows", "rows": ROWS})


app = Starlette(
    routes=[Route("/", home)],
    middleware=[Middleware(GZipMiddleware, minimum_size=MINIMUM_SIZE, compresslevel=GZIP_LEVEL)],
)
