"""The API at scale: walking a 100,000-client firm's client list by cursor, and reading its change feed, server time
per page, each as a ratio to a baseline measured in the same run.

    .venv/bin/python bench/api_pages.py                      # SQLite, var/bench/scale-100000.db (made if missing)
    .venv/bin/python bench/api_pages.py --clients 3000 --rounds 5
    .venv/bin/python bench/api_pages.py --clients 10000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/api_pages.py --explain            # also print each page's query plan

Uses bench/scale.py's firms. A token is granted to the firm's administrator straight in the database (the OAuth
dance has its own tests), the rate limit is lifted for the run (it would make this a benchmark of sleeping), and the
firm's change feed is filled once with one "request accepted" event per authorisation among twice as many other
audit events (the generator writes none). Each page is timed in-process, `await app(scope, receive, send)` as
bench/scale.py and bench/welsh.py do: the server's own time, with no HTTP or client in it.

Rounds alternate (baseline, client list, change feed, baseline, ...) so the machine's noise falls on all alike; the
baseline is bench/minimal_app.py (one small Jinja page). Prints p50/p95 per list, the p95 against the budget
(p95 <= 50 ms) and both as multiples of the baseline's p50 in the same run. Exits 0: it is a report, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

PAGE_BUDGET_MS = 50.0
V2 = b"application/vnd.hmrc.2.0+json"
FEED_MARK = "bench_feed_filled"  # an audit action: the feed has been filled for this firm


def grant(url: str) -> tuple[str, str]:
    """(a bearer token for the scale firm's administrator, the firm's ARN)."""
    from sqlalchemy import select

    from portal.devdata import scale
    from portal.domain.accounts import token_hash
    from portal.domain.api_access import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_LIFE, SCOPES
    from portal.domain.api_models import ApiApplication, ApiToken
    from portal.domain.models import Firm, Membership, User, utcnow
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
                        refresh_expires_at=utcnow() + REFRESH_TOKEN_LIFE, grant_id=secrets.token_hex(16)))
        arn = firm.arn
    engine.dispose()
    return token, arn


def fill_feed(url: str) -> int:
    """Once per database: for each of the scale firm's live authorisations, a "request accepted" event, and two
    events the feed must skip (a VAT return, a client reference), oldest first. How many feed events there are."""
    from datetime import timedelta

    from sqlalchemy import func, insert, select

    from portal.devdata import scale
    from portal.domain.models import AuditEvent, Authorisation, Membership, User, utcnow
    from portal.domain.sql import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        firm_id = connection.execute(select(Membership.firm_id).join(User, User.id == Membership.user_id)
                                     .where(User.email == scale.AGENT_EMAIL)).scalar_one()
        filled = connection.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.firm_id == firm_id, AuditEvent.action == FEED_MARK)).scalar_one()
        rows = connection.execute(select(Authorisation.taxpayer_id, Authorisation.service).where(
            Authorisation.firm_id == firm_id, Authorisation.ended_at.is_(None)).order_by(Authorisation.id)).all()
        if not filled:
            print(f"Filling the change feed: {len(rows):,} events among {2 * len(rows):,} others ...", flush=True)
            start = utcnow() - timedelta(days=365)
            events: list[dict[str, Any]] = []
            for n, (taxpayer_id, service) in enumerate(rows):
                at = start + timedelta(seconds=n * 60)
                common = {"firm_id": firm_id, "taxpayer_id": taxpayer_id, "authority": "agent"}
                events += [{**common, "at": at, "action": "vat_return_submitted", "detail": {"reference": "X"}},
                           {**common, "at": at, "action": "authorisation_request_accepted", "authority": "self",
                            "detail": {"service": service}},
                           {**common, "at": at, "action": "client_reference_changed", "detail": {}}]
                if len(events) >= 30_000:
                    connection.execute(insert(AuditEvent), events)
                    events = []
            events.append({"firm_id": firm_id, "taxpayer_id": None, "authority": "system", "at": utcnow(),
                           "action": FEED_MARK, "detail": {}})
            connection.execute(insert(AuditEvent), events)
    engine.dispose()
    return len(rows)


def explain(url: str, token: str, arn: str, limit: int) -> None:
    """The query plan of a middle page of each list, as the database runs it (SQLite: EXPLAIN QUERY PLAN;
    PostgreSQL: EXPLAIN ANALYZE)."""
    from sqlalchemy import event

    app, headers = _app(url, token)
    engine = app.state.engine
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM authorisation" in statement or "FROM audit_event" in statement:
            statements.append((statement, parameters))

    async def run() -> None:
        from welsh import call

        for path, param in (("relationships", "cursor"), ("relationship-events", "after")):
            first = json.loads((await call(app, f"/agents/{arn}/{path}?limit={limit}", headers)).body)
            await call(app, f"/agents/{arn}/{path}?limit={limit}&{param}={first['next_cursor']}", headers)

    asyncio.run(run())
    event.remove(engine, "before_cursor_execute", keep)
    seen = set()
    with engine.connect() as connection:
        for statement, parameters in statements:
            if statement in seen or "LIMIT" not in statement.upper():
                continue
            seen.add(statement)
            print("\n" + statement.strip().splitlines()[0][:100] + " ...")
            if engine.dialect.name == "sqlite":
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                    print("   ", row[3])
            else:
                for row in connection.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters):
                    print("   ", row[0])



def _app(url: str, token: str) -> tuple[Any, list[tuple[bytes, bytes]]]:
    from portal.api import http
    from portal.app import create_app
    from portal.domain.sql import make_engine
    from portal.settings import Settings

    http.RATE_LIMIT = 10**9
    app = create_app(settings=Settings(database_url=url, secret_key="bench-" + "x" * 40), engine=make_engine(url))
    return app, [(b"authorization", f"Bearer {token}".encode()), (b"accept", V2)]


async def walk(app: Any, headers: list[tuple[bytes, bytes]], arn: str, path: str, cursor_param: str,
               limit: int) -> tuple[int, list[float]]:
    """(items, milliseconds per page) for every page of `path`."""
    from welsh import call

    times: list[float] = []
    items = 0
    cursor = ""
    while True:
        answer = await call(app, f"/agents/{arn}/{path}?limit={limit}" + (f"&{cursor_param}={cursor}" if cursor
                                                                          else ""), headers)
        if answer.status != 200:
            raise SystemExit(f"{path} answered {answer.status}: {answer.body[:300]!r}")
        times.append(answer.ms)
        body = json.loads(answer.body)
        got = body.get("items", body.get("events", []))
        items += len(got)
        next_cursor = body["next_cursor"]
        if not got or next_cursor in (None, cursor):
            return items, times
        cursor = next_cursor


async def measure(url: str, token: str, arn: str, limit: int, rounds: int) -> dict[str, Any]:
    from minimal_app import app as baseline  # bench/minimal_app.py
    from welsh import call

    app, headers = _app(url, token)
    lists = (("client list", "relationships", "cursor"), ("change feed", "relationship-events", "after"))
    for _name, path, param in lists:  # warm-up: every statement compiled and cached, the database's pages read
        await walk(app, headers, arn, path, param, limit)
    for _ in range(20):
        await call(baseline, "/", [])
    times: dict[str, list[float]] = {"baseline": [], **{name: [] for name, _, _ in lists}}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(rounds):
        times["baseline"] += [(await call(baseline, "/", [])).ms for _ in range(50)]
        for name, path, param in lists:
            items, page_times = await walk(app, headers, arn, path, param, limit)
            times[name] += page_times
            counts[name] = (len(page_times), items)
    return {"times": times, "counts": counts}


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    from scale import ensure_firm, postgres_database  # bench/scale.py

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="walks of each list, alternated with the baseline")
    parser.add_argument("--sqlite-dir", default=str(REPO / "var" / "bench"))
    parser.add_argument("--postgres")
    parser.add_argument("--no-sqlite", action="store_true", help="with --postgres: PostgreSQL only")
    parser.add_argument("--explain", action="store_true", help="print the query plan of a page of each list")
    args = parser.parse_args()
    urls = [] if args.no_sqlite else [("SQLite", f"sqlite:///{Path(args.sqlite_dir) / f'scale-{args.clients}.db'}")]
    if args.postgres:
        urls.append(("PostgreSQL", postgres_database(args.postgres, f"portal_scale_{args.clients}")))
    for label, url in urls:
        Path(args.sqlite_dir).mkdir(parents=True, exist_ok=True)
        ensure_firm(url, args.clients)
        fill_feed(url)
        token, arn = grant(url)
        if args.explain:
            explain(url, token, arn, args.limit)
        result = asyncio.run(measure(url, token, arn, args.limit, args.rounds))
        times, counts = result["times"], result["counts"]
        base = statistics.median(times["baseline"])
        print(f"\n{label}, {args.clients:,} clients, pages of {args.limit}, {args.rounds} walks each (server time per "
              f"page; baseline bench/minimal_app.py p50 {base:.2f} ms in the same run):")
        for name in ("client list", "change feed"):
            pages, items = counts[name]
            p50, high = statistics.median(times[name]), p95(times[name])
            verdict = "PASS" if high <= PAGE_BUDGET_MS else "OVER"
            print(f"  {verdict}  {name:12} {pages:4} pages, {items:7,} items: p50 {p50:6.1f} ms  p95 {high:6.1f} ms"
                  f"  (budget p95 <= {PAGE_BUDGET_MS:.0f} ms)  = {p50 / base:5.1f}x / {high / base:5.1f}x baseline")


if __name__ == "__main__":
    main()
