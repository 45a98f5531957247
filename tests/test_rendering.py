"""The portal's template output escapes exactly as Jinja's autoescape would: nobody's data becomes markup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape
from starlette.testclient import TestClient

from portal.domain.models import Firm
from portal.domain.sql import unit_of_work
from portal.web.rendering import PortalEnvironment, escape_output
from tests import factories
from tests.factories import World, sign_in

HOSTILE = """<script>alert("x")</script> & O'Brien's <b>"Ltd"</b>"""


@given(st.text())
def test_text_is_escaped_exactly_as_markupsafe_escapes_it(text: str) -> None:
    assert escape_output(text) == str(escape(text))
    assert type(escape_output(text)) is str


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(), st.dates()))
def test_other_values_are_written_as_their_escaped_text(value: object) -> None:
    assert escape_output(value) == str(escape(value))


def test_markup_and_objects_that_are_already_html_pass_through() -> None:
    class Link:
        def __html__(self) -> str:
            return '<a href="/x">x</a>'

    assert escape_output(Markup("<b>bold</b>")) == "<b>bold</b>"
    assert escape_output(Link()) == '<a href="/x">x</a>'


def test_a_template_writes_the_same_page_as_jinjas_own_escaping() -> None:
    source = """<p title="{{ name }}">{{ name }} {{ count }} {{ safe }}</p>{% macro m(v) %}<i>{{ v }}</i>{% endmacro %}
{{ m(name) }}{% set joined %}{{ name }}{% endset %}{{ joined }}{{ name ~ "!" }}{{ name | upper }}"""
    values = {"name": HOSTILE, "count": 3, "safe": Markup("<br>")}
    ours = PortalEnvironment(autoescape=True).from_string(source).render(values)
    jinjas = PortalEnvironment.__base__(autoescape=True).from_string(source).render(values)  # type: ignore[misc]
    assert ours == jinjas
    assert "<script>" not in ours and "&lt;script&gt;" in ours


def test_a_hostile_client_name_is_shown_as_text_in_the_client_list(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        record = factories.taxpayer(db, HOSTILE)
        factories.authorise(db, db.get(Firm, world.firm.id), record, "HMRC-MTD-VAT")
    sign_in(client, "agent@example.com")
    for response in (client.get("/clients"), client.get("/clients?q=brien", headers={"HX-Request": "true"})):
        assert "<script>alert" not in response.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; O&#39;Brien&#39;s" in response.text
