"""The language of each request (issue 10): chosen with the ENG/CYM toggle, or a `?lang=cy` link, and kept.

Which language a page speaks, first match wins:
1. `?lang=cy` (or `en`) on the URL: a link from a Welsh letter or page opens in Welsh. It is remembered too.
2. The language cookie, set by the toggle (`GET /language/{lang}`) and by 1. It is not tied to the session, so it
   survives signing out, and a person who has never chosen reads English.
3. English.
A signed-in person's choice is also kept with their account (User.language), so it follows them to another
browser and their emails are in it: the toggle saves it, and signing in brings the two together (remember_at_sign_in).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import update
from sqlmodel import Session, col
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n
from portal.domain.models import User
from portal.settings import Settings
from portal.web.security import cookies_of

LANGUAGE_COOKIE = "language"
QUERY_PARAMETER = "lang"
ONE_YEAR = 365 * 24 * 60 * 60
# What software reads (JSON), in English as HMRC's own APIs are. Not /api/reference: a page, for people.
ENGLISH_ONLY_PATHS = ("/oauth/token", "/oauth/revoke", "/agents/", "/organisations/",
                      "/agent-authorisation-test-support/", "/api/openapi.json")


def language_cookie(language: str, settings: Settings) -> str:
    # Readable by nobody's script and sent on same-site navigation only, like every cookie of ours; it holds no
    # secret, so it needs no signature: anything but "en" or "cy" is ignored.
    parts = [f"{LANGUAGE_COOKIE}={language}", "Path=/", "HttpOnly", "SameSite=Lax", f"Max-Age={ONE_YEAR}"]
    if settings.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def chosen_language(request: Request) -> str | None:
    """The language this browser has chosen (cookie), or None if it never chose."""
    return i18n.supported(request.cookies.get(LANGUAGE_COOKIE))


class LanguageMiddleware:
    """Sets the language of the moment (portal.i18n) for everything the request does: pages, partials, error
    pages, and the emails it queues for a person with no account yet."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(ENGLISH_ONLY_PATHS):
            # The API answers in English, as HMRC's own APIs do: its codes carry the meaning for software.
            i18n.set_language(i18n.DEFAULT_LANGUAGE)
            await self.app(scope, receive, send)
            return
        asked = _from_query(scope)
        cookie = i18n.supported(cookies_of(scope).get(LANGUAGE_COOKIE))
        # Not reset afterwards: Starlette's outermost error handler renders the 500 page after this returns, in the
        # same task, and should speak the same language. Each request runs in a task (and context) of its own.
        i18n.set_language(asked or cookie or i18n.DEFAULT_LANGUAGE)
        if asked is None or asked == cookie:
            await self.app(scope, receive, send)
            return
        header = language_cookie(asked, self.settings)

        async def send_remembering(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_remembering)


def _from_query(scope: Scope) -> str | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if key == QUERY_PARAMETER:
            return i18n.supported(value)
    return None


def save_for_account(db: Session, user_id: int, language: str) -> None:
    db.execute(update(User).where(col(User.id) == user_id).values(language=language))


def remember_at_sign_in(db: Session, request: Request, user: User, response: Response, settings: Settings) -> None:
    """Bring the browser's choice and the account's together. A choice made on this browser (on the sign-in page,
    say) is the newest, so the account takes it; a browser that never chose takes the account's."""
    chosen = chosen_language(request)
    if chosen is not None:
        if chosen != user.language:
            save_for_account(db, user.id, chosen)
            user.language = chosen
        return
    remembered = i18n.supported(user.language)
    if remembered is not None and remembered != i18n.DEFAULT_LANGUAGE:
        response.headers.append("set-cookie", language_cookie(remembered, settings))


def path_without_language(path: str, query: str) -> str:
    """The page's path and query, less any `lang=`: where the toggle comes back to."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != QUERY_PARAMETER]
    return path + ("?" + urlencode(kept) if kept else "")


def page_to_return_to(request: Request) -> str | None:
    """The page the toggle was used on: the Referer (it follows htmx's pushed URLs) when it is our own site,
    else the `to` the link carries. Only ever a path on this site, so the toggle is no open redirect."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.url.netloc and referer.path.startswith("/"):
        candidate = path_without_language(referer.path, referer.query)
    else:
        candidate = request.query_params.get("to", "")
    if candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate \
            and not candidate.startswith("/language/"):
        return candidate
    return None
