"""Activity: the audit trail read back to people. A taxpayer sees everything done on their account; a firm's
administrator sees what the firm's people did, by client and by person.

Both lists page in the database, newest first, off the audit_event indexes (taxpayer_id, at) and (firm_id, at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import Session, col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain.models import AuditEvent, Firm, Membership, Taxpayer, User
from portal.domain.people import with_firm
from portal.domain.services import BY_KEY
from portal.domain.sql import contains_pattern
from portal.domain.times import aware
from portal.i18n import N_, gettext, ngettext
from portal.web import pagination
from portal.web.db import db_session
from portal.web.forms import Form
from portal.web.gate import require_authority, require_firm_admin
from portal.web.links import path_for
from portal.web.rendering import render

PAGE_SIZE = 20
MAX_CLIENT_SEARCH_LENGTH = 100

# What an action code means to the taxpayer it was done for ("who" is shown beside it). Audit records keep the
# code; the words are looked up when the page is shown, so the page reads in either language.
# Translators: the activity descriptions below sit in a "What" column beside a "Who" column (the person, the
# agent's firm, or "You"): say what was done without repeating who did it.
ACTION_TEXT: dict[str, str] = {
    "authorisation_request_created": N_("Asked for your authorisation"),
    "authorisation_request_accepted": N_("Accepted an agent's request for authorisation"),
    "authorisation_request_declined": N_("Declined an agent's request for authorisation"),
    "authorisation_request_cancelled": N_("Cancelled their request for your authorisation"),
    "authorisation_ended": N_("Ended an agent's authorisation"),
    "helper_invited": N_("Asked someone to be your trusted helper"),
    "helper_accepted": N_("Agreed to be your trusted helper"),
    "helper_declined": N_("Said no to being your trusted helper"),
    "helper_removed": N_("Removed a trusted helper"),
    "helper_ended": N_("Stopped being your trusted helper"),
    "helper_invitation_withdrawn": N_("Withdrew an invitation to be your trusted helper"),
    "address_changed": N_("Changed your postal address"),
    "contact_details_changed": N_("Changed your contact details"),
    "scottish_taxpayer_changed": N_("Changed whether you are a Scottish taxpayer"),
    "vat_return_submitted": N_("Submitted a VAT return"),
    "quarterly_update_submitted": N_("Sent a quarterly update"),
    "final_declaration_submitted": N_("Submitted a final declaration"),
    "tax_account_linked": N_("Linked this tax account to a sign-in"),
    "signed_in": N_("Signed in"),
}

# The same events as a firm's administrator reads them: about "the client", not "you".
FIRM_ACTION_TEXT: dict[str, str] = {
    "authorisation_request_created": N_("Asked the client for authorisation"),
    "authorisation_request_accepted": N_("Accepted the firm's request for authorisation"),
    "authorisation_request_declined": N_("Declined the firm's request for authorisation"),
    "authorisation_request_cancelled": N_("Cancelled a request for authorisation"),
    "authorisation_ended": N_("Ended an authorisation"),
    "authorisation_request_expired": N_("A request for authorisation expired"),
    "api_access_granted": N_("Gave software access to act for them"),
    "api_access_revoked": N_("Took away software's access"),
    "api_refresh_token_reused": N_("Software’s access ended because one of its old refresh tokens was used again"),
    "address_changed": N_("Changed the client's postal address"),
    "contact_details_changed": N_("Changed the client's contact details"),
    "scottish_taxpayer_changed": N_("Changed whether the client is a Scottish taxpayer"),
    "agent_services_account_created": N_("Created the agent services account"),
    "access_groups_turned_on": N_("Turned access groups on"),
    "access_groups_turned_off": N_("Turned access groups off"),
    "access_group_created": N_("Created an access group"),
    "access_group_renamed": N_("Renamed an access group"),
    "access_group_deleted": N_("Deleted an access group"),
    "access_group_member_added": N_("Added a team member to an access group"),
    "access_group_member_removed": N_("Removed a team member from an access group"),
    "access_group_clients_added": N_("Added clients to an access group"),
    "access_group_clients_removed": N_("Removed clients from an access group"),
    "client_reference_changed": N_("Changed the client reference"),
    "team_member_role_changed": N_("Changed a team member's role"),
    "team_member_removed": N_("Removed a team member"),
    "team_member_left": N_("Left the firm"),
    "team_member_invited": N_("Invited a team member"),
    "team_invitation_resent": N_("Resent an invitation to join the firm"),
    "team_invitation_withdrawn": N_("Withdrew an invitation to join the firm"),
    "team_member_joined": N_("Joined the firm"),
    "second_step_reset": N_("Reset a team member's 2-step verification"),
    "firm_email_copies_changed": N_("Changed whether the firm's contact address gets copies of emails"),
}


def humanise(action: str) -> str:
    """An action code nobody has described yet still reads as words: "thing_done" -> "Thing done" (the code's
    own English: it has no translation until it is described above)."""
    words = action.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else gettext("Something happened")


def describe(action: str, detail: Mapping[str, Any], texts: Mapping[str, str] = ACTION_TEXT) -> str:
    described = texts.get(action) or ACTION_TEXT.get(action)
    text = gettext(described) if described else humanise(action)
    if isinstance(detail, Mapping):
        if (service := BY_KEY.get(str(detail.get("service")))) is not None:
            # Translators: %(activity)s is one of the activity descriptions, %(service)s a tax service's name.
            text = gettext("%(activity)s for %(service)s") % {"activity": text, "service": service.name}
        if isinstance(reference := detail.get("reference"), str) and action.endswith("_submitted"):
            # Translators: %(activity)s is an activity description; %(reference)s the receipt's reference.
            text = gettext("%(activity)s (reference %(reference)s)") % {"activity": text, "reference": reference}
        if isinstance(group := detail.get("group"), str) and action.startswith("access_group_"):
            count = detail.get("count")
            if isinstance(count, int):
                # Translators: %(activity)s is an activity description, %(group)s an access group's name.
                text = ngettext("%(activity)s (%(group)s, %(number)s client)",
                                "%(activity)s (%(group)s, %(number)s clients)", count) % {
                    "activity": text, "group": group, "number": f"{count:,}"}
            else:
                text = gettext("%(activity)s (%(group)s)") % {"activity": text, "group": group}
    return text


@dataclass(frozen=True)
class ActivityRow:
    at: datetime
    who: str
    what: str
    taxpayer_id: int | None = None
    client_name: str | None = None


# --- queries -------------------------------------------------------------------------------------------------------


def _newest_first(query: Select[Any], page: pagination.Page) -> Select[Any]:
    return query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(page.size).offset(page.offset)


def _count(db: Session, conditions: list[ColumnElement[bool]], *, with_client: bool = False) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if with_client:
        query = query.join(Taxpayer, col(Taxpayer.id) == AuditEvent.taxpayer_id)
    return cast(int, db.execute(query.where(*conditions)).scalar_one())  # Session.execute is typed Result[Any]


def using(who: str, detail: Mapping[str, Any]) -> str:
    """Changes made through the API name the software too (portal.domain.audit.acting_through)."""
    if not detail.get("using"):
        return who
    # Translators: %(who)s is a person (and their firm), %(software)s the name of the software they used.
    return gettext("%(who)s using %(software)s") % {"who": who, "software": detail["using"]}


def who_for_taxpayer(authority: str, person: str | None, firm: str | None) -> str:
    if authority == "self":
        # Translators: in the "Who" column: the account holder themselves.
        return gettext("You")
    if authority == "agent":
        return with_firm(person or gettext("Someone"), firm) if firm else (person or gettext("An agent"))
    if authority == "helper":
        # Translators: %(name)s is a person's name (or "Someone").
        return gettext("%(name)s (trusted helper)") % {"name": person or gettext("Someone")}
    return person or gettext("HMRC")


def taxpayer_activity(db: Session, taxpayer_id: int, page: pagination.Page) -> list[ActivityRow]:
    rows = db.execute(_newest_first(
        select(col(AuditEvent.at), col(AuditEvent.action), col(AuditEvent.authority), col(AuditEvent.detail),
               col(User.name), col(Firm.name))
        .outerjoin(User, col(User.id) == AuditEvent.actor_user_id)
        .outerjoin(Firm, col(Firm.id) == AuditEvent.firm_id)
        .where(col(AuditEvent.taxpayer_id) == taxpayer_id), page))
    return [ActivityRow(aware(at), using(who_for_taxpayer(kind, person, firm), detail), describe(action, detail))
            for at, action, kind, detail, person, firm in rows]


@dataclass(frozen=True)
class FirmFilter:
    client: str = ""
    person_id: int | None = None

    def conditions(self, firm_id: int) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [col(AuditEvent.firm_id) == firm_id]
        if self.client:
            conditions.append(func.lower(col(Taxpayer.name)).like(contains_pattern(self.client), escape="\\"))
        if self.person_id is not None:
            conditions.append(col(AuditEvent.actor_user_id) == self.person_id)
        return conditions


def who_for_firm(authority: str, person: str | None) -> str:
    if authority == "self" or authority == "helper":
        # The client (or their helper) answering the firm: their events carry the firm too.
        name = person or gettext("Someone")
        if authority == "self":
            # Translators: %(name)s is the client's name (or "Someone").
            return gettext("%(name)s (client)") % {"name": name}
        return gettext("%(name)s (trusted helper)") % {"name": name}
    return person or gettext("HMRC")


def firm_activity(db: Session, firm_id: int, wanted: FirmFilter, page: pagination.Page) -> list[ActivityRow]:
    rows = db.execute(_newest_first(
        select(col(AuditEvent.at), col(AuditEvent.action), col(AuditEvent.authority), col(AuditEvent.detail),
               col(User.name), col(AuditEvent.taxpayer_id), col(Taxpayer.name))
        .outerjoin(User, col(User.id) == AuditEvent.actor_user_id)
        .outerjoin(Taxpayer, col(Taxpayer.id) == AuditEvent.taxpayer_id)
        .where(*wanted.conditions(firm_id)), page))
    return [ActivityRow(aware(at), using(who_for_firm(kind, person), detail),
                        describe(action, detail, FIRM_ACTION_TEXT), taxpayer_id, client)
            for at, action, kind, detail, person, taxpayer_id, client in rows]


def firm_people(db: Session, firm_id: int) -> list[tuple[str, str]]:
    """(user id, name) of the firm's people, for the person filter."""
    rows = db.execute(select(col(User.id), col(User.name), col(User.email))
                      .join(Membership, col(Membership.user_id) == User.id)
                      .where(col(Membership.firm_id) == firm_id).order_by(col(User.name), col(User.id))).all()
    names = [name for _, name, _ in rows]
    # Two people of one name are told apart by their email address.
    return [(str(user_id), f"{name} ({email})" if names.count(name) > 1 else name) for user_id, name, email in rows]


# --- forms ---------------------------------------------------------------------------------------------------------


def filter_form(request: Request, people: list[tuple[str, str]]) -> tuple[Form, FirmFilter]:
    form = Form(values={"client": request.query_params.get("client", "").strip(),
                        "person": request.query_params.get("person", "").strip()})
    if len(form.get("client")) > MAX_CLIENT_SEARCH_LENGTH:
        form.error("client", gettext("Client name must be %(limit)d characters or fewer")
                   % {"limit": MAX_CLIENT_SEARCH_LENGTH})
    client = "" if form.errors else form.get("client")
    person = form.get("person") if form.get("person") in {value for value, _ in people} else ""
    form.values["person"] = person
    return form, FirmFilter(client, int(person) if person else None)


def _page(request: Request, total: int) -> pagination.Page:
    return pagination.clamp(pagination.page_number(request.query_params.get("page")), size=PAGE_SIZE, total=total)


# --- handlers ------------------------------------------------------------------------------------------------------


async def taxpayer_page(request: Request) -> Response:
    authority = require_authority(request, request.path_params["client_id"])
    if authority.kind != "self":  # the account holder's own record of who did what
        raise HTTPException(status_code=404)
    db = db_session(request)
    taxpayer_id = authority.taxpayer.id
    page = _page(request, _count(db, [col(AuditEvent.taxpayer_id) == taxpayer_id]))
    base = path_for(request, "client_activity", client_id=taxpayer_id)

    def href(number: int) -> str:
        return base + (f"?page={number}" if number > 1 else "")

    return render(request, "activity/taxpayer.html", {
        "authority": authority, "client": authority.taxpayer, "rows": taxpayer_activity(db, taxpayer_id, page),
        "page": page, "page_links": pagination.links(page, href), "href": href})


async def firm_page(request: Request) -> Response:
    viewer = require_firm_admin(request)
    assert viewer.firm_id is not None
    db = db_session(request)
    people = firm_people(db, viewer.firm_id)
    form, wanted = filter_form(request, people)
    page = _page(request, _count(db, wanted.conditions(viewer.firm_id), with_client=bool(wanted.client)))

    base = path_for(request, "firm_activity")

    def href(number: int) -> str:
        params = {k: v for k, v in (("client", wanted.client), ("person", form.get("person"))) if v} | (
            {"page": number} if number > 1 else {})
        return base + ("?" + urlencode(params) if params else "")

    return render(request, "activity/firm.html", {
        "form": form, "rows": firm_activity(db, viewer.firm_id, wanted, page), "people": people,
        "filtering": bool(wanted.client or wanted.person_id), "page": page,
        "page_links": pagination.links(page, href), "href": href})


routes = [
    Route("/clients/{client_id:id}/activity", taxpayer_page, name="client_activity"),
    Route("/activity", firm_page, name="firm_activity"),
]
