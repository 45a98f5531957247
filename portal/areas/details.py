"""A client's details: postal address and contact details, seen by anyone who may act for them and changed
by those whose authority covers it (the taxpayer, a trusted helper, an agent with a main authorisation).

Each change is a short journey: the question, check your answers, then the saved confirmation. The answers
wait in the person's server-side session until they are saved, in the same transaction as the audit event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.registration import check_email
from portal.domain import audit, notifications
from portal.domain.models import Taxpayer
from portal.domain.people import Authority
from portal.domain.services import CLIENT_TYPE_LABELS
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import ADDRESS_FIELDS, Form, check_uk_address, read_form
from portal.web.gate import require_authority
from portal.web.rendering import render
from portal.web.sessions import require_viewer

_PHONE_RE = re.compile(r"[0-9 +()]+")
MIN_PHONE_DIGITS = 7


def max_length(column: str) -> int:
    """The column's length in the model, so no value PostgreSQL would refuse ever reaches it."""
    length = Taxpayer.__table__.c[column].type.length  # type: ignore[attr-defined]
    assert isinstance(length, int)
    return length


# --- forms and validation ------------------------------------------------------------------------------------------


def _length(form: Form, name: str, label: str) -> None:
    if len(form.get(name)) > (limit := max_length(name)):
        form.error(name, f"{label} must be {limit} characters or fewer")


def check_contact(form: Form) -> None:
    check_email(form, "email", "Enter an email address")
    phone = form.get("phone")
    if len(phone) > (limit := max_length("phone")):
        form.error("phone", f"Phone number must be {limit} characters or fewer")
    elif phone and (not _PHONE_RE.fullmatch(phone) or sum(c.isdigit() for c in phone) < MIN_PHONE_DIGITS):
        form.error("phone", "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")


def check_scottish_taxpayer(form: Form) -> None:
    if form.get("scottish_taxpayer") not in YES_NO:
        form.error("scottish_taxpayer", "Select yes if the main home is in Scotland")


YES_NO = {"yes": True, "no": False}


@dataclass(frozen=True)
class Part:
    """One changeable part of the details: its fields, their checks, and how it is named."""

    slug: str
    fields: tuple[str, ...]
    check: Callable[[Form], None]
    template: str
    audit_action: str
    saved_heading: str
    what: str  # in a sentence: "postal address"
    yes_no: bool = False  # one yes/no question held as a boolean column
    personal_only: bool = False  # only an individual has it


PARTS: dict[str, Part] = {
    "address": Part("address", ADDRESS_FIELDS, check_uk_address,
                    "details/address.html", "address_changed", "Address updated", "postal address"),
    "contact": Part("contact", ("email", "phone"), check_contact,
                    "details/contact.html", "contact_details_changed", "Contact details updated", "contact details"),
    # Decides the Income Tax rates on non-savings income (domain.md §9.2); a person, never a company or trust.
    "scottish-taxpayer": Part("scottish-taxpayer", ("scottish_taxpayer",), check_scottish_taxpayer,
                              "details/scottish_taxpayer.html", "scottish_taxpayer_changed",
                              "Scottish taxpayer status updated", "Scottish taxpayer status", yes_no=True,
                              personal_only=True),
}


def current_values(taxpayer: Taxpayer, part: Part) -> dict[str, str]:
    if part.yes_no:
        return {name: "yes" if getattr(taxpayer, name) else "no" for name in part.fields}
    return {name: str(getattr(taxpayer, name) or "") for name in part.fields}


def _model_value(part: Part, value: str) -> str | bool:
    return YES_NO[value] if part.yes_no else value


def checked_answers(request: Request, authority: Authority, part: Part) -> dict[str, str] | None:
    """The saved answers for this part if there are all of them and they still pass the checks."""
    saved = journeys.answers(request, journey(authority)).get(part.slug)
    if not isinstance(saved, dict):
        return None
    form = Form(values={name: str(saved.get(name, "")) for name in part.fields})
    part.check(form)
    return form.values if form.ok else None


# --- handlers ------------------------------------------------------------------------------------------------------


def journey(authority: Authority) -> str:
    return f"details-{authority.taxpayer.id}"


def base_url(authority: Authority) -> str:
    return f"/clients/{authority.taxpayer.id}/details"


def _context(authority: Authority, **more: Any) -> dict[str, Any]:
    client = authority.taxpayer
    return {"authority": authority, "client": client, "for_self": authority.kind == "self",
            "whose": "your" if authority.kind == "self" else f"{client.name}'s", "base": base_url(authority), **more}


def changer(request: Request) -> tuple[Authority, Part]:
    """The gate for the change pages: a person whose authority does not cover details finds nothing here."""
    authority = require_authority(request, request.path_params["client_id"])
    part = PARTS.get(request.path_params["part"])
    if part is None or not authority.can_change_details:
        raise HTTPException(status_code=404)
    if part.personal_only and authority.taxpayer.client_type != "personal":
        raise HTTPException(status_code=404)
    return authority, part


async def details(request: Request) -> Response:
    authority = require_authority(request, request.path_params["client_id"])
    name = authority.taxpayer.name
    title = f"Your details – {name}" if authority.kind == "self" else f"Details – {name}"
    return render(request, "details/index.html",
                  _context(authority, title=title, client_types=CLIENT_TYPE_LABELS))


async def question(request: Request) -> Response:
    authority, part = changer(request)
    context = _context(authority, part=part)
    if request.method == "GET":
        values = checked_answers(request, authority, part) or current_values(authority.taxpayer, part)
        return render(request, part.template, {**context, "form": Form(values=values)})
    form = await read_form(request, *part.fields)
    part.check(form)
    if not form.ok:
        return render(request, part.template, {**context, "form": form})
    journeys.save(request, journey(authority), **{part.slug: form.values})
    return RedirectResponse(f"{base_url(authority)}/{part.slug}/check", status_code=303)


async def check_answers(request: Request) -> Response:
    authority, part = changer(request)
    answers = checked_answers(request, authority, part)
    if answers is None:
        return RedirectResponse(f"{base_url(authority)}/{part.slug}", status_code=303)
    if request.method == "GET":
        return render(request, "details/check.html", _context(authority, part=part, answers=answers))
    viewer = require_viewer(request)
    taxpayer = authority.taxpayer
    old = current_values(taxpayer, part)
    for name, value in answers.items():
        setattr(taxpayer, name, _model_value(part, value))
    db = db_session(request)
    db.add(taxpayer)
    audit.record(db, part.audit_action, authority=authority.kind, actor_user_id=viewer.user_id,
                 firm_id=viewer.firm_id if authority.kind == "agent" else None, taxpayer_id=taxpayer.id,
                 old=old, new=answers)
    if authority.kind != "self":  # done on the client's behalf: they hear of it (unless they turned that off)
        notifications.details_changed(db, taxpayer, part=part.slug, actor_user_id=viewer.user_id,
                                      firm_id=viewer.firm_id if authority.kind == "agent" else None)
    journeys.forget(request, journey(authority), part.slug)
    return RedirectResponse(f"{base_url(authority)}/{part.slug}/saved", status_code=303)


async def saved(request: Request) -> Response:
    authority, part = changer(request)
    return render(request, "details/saved.html", _context(authority, part=part))


routes = [
    Route("/clients/{client_id:int}/details", details, name="client_details"),
    Route("/clients/{client_id:int}/details/{part}", question, methods=["GET", "POST"], name="details_question"),
    Route("/clients/{client_id:int}/details/{part}/check", check_answers, methods=["GET", "POST"],
          name="details_check"),
    Route("/clients/{client_id:int}/details/{part}/saved", saved, name="details_saved"),
]
