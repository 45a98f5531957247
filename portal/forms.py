"""Reading and checking submitted forms the GOV.UK way: every error keyed by the id of its field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request

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


def date_fields(name: str) -> tuple[str, str, str]:
    return f"{name}-day", f"{name}-month", f"{name}-year"
