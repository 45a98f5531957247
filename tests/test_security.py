from __future__ import annotations

import base64
import hashlib

from starlette.routing import Route
from starlette.testclient import TestClient

from portal.web.security import INLINE_SCRIPT_HASH
from tests.factories import PASSWORD, World, csrf_from, sign_in


def test_every_page_carries_the_security_headers(client: TestClient, world: World) -> None:
    for path in ("/", "/sign-in", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_but_the_one_the_policy_allows_by_hash(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    for path in ("/sign-in", "/clients", f"/clients/{world.vat_client.id}"):
        response = client.get(path)
        html = response.text
        assert " on" + "click=" not in html
        inline = [tag.split(">", 1)[1].split("</script>")[0] for tag in html.split("<script")[1:]
                  if 'src="/static/' not in tag.split(">")[0]]
        assert len(inline) == 1  # layout.html's, which marks the page as scripted before the first paint
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
        assert INLINE_SCRIPT_HASH == f"sha256-{digest}"


def test_a_state_change_without_a_csrf_token_is_refused(client: TestClient, world: World) -> None:
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": "agent@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "Sorry, there is a problem with your request" in response.text
    assert "set-cookie" not in response.headers  # and nobody was signed in


def test_a_wrong_or_foreign_csrf_token_is_refused(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, "staff@example.com")
    others_token = csrf_from(other.get("/clients").text)
    assert client.post("/sign-out", data={"csrf_token": others_token}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "0" * 64}).status_code == 403
    assert client.get("/clients").status_code == 200  # still signed in: the forged sign-out did nothing


def test_htmx_sends_the_token_as_a_header(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/clients").text)
    response = client.post("/sign-out", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 303


def test_the_token_changes_when_a_person_signs_in(client: TestClient, world: World) -> None:
    before = csrf_from(client.get("/sign-in").text)
    sign_in(client, "agent@example.com")
    assert csrf_from(client.get("/clients").text) != before


def test_an_oversized_form_is_refused_with_a_clear_page(client: TestClient, world: World) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": "a" * 100_000, "password": "x", "csrf_token": token})
    assert response.status_code == 413 and "You sent more information than this service accepts" in response.text


def test_unexpected_and_oversized_fields_are_ignored_or_trimmed(client: TestClient, world: World) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": "x" * 5000, "password": "y", "is_admin": "true",
                                             "csrf_token": token})
    assert response.status_code == 200 and "Email address must be 254 characters or fewer" in response.text


def test_malformed_cookies_are_treated_as_signed_out(client: TestClient, world: World) -> None:
    for cookie in ("portal_session=garbage", "portal_session=\"unterminated", "portal_visitor=x.y.z; ;;=="):
        response = client.get("/clients", headers={"Cookie": cookie})
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


def test_wrong_methods_and_unknown_pages_get_pages_in_the_service_style(client: TestClient, world: World) -> None:
    wrong_method = client.request("PUT", "/clients", headers={"X-CSRF-Token": "nope"})
    assert wrong_method.status_code == 403  # a state-changing method still needs the token first
    token = csrf_from(client.get("/sign-in").text)
    assert client.request("DELETE", "/sign-in", headers={"X-CSRF-Token": token}).status_code == 405
    missing = client.get("/clients/abc/../../etc/passwd")
    assert missing.status_code == 404 and "<title>Page not found – Agent Online Self-Serve</title>" in missing.text


def test_an_unexpected_error_shows_the_service_error_page_without_a_trace(app, world: World) -> None:  # type: ignore[no-untyped-def]
    async def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    app.router.routes.append(Route("/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as failing:
        response = failing.get("/broken")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text and "secret internals" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
