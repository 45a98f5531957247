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
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import taxpayers
from portal.domain.models import Taxpayer
from portal.domain.people import Authority
from portal.domain.services import CLIENT_TYPE_LABELS
from portal.domain.taxpayers import DETAILS_FIELDS, DetailsPart, details_values
from portal.i18n import N_, gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, check_email, check_uk_address, column_length, read_form, too_long
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

_PHONE_RE = re.compile(r"[0-9 +()]+")
MIN_PHONE_DIGITS = 7


# --- forms and validation ------------------------------------------------------------------------------------------


def check_contact(form: Form) -> None:
    check_email(form, "email", gettext("Enter an email address"))
    phone = form.get("phone")
    if len(phone) > (limit := column_length(Taxpayer, "phone")):
        form.error("phone", too_long(N_("Phone number"), limit))
    elif phone and (not _PHONE_RE.fullmatch(phone) or sum(c.isdigit() for c in phone) < MIN_PHONE_DIGITS):
        form.error("phone", gettext("Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"))


def check_scottish_taxpayer(form: Form) -> None:
    if form.get("scottish_taxpayer") not in taxpayers.YES_NO:
        form.error("scottish_taxpayer", gettext("Select yes if the main home is in Scotland"))


@dataclass(frozen=True)
class Part:
    """One changeable part of the details: its fields, their checks, and how it is named."""

    slug: DetailsPart  # what portal.domain.taxpayers calls it; its fields and audit action are the domain's
    check: Callable[[Form], None]
    template: str
    saved_heading: str  # marked with N_, translated where it is shown

    @property
    def fields(self) -> tuple[str, ...]:
        return DETAILS_FIELDS[self.slug]


PARTS: dict[str, Part] = {
    "address": Part(DetailsPart.ADDRESS, check_uk_address, "details/address.html", N_("Address updated")),
    "contact": Part(DetailsPart.CONTACT, check_contact, "details/contact.html", N_("Contact details updated")),
    "scottish-taxpayer": Part(DetailsPart.SCOTTISH_TAXPAYER, check_scottish_taxpayer,
                              "details/scottish_taxpayer.html", N_("Scottish taxpayer status updated")),
}


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


def _context(authority: Authority, **more: Any) -> dict[str, Any]:
    client = authority.taxpayer
    return {"authority": authority, "client": client, "for_self": authority.kind == "self", **more}


def changer(request: Request) -> tuple[Authority, Part]:
    """The gate for the change pages: a person whose authority does not cover details finds nothing here."""
    authority = require_authority(request, request.path_params["client_id"])
    part = PARTS.get(request.path_params["part"])
    if part is None or not authority.can_change_details:
        raise HTTPException(status_code=404)
    if not taxpayers.has_part(authority.taxpayer, part.slug):
        raise HTTPException(status_code=404)
    return authority, part


async def details(request: Request) -> Response:
    authority = require_authority(request, request.path_params["client_id"])
    name = authority.taxpayer.name
    title = (gettext("Your details – %(name)s") if authority.kind == "self" else gettext("Details – %(name)s")) % {
        "name": name}
    return render(request, "details/index.html",
                  _context(authority, title=title, client_types=CLIENT_TYPE_LABELS))


async def question(request: Request) -> Response:
    authority, part = changer(request)
    context = _context(authority, part=part)
    if request.method == "GET":
        values = checked_answers(request, authority, part) or details_values(authority.taxpayer, part.slug)
        return render(request, part.template, {**context, "form": Form(values=values)})
    form = await read_form(request, *part.fields)
    part.check(form)
    if not form.ok:
        return render(request, part.template, {**context, "form": form})
    journeys.save(request, journey(authority), **{part.slug: form.values})
    return redirect_to(request, "details_check", client_id=authority.taxpayer.id, part=part.slug)


async def check_answers(request: Request) -> Response:
    authority, part = changer(request)
    answers = checked_answers(request, authority, part)
    if answers is None:
        return redirect_to(request, "details_question", client_id=authority.taxpayer.id, part=part.slug)
    if request.method == "GET":
        return render(request, "details/check.html", _context(authority, part=part, answers=answers))
    taxpayers.change_details(db_session(request), authority=authority, viewer=require_viewer(request),
                             part=part.slug, values=answers)
    journeys.forget(request, journey(authority), part.slug)
    return redirect_to(request, "details_saved", client_id=authority.taxpayer.id, part=part.slug)


async def saved(request: Request) -> Response:
    authority, part = changer(request)
    return render(request, "details/saved.html", _context(authority, part=part))


routes = [
    Route("/clients/{client_id:id}/details", details, name="client_details"),
    Route("/clients/{client_id:id}/details/{part}", question, methods=["GET", "POST"], name="details_question"),
    Route("/clients/{client_id:id}/details/{part}/check", check_answers, methods=["GET", "POST"],
          name="details_check"),
    Route("/clients/{client_id:id}/details/{part}/saved", saved, name="details_saved"),
]
