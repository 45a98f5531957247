"""English and Welsh: the catalogues, the language of the moment, and dates and money in that language.

Every string a person sees goes through gettext: `{% trans %}` and `_()` in templates, `gettext`/`ngettext`
(or `N_` for a constant translated later, where it is shown) in Python. The English text is the message id,
so English needs no catalogue. Welsh lives in `portal/translations/cy/LC_MESSAGES/messages.po`; README says
how a translator updates it.

The language of the moment is a context variable: the web sets it per request (portal.web.i18n), and the
email worker sets it per email with `using(language)`. One Jinja environment serves both languages, since
its gettext callables look the language up when they run, never when a template is compiled.

Catalogues are compiled in memory the first time a language is used, from the `.po` file itself: a fresh
clone serves Welsh without a build step, and no compiled `.mo` file can fall out of step with its source.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import LazyProxy, Translations

ENGLISH, WELSH = "en", "cy"
LANGUAGES = (ENGLISH, WELSH)
DEFAULT_LANGUAGE = ENGLISH
CATALOGUES = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("portal_language", default=DEFAULT_LANGUAGE)


def supported(language: str | None) -> str | None:
    """The language code if the portal speaks it ("cy", "en"), else None. Accepts "cy-GB" and "CY"."""
    if not language:
        return None
    code = language.strip().lower().split("-", 1)[0].split("_", 1)[0]
    return code if code in LANGUAGES else None


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> object:
    """Make `language` the language of the moment; returns the token `reset_language` takes back."""
    return _current.set(supported(language) or DEFAULT_LANGUAGE)


def reset_language(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]  # the token set_language returned, typed opaquely there


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """Everything inside speaks `language` (an email in its recipient's language, say)."""
    token = set_language(language or DEFAULT_LANGUAGE)
    try:
        yield current_language()
    finally:
        reset_language(token)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    if language == ENGLISH:
        return _gettext.NullTranslations()  # English is the source text
    source = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with source.open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue)  # fuzzy entries are left out: they fall back to English until reviewed
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Welsh has six plural forms (zero, one, two, few, many, other); the catalogue's Plural-Forms picks."""
    return translations(_current.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """For an English word with two Welsh translations, told apart by `context`."""
    return translations(_current.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return translations(_current.get()).npgettext(context, singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Marks a constant for extraction without translating it yet: it is translated where it is shown."""
    return message


_ = gettext


def lazy(message: str) -> LazyProxy:
    """`message` translated each time it is shown, into the language of that moment: for a constant that one
    shared object shows in both languages (the service's name, a Jinja global)."""
    return LazyProxy(gettext, message, enable_cache=False)


def format_date(value: date | datetime, pattern: str = "d MMMM y") -> str:
    """"7 August 2026" or "7 Awst 2026": month names come from the locale, never from our code."""
    return _babel_format_date(value, pattern, locale=_locale(_current.get()))


def format_pounds(pence: int) -> str:
    """Money in pounds and pence, with thousands separated as the language does: "£1,234.50"."""
    pounds = Decimal(pence) / 100
    sign = "-" if pence < 0 else ""
    return f"{sign}£{format_decimal(abs(pounds), format='#,##0.00', locale=_locale(_current.get()))}"


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)
