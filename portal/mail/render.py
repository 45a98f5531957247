"""An outbox row as an email: subject, plain text and a simple HTML alternative, in the row's language.

Each email is one template under portal/templates/emails/, written once with `{% trans %}` sentences and the
`p` and `action` macros, and rendered twice: by a plain-text environment (no escaping, text macros) and an HTML
one (autoescaped, HTML macros). Same sentences, so one translation serves both. No images, no tracking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from portal import i18n
from portal.domain import services, tax_years
from portal.settings import SERVICE_NAME

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _date(value: str) -> str:
    return i18n.format_date(date.fromisoformat(value))


def _service(key: str) -> str:
    """A tax service's name in the language of the moment (the catalogue has the names, portal.domain.services)."""
    found = services.BY_KEY.get(key)
    return found.name if found is not None else key


# What was sent, as "sent the ... for" names it: Submission.kind codes, lower case inside a sentence.
SUBMISSION_KINDS = {"VAT return": i18n.N_("VAT return"),  # i18n: the key is the stored code
                    tax_years.QUARTERLY_UPDATE: i18n.N_("quarterly update"),
                    tax_years.FINAL_DECLARATION: i18n.N_("final declaration")}


def _submission(kind: str) -> str:
    return i18n.gettext(SUBMISSION_KINDS[kind]) if kind in SUBMISSION_KINDS else kind


@cache
def environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=html, undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them: one line per message, spaces folded
    # The language is looked up when a message is shown, never when a template is compiled: one environment
    # serves English and Welsh (portal.i18n).
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext)
    env.filters["date"] = _date
    env.filters["service"] = _service
    env.filters["submission"] = _submission
    env.globals["macros"] = "emails/_html.macros" if html else "emails/_text.macros"
    env.globals["layout"] = "emails/_layout.html" if html else "emails/_layout.txt"
    return env


def render(kind: str, language: str, context: dict[str, Any], *, base_url: str) -> Rendered:
    values = {**context, "portal_name": i18n.lazy(SERVICE_NAME), "language": language,
              "base_url": base_url.rstrip("/")}
    with i18n.using(language):
        text_template = environment(False).get_template(f"emails/{kind}.html")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(values))).strip()
        text = re.sub(r"\n{3,}", "\n\n", text_template.render(values)).strip() + "\n"
        html = environment(True).get_template(f"emails/{kind}.html").render(values).strip() + "\n"
    return Rendered(" ".join(subject.split()), text, html)
