"""The agent dashboard in Welsh against English (issue 10): compressed page weight and server time, as ratios to
English measured in the same run, and against the budgets the other scripts hold English to.

    .venv/bin/python bench/welsh.py                  # about a minute
    .venv/bin/python bench/welsh.py --rounds 3 --requests 50   # a quicker run

Seeds the demo data into a fresh, temporary data folder (`python -m portal demo-data`), builds the app in this
process, signs in as the demo agent (2-step code from the demo secret), and asks for the same pages with the
`language` cookie set to `en` and to `cy`:

1. weight (bytes, which do not depend on load): `/clients` compressed as a browser asks for it
   (`Accept-Encoding: gzip, deflate, br, zstd`), body and response headers; the first visit adds the static
   files the page names (stylesheet, scripts, icon), each compressed; one htmx client switch (the first client,
   `HX-Request: true`). Budgets as bench/page_weight.py's (which measures English in a browser): first visit
   <= 40 KB, repeat visit (the HTML alone, the static files being cached) <= 6 KB, client switch <= 3 KB.
2. server time: `await app(scope, receive, send)` timed in-process (no HTTP, no client), as bench/scale.py does,
   for bench/minimal_app.py (the baseline of bench/throughput.py), `/clients` in English and `/clients` in Welsh,
   alternated round by round so the machine's noise falls on all three alike. Reported as p50/p95 and as ratios:
   Welsh to English per round and overall (the cost of translating: a catalogue look-up per message), and the
   baseline's time to each page's time (reported only: throughput.py's >= 30% share is of requests/s over HTTP,
   where each request's fixed HTTP cost counts on both sides). The p95 is held to bench/scale.py's dashboard
   budget (<= 20 ms).

Prints PASS/OVER per line next to its budget; "reported" lines have none. Always exits 0: it reports, it does not
gate (the machines are 2 shared cores: look at the load average before believing an OVER).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _support import DEMO_TOTP_SECRET, KB  # noqa: E402

FIRST_VISIT_BUDGET = 40 * KB
REPEAT_VISIT_BUDGET = 6 * KB
SWITCH_BYTES_BUDGET = 3 * KB
DASHBOARD_P95_BUDGET_MS = 20.0  # bench/scale.py's budget for /clients
BROWSER_ENCODINGS = b"gzip, deflate, br, zstd"
LANGUAGES = ("en", "cy")

Asgi = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]],
                Awaitable[None]]


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.ms = 0.0

    @property
    def header_bytes(self) -> int:
        """The response's status line and headers as HTTP/1.1 would send them."""
        return len(b"HTTP/1.1 200 OK\r\n") + sum(len(k) + len(v) + 4 for k, v in self.headers) + 2

    def header(self, name: bytes) -> str:
        return next((v.decode() for k, v in self.headers if k.lower() == name), "")


async def call(app: Asgi, path_and_query: str, headers: list[tuple[bytes, bytes]]) -> Answer:
    path, _, query = path_and_query.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"bench"), *headers], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "app": app}
    answer = Answer()
    received: list[bool] = []

    async def receive() -> dict[str, Any]:
        if received:  # a streamed response listens for a disconnect: there is none
            await asyncio.Event().wait()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = int(message["status"])
            answer.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    started = time.perf_counter()
    await app(scope, receive, send)
    answer.ms = (time.perf_counter() - started) * 1000
    return answer


def seed(data_dir: str) -> None:
    env = {**os.environ, "PORTAL_DATA_DIR": data_dir}
    for name in ("DATABASE_URL", "SECRET_KEY", "PORTAL_ENV"):  # always the development defaults
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "portal", "demo-data"], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def signed_in_cookie(app: Asgi) -> str:
    """The demo agent's session cookie, signed in through the pages (password, then the 2-step code)."""
    import pyotp
    from starlette.testclient import TestClient

    def token(html: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if not found:
            raise SystemExit("no csrf_token on the page")
        return found.group(1)

    with TestClient(app, follow_redirects=False) as client:  # type: ignore[arg-type]
        signed = client.post("/sign-in", data={"email": "agent@example.com", "password": "demo-password-2026",
                                               "csrf_token": token(client.get("/sign-in").text)})
        location = signed.headers.get("location", "")
        if location.startswith("/sign-in/second-step"):
            step = client.get(location)
            client.post(location, data={"code": pyotp.TOTP(DEMO_TOTP_SECRET).now(), "csrf_token": token(step.text)})
        if client.get("/clients").status_code != 200:
            raise SystemExit("could not sign in as the demo agent")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items() if name != "language")


def row(label: str, value: str, budget: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("PASS" if ok else "OVER")
    return f"  {label:<48} {value:>22}   {budget:<12} {verdict}"


def kb(n: float) -> str:
    return f"{n / KB:.2f} KB"


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * share) - 1)]


async def weigh(app: Asgi, cookie: str) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = {}
    for language in LANGUAGES:
        headers = [(b"cookie", f"{cookie}; language={language}".encode()), (b"accept-encoding", BROWSER_ENCODINGS)]
        page = await call(app, "/clients", headers)
        if page.status != 200 or page.header(b"content-encoding") not in ("br", "gzip"):
            encoding = page.header(b"content-encoding") or "not compressed"
            raise SystemExit(f"/clients in {language}: {page.status}, {encoding}")
        plain = await call(app, "/clients", [(b"cookie", f"{cookie}; language={language}".encode())])
        if f'<html lang="{language}"'.encode() not in plain.body:
            raise SystemExit(f"/clients did not come back in {language}")
        html = plain.body.decode()
        statics = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
        static_bytes = 0
        for url in dict.fromkeys(statics):
            asset = await call(app, url, [(b"accept-encoding", BROWSER_ENCODINGS)])
            static_bytes += len(asset.body) + asset.header_bytes
        first_client = re.search(r'href="(/clients/\d+)"', html)
        if not first_client:
            raise SystemExit("no client on the dashboard")
        switch = await call(app, first_client.group(1), [*headers, (b"hx-request", b"true")])
        figures[language] = {
            "html": len(page.body), "html_headers": page.header_bytes, "static": static_bytes,
            "switch": len(switch.body) + switch.header_bytes, "uncompressed": len(plain.body),
            "encoding": {"br": 1, "gzip": 2}.get(page.header(b"content-encoding"), 0),
        }
    return figures


async def time_pages(app: Asgi, baseline: Asgi, cookie: str, rounds: int,
                     requests: int) -> dict[str, list[list[float]]]:
    targets: dict[str, tuple[Asgi, str, list[tuple[bytes, bytes]]]] = {
        "baseline": (baseline, "/", [(b"accept-encoding", b"gzip")]),
        **{language: (app, "/clients", [(b"cookie", f"{cookie}; language={language}".encode()),
                                         (b"accept-encoding", b"gzip")]) for language in LANGUAGES},
    }
    for name, (target, path, headers) in targets.items():  # warm up: templates compiled, catalogue read
        for _ in range(20):
            answer = await call(target, path, headers)
            if answer.status != 200:
                raise SystemExit(f"{name} answered {answer.status}")
    timings: dict[str, list[list[float]]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (target, path, headers) in targets.items():
            timings[name].append([(await call(target, path, headers)).ms for _ in range(requests)])
    return timings


def report(figures: dict[str, dict[str, int]], timings: dict[str, list[list[float]]]) -> None:
    en, cy = figures["en"], figures["cy"]
    names = {1: "br", 2: "gzip", 0: "none"}
    print("\nPage weight of /clients (compressed bytes; 1 KB = 1,024 bytes)")
    print(row("", "English / Welsh", "budget"))
    print(row("HTML body, uncompressed", f"{kb(en['uncompressed'])} / {kb(cy['uncompressed'])}"))
    print(row(f"HTML body, compressed ({names[cy['encoding']]})", f"{kb(en['html'])} / {kb(cy['html'])}"))
    print(row("  Welsh to English", f"{cy['html'] / en['html']:.2f}x"))
    for label, key_total, budget in (
        ("first visit: HTML + headers + static files", "first", FIRST_VISIT_BUDGET),
        ("repeat visit: HTML + headers", "repeat", REPEAT_VISIT_BUDGET),
        ("htmx client switch: partial + headers", "switch", SWITCH_BYTES_BUDGET),
    ):
        values = {}
        for language, f in figures.items():
            values[language] = {"first": f["html"] + f["html_headers"] + f["static"],
                                "repeat": f["html"] + f["html_headers"], "switch": f["switch"]}[key_total]
        print(row(label, f"{kb(values['en'])} / {kb(values['cy'])}", f"<= {kb(budget)}", values["cy"] <= budget))

    print("\nServer time of /clients, in-process (ms), alternated with the baseline (bench/minimal_app.py)")
    flat = {name: [t for batch in batches for t in batch] for name, batches in timings.items()}
    print(row("", "p50 / p95"))
    for name, label in (("baseline", "baseline (minimal app)"), ("en", "/clients in English"),
                        ("cy", "/clients in Welsh")):
        p50, p95 = statistics.median(flat[name]), percentile(flat[name], 0.95)
        if name == "baseline":
            print(row(label, f"{p50:.2f} / {p95:.2f}"))
        else:
            print(row(label, f"{p50:.2f} / {p95:.2f}", f"p95 <= {DASHBOARD_P95_BUDGET_MS:.0f} ms",
                      p95 <= DASHBOARD_P95_BUDGET_MS))
    per_round = [statistics.median(cy_batch) / statistics.median(en_batch)
                 for cy_batch, en_batch in zip(timings["cy"], timings["en"], strict=True)]
    print(row("Welsh to English, p50", f"{statistics.median(flat['cy']) / statistics.median(flat['en']):.2f}x"))
    print("    per round: " + ", ".join(f"{ratio:.2f}x" for ratio in per_round))
    for name, label in (("en", "English: baseline time / page time"), ("cy", "Welsh: baseline time / page time")):
        share = statistics.median(flat["baseline"]) / statistics.median(flat[name])
        print(row(label, f"{share:.0%}"))
    print("    (in-process, without HTTP's fixed cost per request, so far below bench/throughput.py's requests/s\n"
          "     share, whose >= 30% budget is over HTTP; Welsh keeps within it when Welsh to English is near 1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="requests per target per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-welsh-") as data_dir:
        print(f"Seeding demo data into {data_dir} ...", flush=True)
        seed(data_dir)
        os.environ["PORTAL_DATA_DIR"] = data_dir
        for name in ("DATABASE_URL", "SECRET_KEY", "PORTAL_ENV"):
            os.environ.pop(name, None)
        from bench.minimal_app import app as baseline
        from portal.app import create_app

        app = create_app()
        cookie = signed_in_cookie(app)
        figures = asyncio.run(weigh(app, cookie))
        timings = asyncio.run(time_pages(app, baseline, cookie, args.rounds, args.requests))  # type: ignore[arg-type]
        report(figures, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
