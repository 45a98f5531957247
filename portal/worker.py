"""`python -m portal worker`: scheduled work (expiry, reminders) and the email sender, in one loop.

Safe on several hosts at once: expiry is a compare-and-set per request, each reminder has a unique key
(portal.domain.reminders) and each email a claim with a lease (portal.domain.outbox). It stops cleanly on
SIGTERM or Ctrl-C between two steps.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import date
from types import FrameType

from sqlalchemy.engine import Engine

from portal.domain import reminders
from portal.domain.sql import unit_of_work
from portal.mail.sender import Sender
from portal.settings import Settings

SCHEDULE_EVERY_SECONDS = 60.0  # reminders are by the day; once a minute finds a new day soon enough
log = logging.getLogger("portal.worker")


def scheduled_work(engine: Engine, *, today: date | None = None) -> reminders.Done:
    with unit_of_work(engine) as db:
        return reminders.run(db, today=today or date.today())


def run(engine: Engine, settings: Settings, stop: threading.Event, *, once: bool = False) -> None:
    sender = Sender(engine, settings)
    last_schedule = float("-inf")
    while not stop.is_set():
        try:
            if time.monotonic() - last_schedule >= SCHEDULE_EVERY_SECONDS:
                done = scheduled_work(engine)
                last_schedule = time.monotonic()
                if done.expired or done.client_reminders or done.agent_reminders:
                    log.info("recorded %s expired request(s); %s client and %s agent reminder(s)",
                             done.expired, done.client_reminders, done.agent_reminders)
            sender.run_once()
        except Exception:  # a database restart, say: log it and try again next round, never stop the worker
            log.exception("worker round failed")
        if once:
            return
        stop.wait(settings.worker_poll_seconds)


def stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
