"""Pages go out compressed in the best encoding the client takes, and decode to exactly the page."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.testclient import TestClient

from portal.web.compression import preferred_encoding
from tests import factories
from tests.test_worklist import _many


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what a browser sends over HTTPS
        ("gzip, deflate", "gzip"),
        ("GZIP", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),  # q=0 means "not this one"
        ("br;q=0.0, gzip;q=0", None),
        ("deflate, identity", None),
        ("", None),
        ("br;q=junk", "br"),  # an unreadable weight does not refuse the encoding
    ],
)
def test_the_encoding_chosen_respects_what_the_client_accepts(header: str, expected: str | None) -> None:
    assert preferred_encoding(header) == expected


def _raw_get(client: TestClient, url: str, accept_encoding: str) -> tuple[dict[str, str], bytes]:
    """The response as sent on the wire, without decoding (the fixture's client reads every body it gets)."""
    raw_client = TestClient(client.app, base_url=str(client.base_url), cookies=client.cookies)
    with raw_client.stream("GET", url, headers={"Accept-Encoding": accept_encoding}) as response:
        assert response.status_code == 200
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_page_is_brotli_for_a_browser_and_gzip_for_other_clients(client: TestClient) -> None:
    client.get("/help")  # the visitor cookie, so every copy below carries the same CSRF token
    plain_headers, plain = _raw_get(client, "/help", "identity")
    br_headers, br = _raw_get(client, "/help", "gzip, deflate, br")
    gzip_headers, gzipped = _raw_get(client, "/help", "gzip")

    assert "content-encoding" not in plain_headers and int(plain_headers["content-length"]) == len(plain)
    assert br_headers["content-encoding"] == "br" and brotli.decompress(br) == plain
    assert gzip_headers["content-encoding"] == "gzip" and gzip.decompress(gzipped) == plain
    assert int(br_headers["content-length"]) == len(br) < len(gzipped) < len(plain) / 2
    # A cache between here and the browser must not hand one client's encoding to another.
    for headers in (plain_headers, br_headers, gzip_headers):
        assert "accept-encoding" in headers["vary"].lower()


def test_a_tiny_body_is_not_worth_compressing(client: TestClient) -> None:
    response = client.get("/static/no-such-file.css", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 404 and response.text == "Not found"
    assert "content-encoding" not in response.headers


def test_a_streamed_download_is_compressed_in_parts_and_decodes_whole(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    _many(engine, world, 10)
    factories.sign_in(client, "agent@example.com")
    _, plain = _raw_get(client, "/whats-due.csv", "identity")
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        headers, raw = _raw_get(client, "/whats-due.csv", encoding)
        assert headers["content-encoding"] == encoding and "content-length" not in headers
        assert decompress(raw) == plain
    assert plain.count(b"\n") > 10
