from __future__ import annotations

import re

from starlette.testclient import TestClient


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_only_to_content_hashed_files_on_this_origin(client: TestClient) -> None:
    html = client.get("/sign-in").text
    urls = _asset_urls(html)
    assert len(urls) == 4  # icon, CSS, htmx, the portal's module
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url) for url in urls)
    # Nothing is fetched from another origin (a link a person follows, to GOV.UK's Welsh services, is not fetched).
    assert not re.search(r'(?:src="|<link[^>]*href=")(?:https?:)?//', html)
    assert re.findall(r'href="(https?://[^"]+)"', html) == ["https://www.gov.uk/cymraeg"]


def test_static_files_are_immutable_and_compressed(client: TestClient) -> None:
    css = next(url for url in _asset_urls(client.get("/sign-in").text) if url.endswith(".css"))
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert "govuk-button" in response.text
    assert client.get(css, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_browsers_that_accept_brotli_get_the_smaller_copy(client: TestClient) -> None:
    js = next(url for url in _asset_urls(client.get("/sign-in").text) if "htmx" in url)
    brotli_copy = client.get(js, headers={"Accept-Encoding": "gzip, deflate, br"})
    gzip_copy = client.get(js, headers={"Accept-Encoding": "gzip"})
    assert brotli_copy.headers["content-encoding"] == "br" and brotli_copy.text == gzip_copy.text
    assert int(brotli_copy.headers["content-length"]) < int(gzip_copy.headers["content-length"])
    refused = client.get(js, headers={"Accept-Encoding": "br;q=0, gzip"})  # q=0: "not brotli"
    assert refused.headers["content-encoding"] == "gzip" and refused.text == gzip_copy.text


def test_an_unhashed_or_unknown_static_path_is_not_served(client: TestClient) -> None:
    assert client.get("/static/portal.min.css").status_code == 404
    assert client.get("/static/../portal/settings.py").status_code == 404


def test_the_css_has_no_gov_uk_only_branding(client: TestClient) -> None:
    css = next(url for url in _asset_urls(client.get("/sign-in").text) if url.endswith(".css"))
    text = client.get(css).text
    assert "@font-face" not in text and "GDS Transport" not in text
    # No crown, logotype or font files: the stylesheet may only point at files this service serves itself.
    for target in re.findall(r"url\(([^)]+)\)", text):
        assert client.get(target.strip("\"'")).status_code == 200, target


def test_html_pages_are_compressed(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
