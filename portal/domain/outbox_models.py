"""The email outbox's tables (portal.domain.outbox): an email recorded with the change that causes it, and every
attempt to deliver it. Change through migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

from portal.domain.models import utcnow


class OutboxEmail(SQLModel, table=True):
    """An email to send, written in the same transaction as the change that causes it (portal.domain.outbox):
    a change that rolls back leaves none, and one that commits is never forgotten. Senders claim a row with a
    compare-and-set UPDATE and a lease, so two senders never both hold it."""

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_email_due", "status", "next_attempt_at"),)
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    # The Message-ID every attempt carries: a copy resent after a crash is recognisably the same email.
    message_id: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=40)  # the template under portal/templates/emails/
    to_address: str = Field(max_length=254)
    language: str = Field(max_length=2)
    # What the template needs: names, dates (ISO) and paths (joined to the base URL when it is rendered).
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending, sent or failed (kept, listed, retryable)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claim_token: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class OutboxAttempt(SQLModel, table=True):
    """Every delivery attempt, with its outcome: what an operator reads when an email is late."""

    __tablename__ = "outbox_attempt"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    email_id: int = Field(foreign_key="outbox_email.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    sender: str = Field(max_length=120)  # host and process that tried
    outcome: str = Field(max_length=10)  # "sent", "retry" or "failed"
    error: str | None = Field(default=None, sa_column=Column(Text))
