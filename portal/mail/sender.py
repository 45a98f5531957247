"""The sender: claims due outbox rows one at a time and hands them to the relay, recording every attempt.

Each step is its own short transaction: claim (commit), talk to the relay (no transaction open, so no lock is
held while a slow relay answers), then record the outcome (commit). Several senders may run at once on any
number of hosts: the claim is a compare-and-set with a lease (portal.domain.outbox), so each email is held by
one sender at a time. Guarantee: at least once, with a stable Message-ID (README, "Email").
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain import outbox
from portal.domain.models import utcnow
from portal.domain.outbox_models import OutboxEmail
from portal.domain.sql import unit_of_work
from portal.mail import render, transport
from portal.settings import Settings

log = logging.getLogger("portal.mail")


@dataclass
class Delivered:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Sender:
    def __init__(self, engine: Engine, settings: Settings, *, via: transport.Transport | None = None,
                 name: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.settings = engine, settings
        self.transport = via or transport.transport_for(settings)
        self.name = name or sender_name()
        self.clock = clock
        self.lease = timedelta(seconds=settings.mail_lease_seconds)

    def run_once(self, *, limit: int = 200) -> Delivered:
        """Delivers what is due now (up to `limit`). Stops early when the relay fails for a reason that is not
        the email's: the others wait for the next round rather than each knocking on a dead relay."""
        done = Delivered()
        try:
            with unit_of_work(self.engine) as db:
                due = outbox.due_ids(db, now=self.clock(), limit=limit)
            for email_id in due:
                outcome = self.deliver(email_id)
                if outcome == outbox.SENT:
                    done.sent += 1
                elif outcome == outbox.FAILED:
                    done.failed += 1
                elif outcome == outbox.PENDING:
                    done.retrying += 1
                    break
        finally:
            self.transport.close()
        return done

    def deliver(self, email_id: int) -> str | None:
        """One email: claim, send, record. None if another sender holds it or it is already done."""
        with unit_of_work(self.engine) as db:
            held = outbox.claim(db, email_id, now=self.clock(), lease=self.lease)
        if held is None:
            return None
        with Session(self.engine) as db:
            email = db.get(OutboxEmail, email_id)
            assert email is not None
            db.expunge(email)
        try:
            rendered = render.render(email.kind, email.language, email.context, base_url=self.settings.base_url)
            self.transport.send(transport.build(email, rendered, self.settings, readable=self.transport.readable))
        except transport.PermanentFailure as refused:
            return self._failed(held, f"refused: {refused}", permanent=True)
        except Exception as error:  # noqa: BLE001 (any failure is recorded on the email, which is kept)
            return self._failed(held, f"{type(error).__name__}: {error}", permanent=False)
        with unit_of_work(self.engine) as db:
            if not outbox.mark_sent(db, held, sender=self.name, now=self.clock()):
                log.warning("email %s was sent after its lease ran out; another sender may send it again", email_id)
        return outbox.SENT

    def _failed(self, held: outbox.Claim, error: str, *, permanent: bool) -> str:
        log.warning("email %s not sent: %s", held.email_id, error)
        with unit_of_work(self.engine) as db:
            return outbox.mark_failed(db, held, sender=self.name, now=self.clock(), error=error, permanent=permanent)
