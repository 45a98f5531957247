"""Every table but the sign-in, API, team and email outbox ones (account_, api_, team_, outbox_models.py). Change
through migrations."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    String,
    UniqueConstraint,
    delete,
    event,
    false,
    insert,
    inspect,
    text,
    true,
)
from sqlalchemy.orm import Mapper
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

from portal.domain.sql import table_of

# ROW_IDS: every table's `id` is None from the constructor until the row is flushed, when the database assigns
# it. It is typed `int`, not `int | None`, because every id the code reads belongs to a stored row: a query's
# result, or a row just added and flushed. (SQLModel never validates a table model's defaults.)


def utcnow() -> datetime:
    # SQLModel stores aware datetimes as UTC (timestamptz on PostgreSQL) and refuses naive ones.
    return datetime.now(UTC)


class User(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    # None until the person follows a link sent to the address (older accounts: until they confirm it later).
    email_confirmed_at: datetime | None = None
    # When a forgotten password was last reset: how codes are received cannot change for 48 hours after it.
    password_reset_at: datetime | None = None
    # "en" or "cy": the language of the emails this person gets (the Welsh toggle sets it).
    language: str = Field(default="en", max_length=2, sa_column_kwargs={"server_default": "en"})
    # Emails when someone acting for this person changes their details or sends a return; they may turn them off.
    emails_on_behalf: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class UserSession(SQLModel, table=True):
    """The server side of a signed session cookie: sign-out and expiry end it here, not in the browser."""

    __tablename__ = "user_session"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    # Only a hash of the cookie's token is stored, so a copy of the database cannot be replayed as sessions.
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    # False while only the password (or an emailed link) has been checked: such a session reaches nothing but
    # the second-step pages (portal.web.sessions.require_viewer refuses it everywhere else).
    second_step_done: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # When the person last proved themselves again (second step, or password): changing methods needs it recent.
    reauthenticated_at: datetime | None = None
    user_agent: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    # Answers to question pages in progress, by journey name: kept on the server, so nothing the person
    # typed is lost between pages and nothing they typed can be altered in a hidden field.
    journeys: dict[str, Any] = Field(default_factory=dict,
                                     sa_column=Column(JSON, nullable=False, server_default="{}"))


class Firm(SQLModel, table=True):
    """An agent services account."""

    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    arn: str = Field(max_length=11, unique=True)
    name: str = Field(max_length=160)
    email: str = Field(max_length=254)
    address_line1: str = Field(default="", max_length=100)
    address_line2: str = Field(default="", max_length=100)
    town: str = Field(default="", max_length=60)
    postcode: str = Field(default="", max_length=8)
    amls_body: str = Field(default="", max_length=100)
    amls_number: str = Field(default="", max_length=40)
    link_uid: str = Field(max_length=8, unique=True)  # the firm's one static client-link code (domain.md §2.6)
    access_groups_enabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # The firm chooses whether its contact address gets a copy of each email about its clients' authorisations.
    contact_gets_copies: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Membership(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id", index=True)
    user_id: int = Field(foreign_key="user.id", unique=True)  # one agent services account per person
    role: str = Field(max_length=10)  # "admin" or "standard"


class Taxpayer(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    client_type: str = Field(max_length=10)  # "personal", "business" or "trust"
    name: str = Field(max_length=160)
    date_of_birth: date | None = None
    address_line1: str = Field(default="", max_length=100)
    address_line2: str = Field(default="", max_length=100)
    town: str = Field(default="", max_length=60)
    postcode: str = Field(default="", max_length=8)
    country: str = Field(default="GB", max_length=2)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=30)
    # Main home in Scotland: Scottish rates on non-savings income. Recorded, never guessed from the postcode (a
    # Scottish postcode is not a Scottish taxpayer, nor the reverse); each final declaration keeps what it used.
    scottish_taxpayer: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    owner_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class TaxpayerNameWord(SQLModel, table=True):
    """Each word of a taxpayer's name, lower-cased, for name searches (portal.domain.names). Kept in step with
    Taxpayer.name by the listeners at the end of this module; bulk inserts (portal.devdata.scale) add their own."""

    __tablename__ = "taxpayer_name_word"
    # Binary order on both databases, so a word range (from "smi" to "smi{") is a plain index range.
    word: str = Field(sa_column=Column(String(160).with_variant(String(160, collation="C"), "postgresql"),
                                       primary_key=True))
    taxpayer_id: int = Field(foreign_key="taxpayer.id", primary_key=True, index=True)


class TaxpayerIdentifier(SQLModel, table=True):
    """A tax reference, with the known facts that belong to that registration."""

    __tablename__ = "taxpayer_identifier"
    __table_args__ = (UniqueConstraint("kind", "value"),)
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    taxpayer_id: int = Field(foreign_key="taxpayer.id", index=True)
    kind: str = Field(max_length=10)  # portal.domain.identifiers.IdentifierKind
    value: str = Field(max_length=20)  # normalised
    registered_on: date | None = None  # VAT, PPT and Pillar 2 registration dates
    contact_email: str | None = Field(default=None, max_length=254)  # CBC's known fact


class FirmClient(SQLModel, table=True):
    """A taxpayer on a firm's client list: present while the firm holds at least one authorisation."""

    __tablename__ = "firm_client"
    # The list's order, with the kept columns every list filters on (group_set_id, regime_bits): a list that skips
    # many clients walks this index alone, never the rows (0016).
    __table_args__ = (Index("ix_firm_client_firm_sort", "firm_id", "sort_name", "taxpayer_id", "group_set_id",
                            "regime_bits"),
                      # What's due asks of each obligation's client whether the person may see it: answered from
                      # the index alone (0016; PostgreSQL read the client rows otherwise, 38 ms a page, 25 so).
                      Index("ix_firm_client_groups", "firm_id", "taxpayer_id", "group_set_id"),
                      # Partial, so only a reference search uses it (not a plain firm_id lookup: see 0014).
                      Index("ix_firm_client_reference", "firm_id", "client_reference_key",
                            sqlite_where=text("client_reference_key IS NOT NULL"),
                            postgresql_where=text("client_reference_key IS NOT NULL")))
    firm_id: int = Field(foreign_key="firm.id", primary_key=True)
    taxpayer_id: int = Field(foreign_key="taxpayer.id", primary_key=True, index=True)
    # A lower-cased copy of the name, so a firm's list pages in name order straight off the index.
    sort_name: str = Field(max_length=160)
    client_reference: str | None = Field(default=None, max_length=80)
    # The reference as searched (reference_key, kept in step by a listener below), in binary order on both databases.
    client_reference_key: str | None = Field(default=None, sa_column=Column(
        String(80).with_variant(String(80, collation="C"), "postgresql"), nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    # Kept by portal.domain.group_sets wherever what they say can change, never set anywhere else: the client's
    # access groups (an access_group_set; None: in no group) and the regimes the firm holds a live authorisation
    # for (group_sets.REGIME_BITS, or-ed). Lists and the gate read them instead of working groups out per client.
    group_set_id: int | None = Field(default=None, foreign_key="access_group_set.id")
    regime_bits: int = Field(default=0)


class Authorisation(SQLModel, table=True):
    """A live or ended relationship: a firm may act for a taxpayer for one tax service."""

    __table_args__ = (
        # One agent per service per client; only MTD Income Tax supporting agents may be many (domain.md §2.5).
        Index(
            "uq_authorisation_one_agent_per_service",
            "taxpayer_id",
            "service",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"),
            postgresql_where=text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"),
        ),
        Index(
            "uq_authorisation_active_firm_service",
            "firm_id",
            "taxpayer_id",
            "service",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_authorisation_firm_service", "firm_id", "service", "taxpayer_id"),
        Index("ix_authorisation_taxpayer", "taxpayer_id", "firm_id", "regime"),
        # What's due asks "does the firm act for this client in this regime?" per obligation: answered from
        # the index alone (ended_at is in it so SQLite counts it as covering).
        Index("ix_authorisation_live_firm", "firm_id", "taxpayer_id", "regime", "ended_at",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        # The API's client list walks a firm's live authorisations in id order, a page at a time (keyset): each
        # page a seek here, whatever the other firms hold.
        Index("ix_authorisation_live_firm_id", "firm_id", "id",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        # A tax-service access group's clients, one range a group (portal.domain.group_sets, keeping client sets).
        Index("ix_authorisation_live_firm_regime", "firm_id", "regime", "taxpayer_id",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id")
    taxpayer_id: int = Field(foreign_key="taxpayer.id")
    service: str = Field(max_length=24)  # portal.domain.services key, e.g. "HMRC-MTD-VAT"
    regime: str = Field(max_length=10)  # the service's regime, kept here so obligations join on it
    request_id: int | None = Field(default=None, foreign_key="authorisation_request.id")
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    ended_by: str | None = Field(default=None, max_length=10)  # "agent", "client" or "hmrc"


class AuthorisationRequest(SQLModel, table=True):
    __tablename__ = "authorisation_request"
    __table_args__ = (
        # One pending request per firm, client and regime (ITSA main and supporting count as one).
        Index(
            "uq_authorisation_request_pending",
            "firm_id",
            "taxpayer_id",
            "regime",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_authorisation_request_firm_created", "firm_id", "created_at"),
    )
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id")
    taxpayer_id: int = Field(foreign_key="taxpayer.id", index=True)
    service: str = Field(max_length=24)
    regime: str = Field(max_length=10)
    status: str = Field(default="pending", max_length=12)
    created_by_user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_on: date
    responded_at: datetime | None = None
    responded_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    ended_by: str | None = Field(default=None, max_length=10)


class HelperLink(SQLModel, table=True):
    """A trusted helper (friend or relative) a person has appointed."""

    __tablename__ = "helper_link"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    taxpayer_id: int = Field(foreign_key="taxpayer.id", index=True)
    invited_email: str = Field(max_length=254)
    # The link the person passes to their helper carries a random token; only its hash is kept.
    invite_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    helper_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    status: str = Field(default="invited", max_length=10)  # invited, active, ended, declined, withdrawn
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = Field(default=None, max_length=10)  # "client" or "helper"


class Business(SQLModel, table=True):
    """An Income Tax income source (self-employment or property): quarterly updates are per business."""

    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    taxpayer_id: int = Field(foreign_key="taxpayer.id", index=True)
    kind: str = Field(max_length=20)  # "self-employment", "uk-property" or "foreign-property"
    name: str = Field(max_length=120)  # the trading name, or a description of the property business


class Obligation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("taxpayer_id", "regime", "period_key"),
        Index("ix_obligation_taxpayer_due", "taxpayer_id", "due_date"),
        # What's due pages through outstanding obligations soonest first, in the order of this index.
        Index("ix_obligation_open_due", "due_date", "taxpayer_id", "id", "regime", "fulfilled_on",
              sqlite_where=text("fulfilled_on IS NULL"), postgresql_where=text("fulfilled_on IS NULL")),
        # A client's next deadline (the client list shows one per row): their open obligations, soonest first.
        Index("ix_obligation_open_taxpayer", "taxpayer_id", "due_date", "regime", "fulfilled_on",
              sqlite_where=text("fulfilled_on IS NULL"), postgresql_where=text("fulfilled_on IS NULL")),
    )
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    taxpayer_id: int = Field(foreign_key="taxpayer.id")
    regime: str = Field(max_length=10)  # portal.domain.services regime, e.g. "VAT", "ITSA"
    kind: str = Field(max_length=30)  # e.g. "VAT return", "Quarterly update"
    business_id: int | None = Field(default=None, foreign_key="business.id")  # for Income Tax quarterly updates
    period_key: str = Field(max_length=20)
    period_start: date
    period_end: date
    due_date: date
    fulfilled_on: date | None = None
    amount_due_pence: int | None = None
    amount_paid_pence: int | None = None


class Submission(SQLModel, table=True):
    """A return or update sent for an obligation, with its receipt. One per obligation, enforced by the
    database: a double click, a second tab or a retried request finds the first one's receipt."""

    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    obligation_id: int = Field(foreign_key="obligation.id", unique=True)
    taxpayer_id: int = Field(foreign_key="taxpayer.id", index=True)
    regime: str = Field(max_length=10)
    kind: str = Field(max_length=30)
    reference: str = Field(max_length=24, unique=True)  # the receipt's submission reference
    submitted_at: datetime = Field(default_factory=utcnow)
    submitted_by_user_id: int = Field(foreign_key="user.id")
    authority: str = Field(max_length=10)  # "self" or "agent": who sent it, and as what
    firm_id: int | None = Field(default=None, foreign_key="firm.id")
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditEvent(SQLModel, table=True):
    """Who did what, for whom, under which authority: written in the same transaction as the change."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_taxpayer_at", "taxpayer_id", "at"),
        Index("ix_audit_event_firm_at", "firm_id", "at"),
        # The API's change feed: a firm's events after a cursor, in id order, without sorting them all each page.
        Index("ix_audit_event_firm_id", "firm_id", "id"),
    )
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    firm_id: int | None = Field(default=None, foreign_key="firm.id")
    taxpayer_id: int | None = Field(default=None, foreign_key="taxpayer.id")
    authority: str = Field(max_length=10)  # "self", "agent", "helper", "anonymous" or "system"
    action: str = Field(max_length=60)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RateLimitEvent(SQLModel, table=True):
    """One counted attempt. Held in the database so a limit holds across workers and restarts."""

    __tablename__ = "rate_limit_event"
    __table_args__ = (Index("ix_rate_limit_event_key_at", "key", "at"),)
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    key: str = Field(max_length=300)
    at: datetime = Field(default_factory=utcnow)


class ReminderSent(SQLModel, table=True):
    """One row per (request, reminder kind): the key that makes each scheduled reminder go once, whichever of
    several workers gets there first."""

    __tablename__ = "reminder_sent"
    request_id: int = Field(foreign_key="authorisation_request.id", primary_key=True)
    kind: str = Field(max_length=20, primary_key=True)  # "client-day-7", "client-day-16", "agent-expiring"
    at: datetime = Field(default_factory=utcnow)


# The words of a name, as portal.domain.names searches them. They live here because the listeners below keep
# the name index in step with Taxpayer.name, and names.py builds its queries on these tables.
_WORD = re.compile(r"[a-z0-9]+")


def name_words(name: str) -> list[str]:
    """The searchable words of a name or of what was typed, in order, without repeats."""
    return list(dict.fromkeys(_WORD.findall(name.lower())))


def word_rows(taxpayer_id: int, name: str) -> list[dict[str, object]]:
    return [{"taxpayer_id": taxpayer_id, "word": word} for word in name_words(name)]


_NAME_WORDS = table_of(TaxpayerNameWord)


@event.listens_for(Taxpayer, "after_insert")
def _index_name(_mapper: Mapper[Taxpayer], connection: Connection, taxpayer: Taxpayer) -> None:
    if rows := word_rows(taxpayer.id, taxpayer.name):
        connection.execute(insert(_NAME_WORDS), rows)


@event.listens_for(Taxpayer, "after_update")
def _reindex_name(_mapper: Mapper[Taxpayer], connection: Connection, taxpayer: Taxpayer) -> None:
    if inspect(taxpayer).attrs.name.history.has_changes():
        connection.execute(delete(_NAME_WORDS).where(_NAME_WORDS.c.taxpayer_id == taxpayer.id))
        _index_name(_mapper, connection, taxpayer)


def reference_key(reference: str | None) -> str | None:
    """A firm's client reference as it is searched: spaces collapsed, lower case ("HR 0042" and "hr  0042" alike)."""
    key = " ".join((reference or "").split()).lower()[:80]
    return key or None


@event.listens_for(FirmClient.client_reference, "set")
def _key_reference(target: FirmClient, value: str | None, _old: object, _initiator: object) -> None:
    target.client_reference_key = reference_key(value)
