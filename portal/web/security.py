"""Security headers and CSRF protection, applied to every response and every state change."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.domain.accounts import token_hash
from portal.settings import Settings

# The one inline script, at the top of <body> in templates/layout.html (it marks the page as scripted before the
# first paint); its hash lets exactly that text run. tests/test_security.py checks it matches the template.
INLINE_SCRIPT_HASH = "sha256-PrvGihDlm/fwuAQhj6NHaJGrD9BaZIwxCi+jr8c7+aE="
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' '{INLINE_SCRIPT_HASH}'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def content_security_policy(*, form_action_also: str | None = None) -> str:
    """The policy, letting forms also lead to one more origin: the OAuth consent page's answer is a redirect to the
    software's registered address, which browsers check against form-action too."""
    if form_action_also is None:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {form_action_also}")


CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Paths for software, not browsers: they authenticate with a client secret or a bearer token and never read a
# cookie, so there is nothing for a forged cross-site request to ride on. Skipping this middleware also means no
# session is ever found for them (the session lookup starts from the hash set below).
MACHINE_PATHS = ("/oauth/token", "/oauth/revoke", "/agents/", "/organisations/", "/agent-authorisation-test-support/",
                 "/api/")
SESSION_TOKEN_HASH = "session_token_hash"  # request state: the hash of a session cookie whose signature checked
MAX_FORM_BYTES = 64 * 1024  # the portal's largest form is a few hundred bytes


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if settings.secure_cookies:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                own_policy = "content-security-policy" in headers  # a page that widened it (content_security_policy)
                for name, value in self.headers:
                    if not (own_policy and name == b"content-security-policy"):
                        headers.raw.append((name, value))
                # Pages hold personal tax data: no shared or back-forward copies of them.
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The client list's last search, for "Change client" (read by the acting-for banner's template too).
CLIENTS_VIEW_COOKIE = "portal_clients_view"


class CookieNames:
    def __init__(self, settings: Settings) -> None:
        prefix = "__Host-" if settings.secure_cookies else ""
        self.session = f"{prefix}portal_session"
        self.anonymous = f"{prefix}portal_visitor"
        # The client list's last search, for "Change client" (portal.areas.clients): a person's, so it goes when
        # they sign out or someone signs in. Scoped to /clients, so __Host- (which needs Path=/) cannot be used.
        self.clients_view = CLIENTS_VIEW_COOKIE
        self.secure = settings.secure_cookies

    def header(self, name: str, value: str, *, max_age: int | None = None, path: str = "/") -> str:
        parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def clients_view_header(self, query: str) -> str:
        """Remember the client list's search (its query string); "" forgets it."""
        return self.header(self.clients_view, query, path="/clients", max_age=None if query else 0)


class CSRFMiddleware:
    """Refuses any state change that does not carry the token bound to the visitor's session.

    The token is an HMAC of the session (signed-in) or of an anonymous visitor cookie (sign-in and
    sign-up forms), so it needs no storage and changes when a person signs in. Forms send it as a hidden
    field; htmx sends it as a header (data-hx-headers on <body>).
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, on_refused: Callable[[Request, int], Awaitable[Response]]
    ) -> None:
        self.app = app
        self.key = settings.secret_key.encode()
        self.cookies = CookieNames(settings)
        self.session_signer = URLSafeSerializer(settings.secret_key, salt="session")
        self.visitor_signer = URLSafeSerializer(settings.secret_key, salt="visitor")
        self.on_refused = on_refused

    def _binding(self, scope: Scope) -> tuple[str, str | None]:
        """(what the token is bound to, a new visitor cookie to set if there was nothing to bind to)."""
        cookies = cookies_of(scope)
        raw_session = cookies.get(self.cookies.session)
        if raw_session:
            try:
                hashed = token_hash(self.session_signer.loads(raw_session))
            except BadSignature:
                pass
            else:
                scope["state"][SESSION_TOKEN_HASH] = hashed  # portal.web.sessions looks the session up by it
                return "s:" + hashed, None
        raw_visitor = cookies.get(self.cookies.anonymous)
        if raw_visitor:
            try:
                return "v:" + self.visitor_signer.loads(raw_visitor), None
            except BadSignature:
                pass
        visitor = secrets.token_urlsafe(18)
        return "v:" + visitor, self.visitor_signer.dumps(visitor)

    def token_for(self, binding: str) -> str:
        return hmac.new(self.key, binding.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/static/", *MACHINE_PATHS)):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        binding, new_visitor_cookie = self._binding(scope)
        expected = self.token_for(binding)
        scope.setdefault("state", {})["csrf_token"] = expected

        if scope["method"] in UNSAFE_METHODS:
            body, status = await _read_body(receive, MAX_FORM_BYTES)
            if status is None and not hmac.compare_digest(_supplied_token(scope, body), expected):
                status = 403
            if status is not None:
                response = await self.on_refused(Request(scope), status)
                await response(scope, receive, send)
                return
            receive = _replay(body, receive)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_visitor_cookie:
                headers = MutableHeaders(scope=message)
                if not any(name == b"set-cookie" and self.cookies.anonymous.encode() in value
                           for name, value in headers.raw):
                    headers.append("set-cookie", self.cookies.header(self.cookies.anonymous, new_visitor_cookie))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def cookies_of(scope: Scope) -> dict[str, str]:
    """The request's cookies, read in ASGI middleware before a Request exists."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))  # lenient: a malformed header is never a 500
    return {}


def _supplied_token(scope: Scope, body: bytes) -> str:
    headers: dict[bytes, bytes] = dict(scope["headers"])
    if header := headers.get(CSRF_HEADER.encode()):
        return header.decode("latin-1")
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
    if content_type != b"application/x-www-form-urlencoded":
        return ""
    try:
        values = parse_qs(body.decode("utf-8"), max_num_fields=200).get(CSRF_FIELD, [""])
    except (UnicodeDecodeError, ValueError):
        return ""
    return values[0]


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, int | None]:
    """The whole request body, or a 413 status if it is larger than any form the portal has."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", 400
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", 413
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
