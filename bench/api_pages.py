"""The API at scale: walking a 100,000-client firm's client list by cursor, and reading its change feed, server time
per page.

    .venv/bin/python bench/api_pages.py                      # SQLite, var/bench/scale-100000.db (made if missing)
    .venv/bin/python bench/api_pages.py --clients 10000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Uses bench/scale.py's firms. A token is granted to the firm's administrator straight in the database (the OAuth
dance has its own tests), the rate limit is lifted for the run (it would make this a benchmark of sleeping), and
each page is timed in-process through the ASGI app: the server's time, without HTTP. Prints p50/p95 per page.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

PAGE_BUDGET_MS = 50.0


def grant(url: str) -> tuple[str, str]:
    """(a bearer token for the scale firm's administrator, the firm's ARN)."""
    from sqlalchemy import select

    from portal.devdata import scale
    from portal.domain.accounts import token_hash
    from portal.domain.api_access import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_LIFE, SCOPES
    from portal.domain.models import ApiApplication, ApiToken, Firm, Membership, User, utcnow
    from portal.domain.sql import make_engine, unit_of_work

    engine = make_engine(url)
    token = secrets.token_urlsafe(32)
    with unit_of_work(engine) as db:
        user, firm = db.execute(select(User, Firm).join(Membership, Membership.user_id == User.id)
                                .join(Firm, Firm.id == Membership.firm_id)
                                .where(User.email == scale.AGENT_EMAIL)).one()
        application = ApiApplication(client_id=secrets.token_urlsafe(24), client_secret_hash=token_hash("bench"),
                                     name="Bench", redirect_uris=["http://127.0.0.1/callback"], owner_user_id=user.id)
        db.add(application)
        db.flush()
        db.add(ApiToken(application_id=application.id, user_id=user.id, scope=" ".join(SCOPES),
                        access_token_hash=token_hash(token), expires_in=ACCESS_TOKEN_SECONDS,
                        refresh_expires_at=utcnow() + REFRESH_TOKEN_LIFE))
        arn = firm.arn
    engine.dispose()
    return token, arn


def walk(url: str, token: str, arn: str, path: str, cursor_param: str, limit: int) -> tuple[int, int, list[float]]:
    """(pages, items, milliseconds per page) for every page of `path`."""
    from starlette.testclient import TestClient

    from portal.api import http
    from portal.app import create_app
    from portal.domain.sql import make_engine
    from portal.settings import Settings

    http.RATE_LIMIT = 10**9
    engine = make_engine(url)
    app = create_app(settings=Settings(database_url=url, secret_key="bench-" + "x" * 40), engine=engine)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.hmrc.2.0+json"}
    times: list[float] = []
    pages = items = 0
    cursor = ""
    with TestClient(app) as client:
        client.get(f"/agents/{arn}/{path}?limit={limit}", headers=headers)  # warm-up
        while True:
            started = time.perf_counter()
            response = client.get(f"/agents/{arn}/{path}?limit={limit}"
                                  + (f"&{cursor_param}={cursor}" if cursor else ""), headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            body = response.json()
            got = body.get("items", body.get("events", []))
            pages, items = pages + 1, items + len(got)
            next_cursor = body["next_cursor"]
            if not got or next_cursor in (None, cursor):
                break
            cursor = next_cursor
    engine.dispose()
    return pages, items, times


def main() -> None:
    from scale import ensure_firm, postgres_database  # bench/scale.py

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--sqlite-dir", default=str(REPO / "var" / "bench"))
    parser.add_argument("--postgres")
    args = parser.parse_args()
    urls = [("SQLite", f"sqlite:///{Path(args.sqlite_dir) / f'scale-{args.clients}.db'}")]
    if args.postgres:
        urls.append(("PostgreSQL", postgres_database(args.postgres, f"portal_scale_{args.clients}")))
    for label, url in urls:
        Path(args.sqlite_dir).mkdir(parents=True, exist_ok=True)
        ensure_firm(url, args.clients)
        token, arn = grant(url)
        print(f"\n{label}, {args.clients:,} clients, pages of {args.limit} (server time per page):")
        for name, path, param in (("client list", "relationships", "cursor"),
                                  ("change feed", "relationship-events", "after")):
            pages, items, times = walk(url, token, arn, path, param, args.limit)
            ordered = sorted(times)
            p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
            verdict = "PASS" if p95 <= PAGE_BUDGET_MS else "OVER"
            print(f"  {verdict}  {name:12} {pages:5} pages, {items:7,} items: p50 {statistics.median(times):6.1f} ms"
                  f"  p95 {p95:6.1f} ms  (budget p95 <= {PAGE_BUDGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
