"""The `id` path convertor (portal/web/convertors.py): one range check for every id in a URL."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from portal.domain.numbers import MAX_ID
from portal.web.convertors import IdConvertor
from tests.factories import World, sign_in


def test_an_id_in_range_is_itself() -> None:
    assert IdConvertor().convert("21") == 21
    assert IdConvertor().convert(str(MAX_ID)) == MAX_ID


@pytest.mark.parametrize("value", [str(MAX_ID + 1), "9" * 40])
def test_an_id_beyond_any_key_becomes_0_which_no_row_has(value: str) -> None:
    assert IdConvertor().convert(value) == 0


def test_paths_are_built_with_it(client: TestClient) -> None:
    app = client.app
    assert app.url_path_for("client_overview", client_id=21) == "/clients/21"  # type: ignore[attr-defined]


def test_ids_beyond_any_key_are_a_404_on_pages_outside_the_gate(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    for path in (f"/manage-your-tax-agents/remove/{MAX_ID + 1}", f"/authorisation-response/{'9' * 30}/consent",
                 f"/account/link-tax-account/linked/{MAX_ID + 1}", f"/trusted-helpers/remove/{MAX_ID + 1}"):
        assert client.get(path).status_code == 404, path
