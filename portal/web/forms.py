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
    """The GOV.UK message for text over its limit, the one wording every form uses."""
    return f"{label} must be {limit} characters or fewer"


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
        values[name] = raw.strip()[:MAX_FIELD_LENGTH] if isinstance(raw, str) else ""
    return Form(values=values)


def read_date(form: Form, name: str, label: str) -> date | None:
    """A GOV.UK date input (name-day, name-month, name-year) as a date, or None with the GOV.UK error
    message for what is wrong (design-system.service.gov.uk/components/date-input)."""
    parts = {part: form.get(f"{name}-{part}") for part in ("day", "month", "year")}
    missing = [part for part, value in parts.items() if not value]
    if len(missing) == 3:
        form.error(name, f"Enter {label}")
        return None
    if missing:
        form.error(name, f"{label[0].upper()}{label[1:]} must include a {' and '.join(missing)}")
        return None
    if not all(value.isdigit() for value in parts.values()) or len(parts["year"]) != 4:
        form.error(name, f"{label[0].upper()}{label[1:]} must be a real date")
        return None
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        form.error(name, f"{label[0].upper()}{label[1:]} must be a real date")
        return None


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
        form.error(name, too_long("Email address", MAX_EMAIL_LENGTH))
    elif not is_plausible_email(value):
        form.error(name, "Enter an email address in the correct format, like name@example.com")


ADDRESS_FIELDS = taxpayers.ADDRESS_FIELDS


def check_uk_address(form: Form) -> None:
    """The GOV.UK address questions (portal/templates/components/fields.html address_fields), with the
    postcode normalised in place."""
    if not form.get("address_line1"):
        form.error("address_line1", "Enter address line 1, typically the building and street")
    if not form.get("town"):
        form.error("town", "Enter town or city")
    for name, label in (("address_line1", "Address line 1"), ("address_line2", "Address line 2"),
                        ("town", "Town or city")):
        # Taxpayer and Firm hold addresses in columns of the same lengths.
        check_length(form, name, label, column_length(Taxpayer, name))
    postcode = form.get("postcode")
    if not postcode:
        form.error("postcode", "Enter postcode")
    elif not identifiers.is_valid_postcode(postcode):
        form.error("postcode", "Enter a real postcode")
    else:
        normalised = identifiers.normalise_postcode(postcode)
        # "BFPO 1234" is valid but one longer than the column: kept without its space (postcode comparisons
        # normalise both sides, so it still matches as a known fact).
        fits = len(normalised) <= column_length(Taxpayer, "postcode")
        form.values["postcode"] = normalised if fits else normalised.replace(" ", "")
