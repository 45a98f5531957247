"""Reading and checking submitted forms the GOV.UK way: every error keyed by the id of its field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import SQLModel
from starlette.datastructures import FormData
from starlette.requests import Request

from portal.domain import identifiers, taxpayers
from portal.domain.accounts import MAX_EMAIL_LENGTH
from portal.domain.models import Taxpayer
from portal.domain.numbers import is_whole_number
from portal.i18n import N_, gettext

MAX_FIELD_LENGTH = 1000


@dataclass
class Form:
    """What the person typed (kept, so nothing is lost on an error) and what is wrong with it."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def too_long(label: str, limit: int) -> str:
    """The GOV.UK message for text over its limit, the one wording every form uses. `label` is the field's
    English label, marked with N_ where it is written (a label already translated passes through unchanged)."""
    # Translators: %(label)s is a form field's label ("Full name"), %(limit)d a number of characters.
    return gettext("%(label)s must be %(limit)d characters or fewer") % {"label": _translated(label), "limit": limit}


def _translated(label: str) -> str:
    return gettext(label) if label else label  # gettext("") would be the catalogue's header


def check_length(form: Form, name: str, label: str, limit: int) -> None:
    if len(form.get(name)) > limit:
        form.error(name, too_long(label, limit))


def column_length(model: type[SQLModel], column: str) -> int:
    """A text column's length in the model, so no value PostgreSQL would refuse ever reaches it."""
    length = model.__table__.c[column].type.length  # type: ignore[attr-defined]  # SQLModel leaves __table__ untyped
    assert isinstance(length, int)
    return length


async def read_form(request: Request, *names: str) -> Form:
    """Only the named fields are read; anything else a browser or an attacker sends is ignored."""
    data: FormData = await request.form(max_files=0, max_fields=100)
    values = {}
    for name in names:
        raw = data.get(name, "")
        if not isinstance(raw, str):
            values[name] = ""
        elif "password" in name:
            # A password is checked exactly as typed, spaces and all (ASVS 5.0 6.2.8). No password longer than
            # accounts.MAX_PASSWORD_LENGTH can be set, so the cap changes no password that could be right.
            values[name] = raw[:MAX_FIELD_LENGTH]
        else:
            values[name] = raw.strip()[:MAX_FIELD_LENGTH]
    return Form(values=values)


def read_date(form: Form, name: str, label: str) -> date | None:
    """A GOV.UK date input (name-day, name-month, name-year) as a date, or None with the GOV.UK error
    message for what is wrong (design-system.service.gov.uk/components/date-input). `label` is the date as it
    reads in a sentence ("the date they registered for VAT"), in English marked with N_ or already translated."""
    parts = {part: form.get(f"{name}-{part}") for part in ("day", "month", "year")}
    missing = tuple(part for part, value in parts.items() if not value)
    values = {"label": _translated(label)}
    if len(missing) == 3:
        # Translators: %(label)s is a date as it reads in a sentence ("the date they registered for VAT").
        form.error(name, gettext("Enter %(label)s") % values)
        return None
    if missing:
        form.error(name, _sentence_case(gettext(_MISSING_PARTS[missing]) % values))
        return None
    if not all(is_whole_number(value) for value in parts.values()) or len(parts["year"]) != 4:
        form.error(name, _sentence_case(gettext("%(label)s must be a real date") % values))
        return None
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        form.error(name, _sentence_case(gettext("%(label)s must be a real date") % values))
        return None


# Whole sentences for each part or pair of parts left empty (%(label)s: the date as it reads in a sentence).
_MISSING_PARTS: dict[tuple[str, ...], str] = {
    ("day",): N_("%(label)s must include a day"),
    ("month",): N_("%(label)s must include a month"),
    ("year",): N_("%(label)s must include a year"),
    ("day", "month"): N_("%(label)s must include a day and month"),
    ("day", "year"): N_("%(label)s must include a day and year"),
    ("month", "year"): N_("%(label)s must include a month and year"),
}


def _sentence_case(message: str) -> str:
    return message[:1].upper() + message[1:]


# Something before and after one @, and a dot in the domain: plausible, not proof (only a sent email proves it).
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def is_plausible_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and bool(_EMAIL_RE.fullmatch(value))


def check_email(form: Form, name: str, empty: str) -> None:
    """An email address a person types (their own, their firm's, their helper's, a client's contact)."""
    value = form.get(name)
    if not value:
        form.error(name, empty)
    elif len(value) > MAX_EMAIL_LENGTH:
        form.error(name, too_long(N_("Email address"), MAX_EMAIL_LENGTH))
    elif not is_plausible_email(value):
        form.error(name, gettext("Enter an email address in the correct format, like name@example.com"))


ADDRESS_FIELDS = taxpayers.ADDRESS_FIELDS


def check_uk_address(form: Form) -> None:
    """The GOV.UK address questions (portal/templates/components/fields.html address_fields), with the
    postcode normalised in place."""
    if not form.get("address_line1"):
        form.error("address_line1", gettext("Enter address line 1, typically the building and street"))
    if not form.get("town"):
        form.error("town", gettext("Enter town or city"))
    for name, label in (("address_line1", N_("Address line 1")), ("address_line2", N_("Address line 2")),
                        ("town", N_("Town or city"))):
        # Taxpayer and Firm hold addresses in columns of the same lengths.
        check_length(form, name, label, column_length(Taxpayer, name))
    postcode = form.get("postcode")
    if not postcode:
        form.error("postcode", gettext("Enter postcode"))
    elif not identifiers.is_valid_postcode(postcode):
        form.error("postcode", gettext("Enter a real postcode"))
    else:
        normalised = identifiers.normalise_postcode(postcode)
        # "BFPO 1234" is valid but one longer than the column: kept without its space (postcode comparisons
        # normalise both sides, so it still matches as a known fact).
        fits = len(normalised) <= column_length(Taxpayer, "postcode")
        form.values["postcode"] = normalised if fits else normalised.replace(" ", "")
