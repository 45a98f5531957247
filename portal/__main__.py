"""Command line: `python -m portal serve | migrate | demo-data`."""

from __future__ import annotations

import argparse
import sys
from datetime import date

import uvicorn

from portal.devdata import demo
from portal.domain import handshake
from portal.domain.sql import make_engine, unit_of_work
from portal.migrate import upgrade
from portal.settings import SERVICE_NAME, Settings


def prepare(settings: Settings, *, with_demo_data: bool) -> demo.DemoAccounts | None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    accounts = None
    if with_demo_data:
        with unit_of_work(engine) as db:
            accounts = None if demo.has_data(db) else demo.seed(db, settings)
        accounts = accounts or demo.DemoAccounts()
    engine.dispose()
    return accounts


def sweep(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with unit_of_work(engine) as db:
        expired = handshake.expire_overdue(db, today=date.today())
    engine.dispose()
    print(f"Recorded {expired} authorisation request(s) as expired.")


def serve(args: argparse.Namespace) -> None:
    settings = Settings.from_environ()
    accounts = prepare(settings, with_demo_data=not args.no_demo_data)
    print(f"\n  {SERVICE_NAME} is running at http://{args.host}:{args.port}/\n", flush=True)
    if accounts:
        print(f"  Sign in as an agent:      {accounts.agent_email}", flush=True)
        print(f"  or as a client:           {accounts.client_email}", flush=True)
        print(f"  Password (every account): {accounts.password}\n", flush=True)
    uvicorn.run("portal.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="warning", proxy_headers=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="migrate, add demo data to an empty database, and serve")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--no-demo-data", action="store_true")
    commands.add_parser("migrate", help="bring the database to the newest schema")
    commands.add_parser("demo-data", help="add demo data to an empty database")
    generate = commands.add_parser("generate-firm", help="add a firm with a very large book of clients, for "
                                                       "measuring pages at scale (bench/scale.py)")
    generate.add_argument("--clients", type=int, default=100_000)
    generate.add_argument("--database-url", help="default: DATABASE_URL, or the development database")
    commands.add_parser("sweep", help="record overdue authorisation requests as expired (run it daily; pages "
                                      "already show them as expired without it)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args)
    elif args.command == "migrate":
        prepare(Settings.from_environ(), with_demo_data=False)
    elif args.command == "generate-firm":
        from portal.devdata import scale

        settings = Settings.from_environ()
        sys.exit(scale.run(args.database_url or settings.database_url, args.clients, settings))
    elif args.command == "sweep":
        sweep(Settings.from_environ())
    else:
        prepare(Settings.from_environ(), with_demo_data=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
