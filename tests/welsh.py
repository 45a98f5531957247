"""What the Welsh tests share: choosing Welsh as a browser does, and reading a page's language and title."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from portal.web.i18n import LANGUAGE_COOKIE

HTML_LANG = re.compile(r'<html lang="(\w+)"')
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def choose_welsh(client: TestClient) -> TestClient:
    """The cookie the ENG/CYM toggle sets: every later request of this client reads Welsh."""
    client.cookies.set(LANGUAGE_COOKIE, "cy")
    return client


def lang_of(html: str) -> str:
    match = HTML_LANG.search(html)
    assert match, "no <html lang>"
    return match.group(1)


def title_of(html: str) -> str:
    match = TITLE.search(html)
    assert match, "the page has no <title>"
    return match.group(1)
