"""Reading and checking submitted forms the GOV.UK way: every error keyed by the id of its field."""

from __future__ import annotations

from dataclasses import dataclass, field

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
