"""Numbers typed into URLs, forms and API paths are read as ASCII digits 0-9 only: str.isdigit() also passes
Unicode digits such as "³", and int("³") raised ValueError, a 500 (found by tests/test_api_fuzz.py)."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal.domain.numbers import ID_DIGITS, is_whole_number, whole_number
from portal.web import pagination
from portal.web.forms import Form, read_date
from tests.factories import World, csrf_from, sign_in
from tests.oauth_dance import Api
from tests.test_agent_requests import NEW, _answer, _vat_client, _vat_up_to_known_fact
from tests.test_client_filters import Groups, _names, groups  # noqa: F401 (a fixture)

UNICODE_DIGITS = ["³", "①", "٣", "1³", "²³", "𝟙"]  # superscript, circled, Arabic-Indic, mixed, mathematical


def test_ascii_digits_are_whole_numbers() -> None:
    assert whole_number("0") == 0 and whole_number("42") == 42 and whole_number("007") == 7
    assert is_whole_number("1234567890")
    assert whole_number("1234567", max_digits=7) == 1234567 and whole_number("12345678", max_digits=7) is None
    assert whole_number("9" * ID_DIGITS, max_digits=ID_DIGITS) == 999_999_999 < 2**31  # fits an INTEGER column


@pytest.mark.parametrize("text", [*UNICODE_DIGITS, "", "-1", "+1", " 1", "1 ", "1.0", "1_000", "0x10", "ten"])
def test_anything_else_is_not(text: str) -> None:
    assert not is_whole_number(text) and whole_number(text) is None


def test_none_and_numbers_too_long_for_int_are_not() -> None:
    assert whole_number(None) is None
    assert whole_number("9" * 5000) is None  # int() refuses more than sys.get_int_max_str_digits() digits


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_page_number_in_unicode_digits_is_page_1(text: str) -> None:
    assert pagination.page_number(text) == 1


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_date_in_unicode_digits_is_not_a_real_date(text: str) -> None:
    form = Form(values={"d-day": text, "d-month": "4", "d-year": "2017"})
    assert read_date(form, "d", "the date") is None and form.errors == {"d": "The date must be a real date"}


def test_unicode_page_numbers_show_page_1(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    for path in ("/clients", "/whats-due"):
        first = client.get(f"{path}?page=1")
        assert first.status_code == 200
        for text in ("³", "①"):
            page = client.get(path, params={"page": text})
            assert page.status_code == 200, (path, text)
            assert _names(page.text) == _names(first.text)
    assert "Granite Bakery Ltd" in client.get("/whats-due", params={"page": "³"}).text


def test_an_administrators_unicode_group_or_member_filter_is_ignored(client: TestClient, world: World,
                                                                      groups: Groups) -> None:  # noqa: F811
    sign_in(client, "agent@example.com")
    everyone = _names(client.get("/clients").text)
    assert everyone == ["Granite Bakery Ltd", "Jane Whitfield", "Loner Ltd"]
    for name in ("group", "member"):
        answer = client.get("/clients", params={name: "³"})
        assert answer.status_code == 200 and _names(answer.text) == everyone, name
        assert client.get("/whats-due", params={name: "³"}).status_code == 200, name
        assert client.get("/whats-due.csv", params={name: "³"}).status_code == 200, name


def test_unicode_ids_posted_to_a_group_are_left_out(client: TestClient, world: World,
                                                    groups: Groups) -> None:  # noqa: F811
    sign_in(client, "agent@example.com")
    group_url = f"/manage-account/groups/{groups.leeds}"
    token = csrf_from(client.get(group_url).text)
    for field in ("add", "remove"):
        answer = client.post(group_url + "/members", data={"csrf_token": token, field: "³"})
        assert answer.status_code == 303, field
    assert client.get(group_url).text.count("staff@example.com") == 1  # still a member
    answer = client.post(group_url + "/clients", data={"csrf_token": token, "shown": ["³", "①"],
                                                       "selected": ["³"], "goto": "³"})
    assert answer.status_code == 303 and "page=" not in answer.headers["location"]
    assert client.get(answer.headers["location"]).status_code == 200


def test_ids_too_big_for_the_database_posted_to_a_group_are_left_out(client: TestClient, world: World,
                                                                     groups: Groups) -> None:  # noqa: F811
    # They passed isdigit() too, and made an OverflowError (SQLite) or a DataError (PostgreSQL): a 500.
    sign_in(client, "agent@example.com")
    group_url, big = f"/manage-account/groups/{groups.leeds}", "9" * 25
    token = csrf_from(client.get(group_url).text)
    for field in ("add", "remove"):
        assert client.post(group_url + "/members", data={"csrf_token": token, field: big}).status_code == 303
    for action in ("add_selected", "remove_selected"):
        answer = client.post(group_url + "/clients", data={"csrf_token": token, "shown": [big], "selected": [big],
                                                           "action": action})
        assert answer.status_code == 303, action


def test_a_known_fact_date_in_unicode_digits_is_not_a_real_date(client: TestClient, world: World,
                                                                engine: Engine) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, vrn)
    # "١" is Arabic-Indic one: int() reads it as 1, so 1 April 2017 (the right answer) written so was accepted.
    answer = _answer(client, "known-fact", **{"date-day": "١", "date-month": "4", "date-year": "2017"})
    assert answer.status_code == 200 and "must be a real date" in answer.text
    assert client.get(f"{NEW}/known-fact").status_code == 200


def test_unicode_ids_in_api_paths_are_not_found(api: Api) -> None:
    for method in ("PUT", "DELETE"):
        answer = api(method, "/agent-authorisation-test-support/known-facts/invitations/%C2%B3")
        assert (answer.status_code, answer.json()["code"]) == (404, "INVITATION_NOT_FOUND"), method
    for method in ("GET", "DELETE"):
        answer = api(method, "/agents/{arn}/invitations/%C2%B3")
        assert answer.status_code == 404 and answer.json()["code"] == "INVITATION_NOT_FOUND", method


def test_unicode_limits_and_cursors_are_bad_requests(api: Api) -> None:
    assert api("GET", "/agents/{arn}/relationships?limit=%C2%B3").json()["code"] == "INVALID_LIMIT"
    cursor = base64.urlsafe_b64encode("c:³".encode()).decode().rstrip("=")
    answer = api("GET", f"/agents/{{arn}}/relationships?cursor={cursor}")
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_CURSOR")
    assert api("GET", "/agents/{arn}/relationships?limit=" + "9" * 5000).json()["code"] == "INVALID_LIMIT"


@pytest.mark.parametrize("typed", ["٣٠", "£٣٠.00", "３０"])
def test_a_vat_box_in_digits_of_another_script_is_refused_not_read_as_pounds(typed: str) -> None:
    """'٣٠' (Arabic-Indic) or full-width '３０' matched the regular expression's \\d and went to HMRC as £30."""
    from portal.domain import vat
    with pytest.raises(vat.BoxError):
        vat.parse_pence(typed, "box1")
    with pytest.raises(vat.BoxError):
        vat.parse_pounds(typed, "box6")
