"""Command line: `python -m portal serve | worker | outbox | migrate | demo-data | sweep | generate-firm`."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from datetime import date

import pyotp
import uvicorn

from portal import worker
from portal.devdata import demo
from portal.domain import audit, handshake, outbox
from portal.domain.accounts import end_every_session, end_sessions, find_user
from portal.domain.models import utcnow
from portal.domain.sql import make_engine, unit_of_work
from portal.migrate import upgrade
from portal.settings import SERVICE_NAME, Settings


def prepare(settings: Settings, *, with_demo_data: bool) -> demo.DemoAccounts | None:
    engine = make_engine(settings.database_url)
    upgrade(engine, secret_key=settings.secret_key)
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


def mail_destination(settings: Settings) -> str:
    if settings.smtp_host:
        return f"Emails go to the SMTP relay at {settings.smtp_host}:{settings.smtp_port}"
    return f"Emails are written as files to {settings.mail_dir.resolve()}/ (no SMTP_HOST set)"


def run_worker(args: argparse.Namespace) -> None:
    settings = Settings.from_environ()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = make_engine(settings.database_url)
    print(f"  Worker: reminders, expiry and email. {mail_destination(settings)}", flush=True)
    stop = threading.Event()
    worker.stop_on_signals(stop)
    try:
        worker.run(engine, settings, stop, once=args.once)
    finally:
        engine.dispose()


def show_outbox(args: argparse.Namespace) -> int:
    """For operators: emails that keep failing, and queueing one again."""
    settings = Settings.from_environ()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as db:
            if args.retry is not None:
                if not outbox.retry(db, args.retry, now=utcnow()):
                    print(f"No unsent email {args.retry}.")
                    return 1
                print(f"Email {args.retry} will be sent on the worker's next round.")
                return 0
            rows = outbox.failing(db)
            for email in rows:
                error = (email.last_error or "").splitlines()[0] if email.last_error else ""
                print(f"{email.id}\t{email.status}\t{email.attempts} attempt(s)"
                      f"\tsince {email.created_at:%Y-%m-%d %H:%M}\t{email.kind}\tto {email.to_address}"
                      f"\tnext {email.next_attempt_at:%Y-%m-%d %H:%M}\t{error}")
            print(f"{len(rows)} email(s) failing. Send one again with: python -m portal outbox --retry ID")
            return 1 if rows else 0
    finally:
        engine.dispose()


def end_sessions_command(args: argparse.Namespace) -> int:
    """For operators (ASVS 5.0 7.4.5): sign one person, or everyone, out on the server, at once."""
    settings = Settings.from_environ()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as db:
            if args.everyone:
                ended = end_every_session(db)
            else:
                user = find_user(db, args.email or "")
                if user is None:
                    print(f"No account with the email address {args.email}.")
                    return 1
                ended = end_sessions(db, user.id)
            audit.record(db, "sessions_ended_by_operator", authority="operator", count=ended,
                         everyone=bool(args.everyone))
        print(f"Ended {ended} session(s).")
        return 0
    finally:
        engine.dispose()


def serve(args: argparse.Namespace) -> None:
    settings = Settings.from_environ()
    accounts = prepare(settings, with_demo_data=not args.no_demo_data)
    print(f"\n  {SERVICE_NAME} is running at http://{args.host}:{args.port}/\n", flush=True)
    if accounts:
        print(f"  Sign in as an agent:      {accounts.agent_email}", flush=True)
        print(f"  or as a client:           {accounts.client_email}", flush=True)
        print(f"  Password (every account): {accounts.password}", flush=True)
        # Agents must pass 2-step verification: the demo agents share one authenticator app secret.
        print(f"  Agents' 6-digit code:     add the secret key {accounts.totp_secret} to any authenticator app,",
              flush=True)
        print(f"                            or type {pyotp.TOTP(accounts.totp_secret).now()} (good for about 30 "
              "seconds; `python -m portal demo-code` prints the current one)\n", flush=True)
    print(f"  {mail_destination(settings)}\n", flush=True)
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
    commands.add_parser("demo-code", help="the demo agents' current 2-step verification code")
    generate = commands.add_parser("generate-firm", help="add a firm with a very large book of clients, for "
                                                       "measuring pages at scale (bench/scale.py)")
    generate.add_argument("--clients", type=int, default=100_000)
    generate.add_argument("--database-url", help="default: DATABASE_URL, or the development database")
    commands.add_parser("sweep", help="record overdue authorisation requests as expired (run it daily; pages "
                                      "already show them as expired without it)")
    work = commands.add_parser("worker", help="run reminders, expiry and the email sender (safe on several hosts)")
    work.add_argument("--once", action="store_true", help="one round, then stop")
    box = commands.add_parser("outbox", help="list emails that keep failing, or queue one again")
    box.add_argument("--failed", action="store_true", help="list failing emails (the default)")
    box.add_argument("--retry", type=int, metavar="ID", help="send this email again on the next round")
    ending = commands.add_parser("end-sessions", help="sign one person (--email) or everyone (--everyone) out now")
    who = ending.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--everyone", action="store_true")
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
    elif args.command == "worker":
        run_worker(args)
    elif args.command == "outbox":
        sys.exit(show_outbox(args))
    elif args.command == "end-sessions":
        sys.exit(end_sessions_command(args))
    elif args.command == "demo-code":
        print(pyotp.TOTP(demo.DEMO_TOTP_SECRET).now())
    else:
        prepare(Settings.from_environ(), with_demo_data=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
