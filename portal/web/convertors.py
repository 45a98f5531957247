"""The `id` path convertor: `{client_id:id}` in a route reads a database key.

Digits only, like Starlette's `int`; a value above the largest key the database can hold (2**31 - 1) becomes 0,
which no row has. So a handler looks the id up as it is and finds nothing, instead of every handler guarding
the range itself (PostgreSQL refuses an out-of-range integer with an error, which would be a 500, not a 404).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from portal.domain.numbers import MAX_ID

NO_ROW = 0


class IdConvertor(Convertor[int]):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else NO_ROW

    def to_string(self, value: int) -> str:
        number = int(value)
        assert number >= 0, "an id is never negative"
        return str(number)


def register() -> None:
    """Starlette compiles a route's path when the Route is built, and areas build theirs when imported: so this
    runs from portal/areas/__init__.py, before any area module. Registering twice is harmless."""
    register_url_convertor("id", IdConvertor())
