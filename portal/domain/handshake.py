"""The digital handshake's rules (domain.md §2): requests, their lifecycle, and the authorisations they create.

Every rule is enforced here, on the server, whatever pages call it. Each transition is a compare-and-set
(UPDATE ... WHERE status = 'pending'), so a double click or two tabs make exactly one change, and each one
writes an audit event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from portal.domain import audit, group_sets, identifiers, notifications, ratelimits
from portal.domain.models import (
    Authorisation,
    AuthorisationRequest,
    Firm,
    FirmClient,
    Taxpayer,
    TaxpayerIdentifier,
    utcnow,
)
from portal.domain.services import BY_KEY, KnownFact, TaxService
from portal.domain.sql import contains_pattern, rowcount
from portal.i18n import N_

MAX_FAILED_LOOKUPS = 5  # the known-fact lock-out: 5 wrong guesses in 15 minutes, per person, pages and API alike
LOOKUP_WINDOW = timedelta(minutes=15)
EXPIRY_DAYS = 21
TRACKING_DAYS = 30
EXPIRY_WARNING_DAYS = 5
ITSA_MAIN, ITSA_SUPPORTING = "HMRC-MTD-IT", "HMRC-MTD-IT-SUPP"


class Status(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DEAUTHORISED = "deauthorised"


# How a request's status reads to the agent; translated where shown.
AGENT_STATUS_TEXT = {
    Status.PENDING: N_("Client has not yet responded"),
    Status.ACCEPTED: N_("Accepted by client"),
    Status.REJECTED: N_("Declined by client"),
    Status.CANCELLED: N_("Cancelled by you"),
    Status.EXPIRED: N_("Request expired as client did not respond in time"),
    Status.DEAUTHORISED: N_("Authorisation has been removed"),
}


class Refusal(StrEnum):
    """Why a request cannot be made or answered: each has its own page, never a generic error."""

    CLIENT_NOT_FOUND = "client_not_found"
    ALREADY_PENDING = "already_pending"
    ALREADY_AUTHORISED = "already_authorised"
    NOT_PENDING = "not_pending"


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


def effective_status(request: AuthorisationRequest, today: date) -> Status:
    """A request past its respond-by date reads as expired everywhere, without waiting for the sweep."""
    if request.status == Status.PENDING and request.expires_on < today:
        return Status.EXPIRED
    return Status(request.status)


def find_client(db: Session, service: TaxService, client_type: str, raw_identifier: str) -> Taxpayer | None:
    kind = identifiers.IdentifierKind(service.identifier)
    value = identifiers.normalise(kind, raw_identifier)
    return db.execute(
        select(Taxpayer)
        .join(TaxpayerIdentifier, col(TaxpayerIdentifier.taxpayer_id) == Taxpayer.id)
        .where(col(TaxpayerIdentifier.kind) == kind, col(TaxpayerIdentifier.value) == value,
               col(Taxpayer.client_type) == client_type)
    ).scalar_one_or_none()


class LookUp(StrEnum):
    TOO_MANY_ATTEMPTS = "too-many-attempts"
    CLIENT_NOT_FOUND = "client-not-found"
    KNOWN_FACT_MISMATCH = "known-fact-mismatch"  # the pages show both as client-not-found; HMRC's API tells them apart


def look_up_client(db: Session, *, user_id: int, service: TaxService, client_type: str, identifier: str,
                   known_fact: str | date | None) -> Taxpayer | LookUp:
    """The client these details identify, if the known fact matches. Each failed look-up counts towards the
    lock-out, held in the database so it holds across workers, restarts, and the pages and the API together."""
    key = ratelimits.limit_key("known-fact", str(user_id))
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=MAX_FAILED_LOOKUPS, window=LOOKUP_WINDOW, now=now):
        return LookUp.TOO_MANY_ATTEMPTS
    taxpayer = find_client(db, service, client_type, identifier)
    if taxpayer is None or not known_fact_matches(db, service, taxpayer, known_fact):
        ratelimits.record_attempt(db, key=key, window=LOOKUP_WINDOW, now=now)
        return LookUp.CLIENT_NOT_FOUND if taxpayer is None else LookUp.KNOWN_FACT_MISMATCH
    return taxpayer


def known_fact_matches(db: Session, service: TaxService, taxpayer: Taxpayer, supplied: str | date | None) -> bool:
    """The check that proves the agent knows the client (domain.md §1.2); services without one pass."""
    fact = service.known_fact
    if fact is None:
        return True
    if supplied is None or supplied == "":
        return False
    if fact is KnownFact.POSTCODE:
        return identifiers.normalise_postcode(str(supplied)) == identifiers.normalise_postcode(taxpayer.postcode)
    if fact is KnownFact.DATE_OF_BIRTH:
        return taxpayer.date_of_birth is not None and _as_date(supplied) == taxpayer.date_of_birth
    registration = db.execute(
        select(TaxpayerIdentifier).where(col(TaxpayerIdentifier.taxpayer_id) == taxpayer.id,
                                         col(TaxpayerIdentifier.kind) == service.identifier)
    ).scalar_one_or_none()
    if registration is None:
        return False
    if fact is KnownFact.CBC_EMAIL:  # compared case-insensitively (domain.md §7, row 7)
        return (registration.contact_email or "").lower() == str(supplied).strip().lower()
    return registration.registered_on is not None and _as_date(supplied) == registration.registered_on


def _as_date(value: str | date) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def active_authorisations(db: Session, *, firm_id: int, taxpayer_id: int) -> list[Authorisation]:
    return list(db.execute(
        select(Authorisation).where(col(Authorisation.firm_id) == firm_id,
                                    col(Authorisation.taxpayer_id) == taxpayer_id,
                                    col(Authorisation.ended_at).is_(None))
    ).scalars())


def check_can_request(db: Session, *, firm_id: int, service: TaxService, taxpayer: Taxpayer, today: date) -> None:
    """Raises Refused if this firm may not ask this client for this service now (domain.md §2.4)."""
    held = {a.service for a in active_authorisations(db, firm_id=firm_id, taxpayer_id=taxpayer.id)}
    if service.key in held:
        raise Refused(Refusal.ALREADY_AUTHORISED)
    pending = db.execute(
        select(col(AuthorisationRequest.id)).where(
            col(AuthorisationRequest.firm_id) == firm_id, col(AuthorisationRequest.taxpayer_id) == taxpayer.id,
            col(AuthorisationRequest.regime) == service.regime, col(AuthorisationRequest.status) == Status.PENDING,
            col(AuthorisationRequest.expires_on) >= today)
    ).first()
    if pending:
        raise Refused(Refusal.ALREADY_PENDING)


def create_request(db: Session, *, firm_id: int, user_id: int, service: TaxService, taxpayer: Taxpayer,
                   today: date) -> AuthorisationRequest:
    expire_overdue(db, today=today, firm_id=firm_id, taxpayer_id=taxpayer.id)
    check_can_request(db, firm_id=firm_id, service=service, taxpayer=taxpayer, today=today)
    request = AuthorisationRequest(firm_id=firm_id, taxpayer_id=taxpayer.id, service=service.key,
                                   regime=service.regime, created_by_user_id=user_id,
                                   expires_on=today + timedelta(days=EXPIRY_DAYS))
    try:
        with db.begin_nested():  # the unique index is the final word when two requests race
            db.add(request)
            db.flush()
    except IntegrityError:
        raise Refused(Refusal.ALREADY_PENDING) from None
    audit.record(db, "authorisation_request_created", authority="agent", actor_user_id=user_id, firm_id=firm_id,
                 taxpayer_id=taxpayer.id, service=service.key, request_id=request.id)
    return request


def _transition(db: Session, request_id: int, *, to: Status, today: date, **values: object) -> bool:
    """Pending -> `to`, only if still pending and in date. False if someone else got there first."""
    result = db.execute(
        update(AuthorisationRequest)
        .where(col(AuthorisationRequest.id) == request_id, col(AuthorisationRequest.status) == Status.PENDING,
               col(AuthorisationRequest.expires_on) >= today)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def cancel_request(db: Session, *, firm_id: int, user_id: int, request: AuthorisationRequest, today: date) -> None:
    if request.firm_id != firm_id or not _transition(db, request.id, to=Status.CANCELLED, today=today,
                                                     responded_at=utcnow(), ended_by="agent"):
        raise Refused(Refusal.NOT_PENDING)
    audit.record(db, "authorisation_request_cancelled", authority="agent", actor_user_id=user_id,
                 firm_id=firm_id, taxpayer_id=request.taxpayer_id, service=request.service, request_id=request.id)
    notifications.request_cancelled(db, request)


def decline_request(db: Session, *, user_id: int, request: AuthorisationRequest, today: date) -> None:
    if not _transition(db, request.id, to=Status.REJECTED, today=today, responded_at=utcnow(),
                       responded_by_user_id=user_id):
        raise Refused(Refusal.NOT_PENDING)
    audit.record(db, "authorisation_request_declined", authority="self", actor_user_id=user_id,
                 firm_id=request.firm_id, taxpayer_id=request.taxpayer_id, service=request.service,
                 request_id=request.id)
    notifications.request_answered(db, request, accepted=False, client_user_id=user_id)


def agents_replaced_by(db: Session, request: AuthorisationRequest) -> list[tuple[Authorisation, str]]:
    """(authorisation, firm name) that accepting `request` would end: the current agent for the service
    (except among MTD Income Tax supporting agents), and the same firm's other Income Tax role."""
    service = BY_KEY[request.service]
    condition: ColumnElement[bool]
    if service.key == ITSA_SUPPORTING:  # supporting agents are many; only this firm's own roles end
        condition = (col(Authorisation.firm_id) == request.firm_id) & col(Authorisation.service).in_(
            [ITSA_MAIN, ITSA_SUPPORTING])
    elif service.key == ITSA_MAIN:
        condition = (col(Authorisation.service) == ITSA_MAIN) | (
            (col(Authorisation.firm_id) == request.firm_id) & (col(Authorisation.service) == ITSA_SUPPORTING))
    else:
        condition = col(Authorisation.service) == service.key
    rows = db.execute(
        select(Authorisation, col(Firm.name)).join(Firm, col(Firm.id) == Authorisation.firm_id)
        .where(col(Authorisation.taxpayer_id) == request.taxpayer_id, col(Authorisation.ended_at).is_(None),
               condition)
    ).all()
    return [(authorisation, name) for authorisation, name in rows]


def lock_client(db: Session, taxpayer_id: int) -> None:
    """Serialises every handshake change for one client (two tabs accepting two firms' requests at once).
    PostgreSQL takes a row lock; SQLite already runs one writing request at a time (BEGIN IMMEDIATE)."""
    db.execute(select(col(Taxpayer.id)).where(col(Taxpayer.id) == taxpayer_id).with_for_update())


def accept_request(db: Session, *, user_id: int, request: AuthorisationRequest, today: date) -> Authorisation:
    lock_client(db, request.taxpayer_id)
    replacing = agents_replaced_by(db, request)
    # Every firm whose kept client sets this changes, before the first write (group_sets.lock_firms says why).
    group_sets.lock_firms(db, [request.firm_id, *(replaced.firm_id for replaced, _ in replacing)])
    if not _transition(db, request.id, to=Status.ACCEPTED, today=today, responded_at=utcnow(),
                       responded_by_user_id=user_id):
        raise Refused(Refusal.NOT_PENDING)
    for replaced, _firm_name in replacing:
        end_authorisation(db, replaced, ended_by="client", actor_user_id=user_id, authority="self",
                          replaced_by_firm_id=request.firm_id)
    service = BY_KEY[request.service]
    authorisation = Authorisation(firm_id=request.firm_id, taxpayer_id=request.taxpayer_id, service=service.key,
                                  regime=service.regime, request_id=request.id)
    db.add(authorisation)
    if db.get(FirmClient, (request.firm_id, request.taxpayer_id)) is None:
        taxpayer = db.get(Taxpayer, request.taxpayer_id)
        assert taxpayer is not None
        db.add(FirmClient(firm_id=request.firm_id, taxpayer_id=taxpayer.id, sort_name=taxpayer.name.lower()))
    db.flush()
    group_sets.refresh(db, request.firm_id, [request.taxpayer_id])  # its regimes, and any tax-service group
    audit.record(db, "authorisation_request_accepted", authority="self", actor_user_id=user_id,
                 firm_id=request.firm_id, taxpayer_id=request.taxpayer_id, service=service.key, request_id=request.id)
    notifications.request_answered(db, request, accepted=True, client_user_id=user_id)
    return authorisation


def end_authorisation(db: Session, authorisation: Authorisation, *, ended_by: str, actor_user_id: int,
                      authority: str, replaced_by_firm_id: int | None = None) -> None:
    """Ends a live authorisation. `ended_by` is recorded as domain.md §2.5 says: replacement counts as the
    client's doing. `replaced_by_firm_id`: the firm whose accepted request ended it (its email differs)."""
    group_sets.lock_firms(db, [authorisation.firm_id])
    result = db.execute(
        update(Authorisation).where(col(Authorisation.id) == authorisation.id, col(Authorisation.ended_at).is_(None))
        .values(ended_at=utcnow(), ended_by=ended_by).execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise Refused(Refusal.NOT_PENDING)
    if authorisation.request_id is not None:
        db.execute(update(AuthorisationRequest).where(col(AuthorisationRequest.id) == authorisation.request_id)
                   .values(status=Status.DEAUTHORISED, ended_by=ended_by))
    still_held = db.execute(select(exists().where(
        col(Authorisation.firm_id) == authorisation.firm_id,
        col(Authorisation.taxpayer_id) == authorisation.taxpayer_id,
        col(Authorisation.ended_at).is_(None)))).scalar()
    if not still_held:  # off the firm's client list at once: the gate and the list agree
        db.execute(delete(FirmClient).where(col(FirmClient.firm_id) == authorisation.firm_id,
                                            col(FirmClient.taxpayer_id) == authorisation.taxpayer_id))
    else:  # one tax service fewer, and out of its tax-service group
        group_sets.refresh(db, authorisation.firm_id, [authorisation.taxpayer_id])
    audit.record(db, "authorisation_ended", authority=authority, actor_user_id=actor_user_id,
                 firm_id=authorisation.firm_id, taxpayer_id=authorisation.taxpayer_id,
                 service=authorisation.service, ended_by=ended_by,
                 **({"replaced": True} if replaced_by_firm_id not in (None, authorisation.firm_id) else {}))
    if replaced_by_firm_id is not None:
        if replaced_by_firm_id != authorisation.firm_id:  # a firm switching its own role hears "accepted" only
            notifications.agent_replaced(db, authorisation, new_firm_id=replaced_by_firm_id)
    elif ended_by == "client":
        notifications.authorisation_removed_by_client(db, authorisation, client_user_id=actor_user_id)


def expire_overdue(db: Session, *, today: date, firm_id: int | None = None, taxpayer_id: int | None = None) -> int:
    """Records requests past their date as expired (the worker's sweep; also run before making a new one), and
    tells each one's agent. Row by row, each a compare-and-set, so with several workers each expiry (and its
    email) happens once."""
    query = select(AuthorisationRequest).where(col(AuthorisationRequest.status) == Status.PENDING,
                                               col(AuthorisationRequest.expires_on) < today)
    if firm_id is not None:
        query = query.where(col(AuthorisationRequest.firm_id) == firm_id)
    if taxpayer_id is not None:
        query = query.where(col(AuthorisationRequest.taxpayer_id) == taxpayer_id)
    expired = 0
    for overdue in list(db.execute(query).scalars()):
        result = db.execute(
            update(AuthorisationRequest)
            .where(col(AuthorisationRequest.id) == overdue.id, col(AuthorisationRequest.status) == Status.PENDING)
            .values(status=Status.EXPIRED).execution_options(synchronize_session=False))
        if rowcount(result) == 1:
            expired += 1
            # Recorded like every other end of a request, so the firm's activity and the API's change feed see it.
            audit.record(db, "authorisation_request_expired", authority="system", firm_id=overdue.firm_id,
                         taxpayer_id=overdue.taxpayer_id, service=overdue.service, request_id=overdue.id)
            notifications.request_expired(db, overdue)
    return expired


@dataclass(frozen=True)
class TrackedRequest:
    request: AuthorisationRequest
    client_name: str
    status: Status


def track_requests(db: Session, *, firm_id: int, today: date, client_name: str = "", status: str = "",
                   limit: int, offset: int) -> tuple[list[TrackedRequest], int]:
    """The firm's requests of the last 30 days, newest first (domain.md §2.7)."""
    since = utcnow() - timedelta(days=TRACKING_DAYS)
    conditions = [col(AuthorisationRequest.firm_id) == firm_id, col(AuthorisationRequest.created_at) >= since]
    if client_name:
        conditions.append(func.lower(col(Taxpayer.name)).like(contains_pattern(client_name), escape="\\"))
    pending_in_date = ((col(AuthorisationRequest.status) == Status.PENDING)
                       & (col(AuthorisationRequest.expires_on) >= today))
    if status == "expiring":
        conditions.append(pending_in_date & (col(AuthorisationRequest.expires_on) <= today + timedelta(
            days=EXPIRY_WARNING_DAYS)))
    elif status == Status.PENDING:
        conditions.append(pending_in_date)
    elif status == Status.EXPIRED:
        conditions.append((col(AuthorisationRequest.status) == Status.EXPIRED) | (
            (col(AuthorisationRequest.status) == Status.PENDING) & (col(AuthorisationRequest.expires_on) < today)))
    elif status:
        conditions.append(col(AuthorisationRequest.status) == status)
    base = select(AuthorisationRequest, col(Taxpayer.name)).join(
        Taxpayer, col(Taxpayer.id) == AuthorisationRequest.taxpayer_id).where(*conditions)
    total = db.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = db.execute(base.order_by(col(AuthorisationRequest.created_at).desc(), col(AuthorisationRequest.id).desc())
                      .limit(limit).offset(offset)).all()
    return [TrackedRequest(r, name, effective_status(r, today)) for r, name in rows], total
