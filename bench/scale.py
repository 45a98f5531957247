"""Server time and worker memory at scale: a firm of 100,000 clients (and one of 10,000), SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py                                  # SQLite only
    .venv/bin/python bench/scale.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Generates the firms on first use (`python -m portal generate-firm`) into var/bench/scale-<N>.db and, with
--postgres, into databases portal_scale_<N> on that server (kept for the next run). Every measurement runs in
a fresh worker process: it signs in, warms up, then times `await app(scope, receive, send)` in-process, so
the figures are the server's own time, without HTTP or a client. Prints PASS/OVER per line; exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEARCH_BUDGET_MS, WORKLIST_BUDGET_MS = 20.0, 50.0


CLIENT_REFERENCE = "SC-2004321"  # a client reference of the generated firm (portal.devdata.scale.client_reference)


def endpoints() -> list[tuple[str, str, float]]:
    from portal.devdata import scale
    from portal.domain import identifiers

    reference = identifiers.make_utr(scale.FIRST_SERIAL + 4_321)
    return [
        ("client search by name", "/clients?q=smith", SEARCH_BUDGET_MS),
        ("client search by reference", f"/clients?q={reference}", SEARCH_BUDGET_MS),
        ("client search by client reference", f"/clients?q={CLIENT_REFERENCE}", SEARCH_BUDGET_MS),
        ("client search, reference's start", "/clients?q=SC-200432", SEARCH_BUDGET_MS),
        ("dashboard, first page", "/clients", SEARCH_BUDGET_MS),
        ("dashboard, My clients (?show=mine)", "/clients?show=mine", SEARCH_BUDGET_MS),
        ("dashboard, in no group (?group=none)", "/clients?group=none", SEARCH_BUDGET_MS),
        ("dashboard, one tax service (?service=VAT)", "/clients?service=VAT", SEARCH_BUDGET_MS),
        # An administrator's filters by the restricted user's group and by that user (--restricted sets them up).
        ("dashboard, one group (?group=...)", "/clients?group={group}", SEARCH_BUDGET_MS),
        ("dashboard, a member's clients (?member=...)", "/clients?member={member}", SEARCH_BUDGET_MS),
        ("what's due, first page", "/whats-due", WORKLIST_BUDGET_MS),
        ("what's due, page 50", "/whats-due?page=50", WORKLIST_BUDGET_MS),
        ("what's due, VAT overdue", "/whats-due?service=VAT&status=overdue", WORKLIST_BUDGET_MS),
        ("what's due, within 30 days, name", "/whats-due?within=30&client=smith", WORKLIST_BUDGET_MS),
        ("what's due, in no group (?group=none)", "/whats-due?group=none", WORKLIST_BUDGET_MS),
        ("what's due, one group (?group=...)", "/whats-due?group={group}", WORKLIST_BUDGET_MS),
    ]


def filter_ids(engine: Any, email: str) -> dict[str, int]:
    """The ids an administrator's filters name (the restricted user's group, and that user): none for anyone
    else, or before --restricted has set them up, and the endpoints that need them are left out."""
    from sqlalchemy import select
    from sqlmodel import col

    from portal.devdata import scale
    from portal.domain.models import User
    from portal.domain.team_models import AccessGroup
    with engine.begin() as connection:
        group = connection.execute(select(col(AccessGroup.id)).where(col(AccessGroup.name) == GROUP_NAME)).scalar()
        member = connection.execute(select(col(User.id)).where(col(User.email) == STAFF_EMAIL)).scalar()
    if email not in ("", scale.AGENT_EMAIL) or group is None or member is None:
        return {}
    return {"group": group, "member": member}


def ensure_client_references(url: str) -> None:
    """Firms generated before the generator wrote client references get them now, as it writes them: "SC-" and
    the client's serial (taxpayer ids follow the serials, from the firm's first client)."""
    from sqlalchemy import text

    from portal.devdata import scale
    from portal.domain.sql import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        firm_id = connection.execute(text(
            "SELECT m.firm_id FROM membership m JOIN \"user\" u ON u.id = m.user_id WHERE u.email = :e"),
            {"e": scale.AGENT_EMAIL}).scalar_one()
        if connection.execute(text("SELECT 1 FROM firm_client WHERE firm_id = :f AND client_reference IS NOT NULL"),
                              {"f": firm_id}).first() is None:
            first = connection.execute(text("SELECT min(taxpayer_id) FROM firm_client WHERE firm_id = :f"),
                                       {"f": firm_id}).scalar_one()
            serial = f"CAST(taxpayer_id - {int(first)} + {scale.FIRST_SERIAL} AS TEXT)"
            connection.execute(text(f"UPDATE firm_client SET client_reference = 'SC-' || {serial}, "
                                    f"client_reference_key = 'sc-' || {serial} WHERE firm_id = :f"), {"f": firm_id})
    engine.dispose()


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


STAFF_EMAIL = "scale-staff@example.com"
GROUP_NAME = "Bench group"  # the custom group the restricted user is in
GROUP_CLIENTS = 10_000


def ensure_restricted_user(url: str) -> dict[str, float]:
    """A standard user of the scale firm, restricted by access groups: the firm has groups on, a custom group of
    10,000 clients (added in one action: that action is timed) with this user in it, and a VAT tax-service group
    they are not in (made in one action, timed too: it takes in every VAT client), so the firm's clients are in
    both kinds of group."""
    from sqlalchemy import select

    from portal.devdata import scale
    from portal.domain import firm_access
    from portal.domain.firm_access import ClientChoice
    from portal.domain.models import Membership, User
    from portal.domain.sql import make_engine, unit_of_work

    engine = make_engine(url)
    timings: dict[str, float] = {}
    with unit_of_work(engine) as db:
        admin = db.execute(select(User).where(User.email == scale.AGENT_EMAIL)).scalar_one()
        if db.execute(select(User.id).where(User.email == STAFF_EMAIL)).first() is None:
            firm_id = db.execute(select(Membership.firm_id).where(Membership.user_id == admin.id)).scalar_one()
            staff = User(email=STAFF_EMAIL, name="Scale Test Standard User", password_hash=admin.password_hash)
            db.add(staff)
            db.flush()
            db.add(Membership(firm_id=firm_id, user_id=staff.id, role="standard"))
            firm_access.set_access_groups(db, firm_id=firm_id, actor_user_id=admin.id, enabled=True)
            group = firm_access.create_group(db, firm_id=firm_id, actor_user_id=admin.id, name=GROUP_NAME)
            firm_access.add_member(db, group, user_id=staff.id, actor_user_id=admin.id)
            # "Add all N matching" is the one action that adds thousands: timed on the tax-service filter that
            # matches nearest 10,000 clients.
            counts = {regime: firm_access.count_choice(db, ClientChoice(firm_id, regime=regime))
                      for regime in firm_access.GROUP_REGIMES}
            regime = min(counts, key=lambda r: abs(counts[r] - GROUP_CLIENTS))
            started = time.perf_counter()
            added = firm_access.add_clients(db, group, actor_user_id=admin.id,
                                            matching=ClientChoice(firm_id, regime=regime))
            timings[f"add all {added:,} matching {regime} clients to a group, one action (ms)"] = (
                (time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            firm_access.create_tax_service_group(db, firm_id=firm_id, actor_user_id=admin.id, regime="VAT",
                                                 name="VAT")
            timings[f"make a VAT tax-service group ({counts['VAT']:,} clients), one action (ms)"] = (
                (time.perf_counter() - started) * 1000)
    engine.dispose()
    return timings


def measure(url: str, requests: int, email: str = "") -> dict[str, object]:
    """In this process: sign in as the scale firm's administrator (or `email`) and time each endpoint."""
    import pyotp
    from starlette.testclient import TestClient

    from portal.app import create_app
    from portal.areas import worklist
    from portal.devdata import scale
    from portal.domain.sql import make_engine
    from portal.settings import Settings

    engine = make_engine(url)
    # A generated firm's people set their 2-step verification up at their first sign-in, with a secret this run
    # does not know: a bench database's second steps are forgotten, so every run sets one up again.
    from sqlalchemy import delete, select

    from portal.domain.account_models import RecoveryCode, SecondFactor
    from portal.domain.models import User
    with engine.begin() as connection:
        user_id = connection.execute(select(User.id).where(User.email == (email or scale.AGENT_EMAIL))).scalar_one()
        for model in (RecoveryCode, SecondFactor):
            connection.execute(delete(model).where(model.user_id == user_id))  # type: ignore[attr-defined]
    ids = filter_ids(engine, email)
    app = create_app(settings=Settings(database_url=url, secret_key="bench-" + "x" * 40), engine=engine)
    if not any(getattr(route, "path", "") == "/whats-due" for route in app.routes):
        app.router.routes.extend(worklist.routes)
    with TestClient(app, follow_redirects=False) as client:
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
        signed = client.post("/sign-in", data={"email": email or scale.AGENT_EMAIL, "password": scale.PASSWORD,
                                               "csrf_token": token})
        if signed.headers.get("location", "").startswith("/sign-in/set-up-2-step"):  # agents must have 2SV
            page = client.get(signed.headers["location"]).text
            secret = re.search(r"data-secret-key>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")  # type: ignore[union-attr]
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
            client.post(signed.headers["location"], data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    async def call(path_and_query: str) -> tuple[int, float]:
        path, _, query = path_and_query.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": [(b"host", b"bench"), (b"cookie", cookie.encode()),
                                              (b"accept-encoding", b"gzip")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "app": app}
        status: list[int] = []

        received: list[bool] = []

        async def receive() -> dict[str, object]:
            if received:  # a streamed response listens for a disconnect: there is none
                await asyncio.Event().wait()
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))  # type: ignore[arg-type]

        started = time.perf_counter()
        await app(scope, receive, send)
        return status[0], (time.perf_counter() - started) * 1000

    from bench.minimal_app import app as minimal_app

    async def baseline_call() -> float:
        """The baseline bench/throughput.py and bench/welsh.py use: bench/minimal_app.py's page, in-process."""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"bench"), (b"accept-encoding", b"gzip")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            return None

        started = time.perf_counter()
        await minimal_app(scope, receive, send)
        return (time.perf_counter() - started) * 1000

    async def run() -> dict[str, object]:
        results = {}
        for _ in range(20):
            await baseline_call()
        baseline: list[float] = []
        for name, target, _ in endpoints():
            if "{" in target and not ids:
                continue
            target = target.format(**ids)
            status, _ = await call(target)
            if status != 200:
                raise SystemExit(f"{target} answered {status}: is the firm generated and signed in?")
            for _ in range(20):
                await call(target)
            times: list[float] = []
            for _ in range(5):  # alternated with the baseline, so the machine's noise falls on both alike
                baseline += [await baseline_call() for _ in range(max(1, requests // 5))]
                times += [(await call(target))[1] for _ in range(max(1, requests // 5))]
            times.sort()
            results[name] = {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}
        baseline.sort()
        await call("/whats-due.csv")  # every row, streamed: memory must not grow with them
        return {"timings": results, "rss_kb": rss_kb(),
                "baseline": {"p50": statistics.median(baseline), "p95": baseline[int(len(baseline) * 0.95) - 1]}}

    outcome = asyncio.run(run())
    engine.dispose()
    return outcome


def ensure_firm(url: str, clients: int) -> None:
    from sqlalchemy import select

    from portal.devdata import scale
    from portal.domain.models import User
    from portal.domain.sql import make_engine
    from portal.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as connection:
        present = connection.execute(select(User.id).where(User.email == scale.AGENT_EMAIL)).first()
    engine.dispose()
    if not present:
        print(f"Generating {clients:,} clients into {url} ...", flush=True)
        subprocess.run([sys.executable, "-m", "portal", "generate-firm", "--clients", str(clients),
                        "--database-url", url], cwd=REPO, check=True)


def postgres_database(server_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def in_fresh_worker(url: str, requests: int, email: str = "") -> dict[str, object]:
    output = subprocess.run([sys.executable, __file__, "--measure", url, "--requests", str(requests),
                             *(["--as", email] if email else [])], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(result: dict[str, object]) -> None:
    """Each endpoint's p50/p95 against its budget, and its p50 as a multiple of the baseline's p50
    (bench/minimal_app.py, timed in the same process, alternated with it): the ratio is what compares across runs
    and machines."""
    baseline = result["baseline"]["p50"]  # type: ignore[index]
    print(f"        {'baseline (bench/minimal_app.py)':40} p50 {baseline:6.2f} ms")
    for name, _, budget in endpoints():
        if name not in result["timings"]:  # type: ignore[operator]
            continue  # an administrator's filter, for another person or before --restricted
        timing = result["timings"][name]  # type: ignore[index]
        verdict = "PASS" if timing["p95"] <= budget else "OVER"
        print(f"  {verdict}  {name:40} p50 {timing['p50']:6.1f} ms  p95 {timing['p95']:6.1f} ms"
              f"  p50 = {timing['p50'] / baseline:5.1f}x baseline  (budget p95 <= {budget:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (any database on it) to measure as well")
    parser.add_argument("--sqlite-dir", default=str(REPO / "var" / "bench"))
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller firm, for the memory comparison")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--as", dest="email", default="", help=argparse.SUPPRESS)
    parser.add_argument("--restricted", action="store_true",
                        help="also measure a standard user restricted by access groups (sets the groups up once)")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.requests, args.email)))
        return

    databases: list[tuple[str, dict[int, str]]] = [
        ("SQLite", {n: f"sqlite:///{Path(args.sqlite_dir) / f'scale-{n}.db'}" for n in (args.small, args.clients)})]
    if args.postgres:
        databases.append(("PostgreSQL", {n: postgres_database(args.postgres, f"portal_scale_{n}")
                                         for n in (args.small, args.clients)}))
    for label, urls in databases:
        memory = {}
        for clients, url in urls.items():
            ensure_firm(url, clients)
            ensure_client_references(url)
            result = in_fresh_worker(url, args.requests)
            memory[clients] = int(result["rss_kb"])  # type: ignore[call-overload]
            if clients != args.clients:
                continue
            print(f"\n{label}, {clients:,} clients, {args.requests} requests each after warm-up (server time):")
            report(result)
            if args.restricted:
                for step, value in ensure_restricted_user(url).items():
                    print(f"  {step}: {value:,.1f}")
                restricted = in_fresh_worker(url, args.requests, STAFF_EMAIL)
                print(f"  ... as a standard user restricted by access groups ({STAFF_EMAIL}):")
                report(restricted)
        small, big = memory[args.small], memory[args.clients]
        grew = (big - small) / small
        verdict = "PASS" if grew <= 0.10 else "OVER"
        print(f"  {verdict}  worker RSS after serving them: {small / 1024:.1f} MB with {args.small:,} clients, "
              f"{big / 1024:.1f} MB with {args.clients:,} ({grew:+.0%}; budget: no more than +10%)")


if __name__ == "__main__":
    main()
