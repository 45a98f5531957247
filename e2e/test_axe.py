"""The accessibility check itself can fail (with JavaScript on and off)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.axe import assert_accessible, axe_path

BROKEN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Broken on purpose</title></head>
<body><main><h1>Broken on purpose</h1>
<img src="/static/favicon.svg">
<form><input type="text" name="nameless"></form>
</main></body></html>"""


def test_assert_accessible_reports_violations(page: Page) -> None:
    axe_path()  # a missing axe-core fails here with its own message, not inside pytest.raises below
    page.goto("/sign-in")  # a real origin, so the JS-off scan can serve the snapshot at the same URL
    page.set_content(BROKEN)
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page, "deliberately broken page")
    message = str(failure.value)
    assert "image-alt" in message
    assert "label" in message
