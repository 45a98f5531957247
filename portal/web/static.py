"""Static files under content-hashed names, held in memory with their gzip copies.

A changed file gets a new URL, so every asset can be cached as immutable for a year and a repeat visit costs
nothing but the HTML.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli
from starlette.requests import Request
from starlette.responses import Response

from portal.i18n import gettext
from portal.web.compression import preferred_encoding

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
SERVED_SUFFIXES = {".css", ".js", ".svg", ".png", ".ico", ".woff2"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    brotli: bytes | None  # about a sixth smaller than gzip for CSS and JS: it matters on a slow link
    media_type: str
    etag: str


@cache
def _compressed(body: bytes) -> tuple[bytes, bytes]:
    """Done once per file per process, at the highest levels: the cost is paid at start-up, not per request."""
    return gzip.compress(body, compresslevel=9, mtime=0), brotli.compress(body, quality=11)


class StaticAssets:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.urls: dict[str, str] = {}
        self.assets: dict[str, Asset] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix in SERVED_SUFFIXES:
                self._add(path.relative_to(directory).as_posix(), path.read_bytes())

    def _add(self, name: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()[:12]
        stem, dot, suffix = name.rpartition(".")
        hashed = f"{stem}.{digest}{dot}{suffix}"
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type in ("application/javascript", "image/svg+xml"):
            media_type += "; charset=utf-8"
        compressible = not name.endswith((".png", ".woff2"))
        gzipped, brotlied = _compressed(body) if compressible else (None, None)
        self.urls[name] = f"/static/{hashed}"
        self.assets[hashed] = Asset(body, gzipped, brotlied, media_type, f'"{digest}"')

    def url(self, name: str) -> str:
        """The hashed URL of a file under static/; an unknown name is a bug, so it raises."""
        return self.urls[name]

    async def serve(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["path"])
        if asset is None:
            return Response(gettext("Not found"), status_code=404, media_type="text/plain")
        headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        encoding = preferred_encoding(request.headers.get("accept-encoding", ""))
        body = asset.brotli if encoding == "br" else asset.gzipped if encoding == "gzip" else None
        if encoding is None or body is None:  # nothing the client takes, or a file not worth compressing
            return Response(asset.body, media_type=asset.media_type, headers=headers)
        headers["Content-Encoding"] = encoding
        return Response(body, media_type=asset.media_type, headers=headers)
