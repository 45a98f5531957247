"""Which email goes to whom, in which language, for each event (issue 11, "Who gets what").

Each function is called by the rule where the event happens, inside its transaction, and only records emails
in the outbox (portal.domain.outbox); nothing here talks to a relay. The context holds plain values: names,
service keys, dates as ISO strings and paths, which the renderer (portal.mail.render) turns into sentences in
the recipient's language and absolute links from the configured base URL.

Language: the recipient's account's (User.language), or, for an address with no account (an invited helper, a
firm's contact address), the language of the person whose action sends it (i18n.current_language()).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from portal import i18n
from portal.domain import audit, email_links, outbox
from portal.domain.models import (
    Authorisation,
    AuthorisationRequest,
    Firm,
    HelperLink,
    Membership,
    Submission,
    Taxpayer,
    User,
)


@dataclass(frozen=True)
class Recipient:
    address: str
    language: str
    name: str = ""


def _user(db: Session, user_id: int | None) -> User | None:
    return db.get(User, user_id) if user_id is not None else None


def _as_recipient(user: User) -> Recipient:
    return Recipient(user.email, i18n.supported(user.language) or i18n.DEFAULT_LANGUAGE, user.name)


def _address_recipient(db: Session, address: str) -> Recipient:
    """An address that may or may not belong to an account: the account's language if it does."""
    user = db.execute(select(User).where(func.lower(col(User.email)) == address.strip().lower())).scalar_one_or_none()
    return _as_recipient(user) if user is not None else Recipient(address.strip(), i18n.current_language())


def agent_recipients(db: Session, firm: Firm, requester_user_id: int | None) -> list[Recipient]:
    """The agent who sent the request (if still in the firm) and, if the firm chose copies, its contact address.
    With nobody else to tell, the contact address is told regardless: an event about a client is never lost."""
    found: list[Recipient] = []
    requester = _user(db, requester_user_id)
    if requester is not None and db.execute(select(col(Membership.id)).where(
            col(Membership.user_id) == requester.id, col(Membership.firm_id) == firm.id)).first():
        found.append(_as_recipient(requester))
    if firm.email and (firm.contact_gets_copies or not found):
        if all(r.address.lower() != firm.email.lower() for r in found):
            found.append(_address_recipient(db, firm.email))
    return found


def client_recipient(db: Session, taxpayer: Taxpayer) -> Recipient | None:
    """The taxpayer's own account, if they have one (an email address is how they sign in)."""
    owner = _user(db, taxpayer.owner_user_id)
    return _as_recipient(owner) if owner is not None and owner.email else None


def _send(db: Session, kind: str, recipients: list[Recipient], context: dict[str, Any]) -> None:
    for recipient in recipients:
        outbox.enqueue(db, kind=kind, to=recipient.address, language=recipient.language,
                       context={**context, "recipient_name": recipient.name})


def _request_facts(db: Session, request: AuthorisationRequest) -> tuple[Firm, Taxpayer, dict[str, Any]]:
    firm, taxpayer = db.get(Firm, request.firm_id), db.get(Taxpayer, request.taxpayer_id)
    assert firm is not None and taxpayer is not None
    return firm, taxpayer, {
        "firm_name": firm.name, "client_name": taxpayer.name, "service": request.service,
        "expires_on": request.expires_on.isoformat(), "request_id": request.id,
        "track_path": email_links.link("track_requests"),
        "client_path": email_links.link("client_overview", client_id=taxpayer.id),
        "respond_path": email_links.link("authorisation_consent", request_id=request.id),
        "manage_path": email_links.link("manage_tax_agents"),
    }


# The handshake -----------------------------------------------------------------------------------------------

def request_answered(db: Session, request: AuthorisationRequest, *, accepted: bool, client_user_id: int) -> None:
    """The agent hears that the client accepted or declined; the client gets a confirmation."""
    firm, _taxpayer, context = _request_facts(db, request)
    _send(db, "request_accepted" if accepted else "request_declined",
          agent_recipients(db, firm, request.created_by_user_id), context)
    client = _user(db, client_user_id)
    if client is not None:
        _send(db, "client_accepted" if accepted else "client_declined", [_as_recipient(client)], context)


def request_expired(db: Session, request: AuthorisationRequest) -> None:
    firm, _taxpayer, context = _request_facts(db, request)
    _send(db, "request_expired", agent_recipients(db, firm, request.created_by_user_id), context)


def request_expiring(db: Session, request: AuthorisationRequest, *, today: date) -> None:
    firm, _taxpayer, context = _request_facts(db, request)
    context["days_left"] = (request.expires_on - today).days
    _send(db, "request_expiring", agent_recipients(db, firm, request.created_by_user_id), context)


def client_reminder(db: Session, request: AuthorisationRequest, *, today: date) -> bool:
    """A reminder to the client about a request still waiting; False if they have no account to email."""
    _firm, taxpayer, context = _request_facts(db, request)
    client = client_recipient(db, taxpayer)
    if client is None:
        return False
    context["days_left"] = (request.expires_on - today).days
    context["sign_in_email"] = client.address  # which sign-in to use: the account this tax record belongs to
    _send(db, "client_reminder", [client], context)
    return True


def request_cancelled(db: Session, request: AuthorisationRequest) -> None:
    """The client, if they have an account, is told not to look for the request any more."""
    _firm, taxpayer, context = _request_facts(db, request)
    if (client := client_recipient(db, taxpayer)) is not None:
        _send(db, "request_cancelled", [client], context)


def authorisation_removed_by_client(db: Session, authorisation: Authorisation, *, client_user_id: int) -> None:
    firm, taxpayer = db.get(Firm, authorisation.firm_id), db.get(Taxpayer, authorisation.taxpayer_id)
    assert firm is not None and taxpayer is not None
    context = {"firm_name": firm.name, "client_name": taxpayer.name, "service": authorisation.service,
               "manage_path": email_links.link("manage_tax_agents"), "track_path": email_links.link("track_requests")}
    _send(db, "authorisation_removed", agent_recipients(db, firm, _requester(db, authorisation)), context)
    if (client := _user(db, client_user_id)) is not None:
        _send(db, "client_removed", [_as_recipient(client)], context)


def agent_replaced(db: Session, authorisation: Authorisation, *, new_firm_id: int) -> None:
    firm, taxpayer, new_firm = (db.get(Firm, authorisation.firm_id), db.get(Taxpayer, authorisation.taxpayer_id),
                                db.get(Firm, new_firm_id))
    assert firm is not None and taxpayer is not None and new_firm is not None
    context = {"firm_name": firm.name, "client_name": taxpayer.name, "service": authorisation.service,
               "track_path": email_links.link("track_requests")}
    _send(db, "agent_replaced", agent_recipients(db, firm, _requester(db, authorisation)), context)


def _requester(db: Session, authorisation: Authorisation) -> int | None:
    if authorisation.request_id is None:
        return None
    request = db.get(AuthorisationRequest, authorisation.request_id)
    return request.created_by_user_id if request is not None else None


# Done on the client's behalf ---------------------------------------------------------------------------------

def _on_behalf_recipient(db: Session, taxpayer: Taxpayer) -> Recipient | None:
    owner = _user(db, taxpayer.owner_user_id)
    if owner is None or not owner.email or not owner.emails_on_behalf:
        return None
    return _as_recipient(owner)


def _actor_name(db: Session, firm_id: int | None, actor_user_id: int) -> str:
    """Who did it, as the client knows them: the firm, or the person for a helper."""
    firm = db.get(Firm, firm_id) if firm_id is not None else None
    if firm is not None:
        return firm.name
    actor = _user(db, actor_user_id)
    return actor.name if actor is not None else ""


def return_submitted(db: Session, submission: Submission, *, period_end: date) -> None:
    """Someone acting for the client sent a return or update: the client hears of it (unless they opted out)."""
    if submission.authority == "self":
        return
    taxpayer = db.get(Taxpayer, submission.taxpayer_id)
    assert taxpayer is not None
    if (client := _on_behalf_recipient(db, taxpayer)) is None:
        return
    _send(db, "submitted_on_your_behalf", [client], {
        "actor_name": _actor_name(db, submission.firm_id, submission.submitted_by_user_id),
        "client_name": taxpayer.name, "kind": submission.kind, "regime": submission.regime,
        "period_end": period_end.isoformat(), "reference": submission.reference,
        "activity_path": email_links.link("client_activity", client_id=taxpayer.id)})


def details_changed(db: Session, taxpayer: Taxpayer, *, part: str, actor_user_id: int, firm_id: int | None) -> None:
    """Someone acting for the client changed their details (`part`: "address", "contact", ...)."""
    if (client := _on_behalf_recipient(db, taxpayer)) is None:
        return
    _send(db, "details_changed_on_your_behalf", [client], {
        "actor_name": _actor_name(db, firm_id, actor_user_id), "client_name": taxpayer.name, "part": part,
        "details_path": email_links.link("client_details", client_id=taxpayer.id),
        "activity_path": email_links.link("client_activity", client_id=taxpayer.id)})


# Trusted helpers ---------------------------------------------------------------------------------------------

def helper_invited(db: Session, link: HelperLink, *, token: str) -> None:
    """The invitation, to the invited address only: the secret link appears in no other email."""
    taxpayer = db.get(Taxpayer, link.taxpayer_id)
    assert taxpayer is not None
    recipient = _address_recipient(db, link.invited_email)
    _send(db, "helper_invitation", [recipient], {
        "person_name": taxpayer.name, "invited_email": link.invited_email,
        "secret_path": email_links.link("helper_accept", token=token)})


def team_invitation(db: Session, *, email: str, firm_name: str, inviter_name: str, role: str, token: str,
                    expires_at: datetime) -> None:
    """An invitation to join a firm, to the invited address only: the secret link appears in no other email."""
    _send(db, "team_invitation", [_address_recipient(db, email)], {
        "firm_name": firm_name, "inviter_name": inviter_name, "invited_email": email, "role": role,
        "expires_on": expires_at.date().isoformat(), "secret_path": email_links.link("join_firm", token=token)})


def helper_ended(db: Session, link: HelperLink, *, ended_by: str) -> None:
    """Both sides are told when either ends it (`ended_by`: "client" or "helper")."""
    taxpayer = db.get(Taxpayer, link.taxpayer_id)
    helper = _user(db, link.helper_user_id)
    assert taxpayer is not None
    context = {"person_name": taxpayer.name, "helper_name": helper.name if helper else link.invited_email,
               "ended_by": ended_by, "people_path": email_links.link("trusted_helpers"),
               "helping_path": email_links.link("helping")}
    if helper is not None:
        _send(db, "helper_ended", [_as_recipient(helper)], {**context, "audience": "helper"})
    if (person := client_recipient(db, taxpayer)) is not None:
        _send(db, "helper_ended", [person], {**context, "audience": "person"})


# Preferences -------------------------------------------------------------------------------------------------

def set_preferences(db: Session, *, user: User, emails_on_behalf: bool | None, firm: Firm | None,
                    contact_gets_copies: bool | None) -> None:
    """What a person chose on "Emails you get"; None leaves a choice they were not offered as it is."""
    if emails_on_behalf is not None and emails_on_behalf != user.emails_on_behalf:
        user.emails_on_behalf = emails_on_behalf
        db.add(user)
        audit.record(db, "email_preferences_changed", authority="self", actor_user_id=user.id,
                     emails_on_behalf=emails_on_behalf)
    if firm is not None and contact_gets_copies is not None and contact_gets_copies != firm.contact_gets_copies:
        firm.contact_gets_copies = contact_gets_copies
        db.add(firm)
        audit.record(db, "firm_email_copies_changed", authority="agent", actor_user_id=user.id, firm_id=firm.id,
                     contact_gets_copies=contact_gets_copies)
