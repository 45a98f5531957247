"""The ENG/CYM toggle (issue 10): `GET /language/cy` or `/language/en` chooses the language and goes back.

A plain link, so it works without JavaScript; the person lands on the page they were on, and their answers are
kept because every journey saves its answers page by page on the server. It is a GET that changes state (the
cookie, and the account's language), as HMRC's own `/language/:lang` is: a link can be nothing else, and the
worst a forged one can do is change the language, which the person changes back with the same toggle.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.settings import Settings
from portal.web.db import db_session, will_write
from portal.web.i18n import language_cookie, page_to_return_to, save_for_account
from portal.web.links import path_for
from portal.web.sessions import current_viewer


async def change_language(request: Request) -> Response:
    language = i18n.supported(request.path_params["language"])
    if language is None or language != request.path_params["language"]:
        raise HTTPException(404)
    settings: Settings = request.app.state.settings
    response = RedirectResponse(page_to_return_to(request) or path_for(request, "start"), status_code=303)
    response.headers.append("set-cookie", language_cookie(language, settings))
    will_write(request)  # before the session is looked up: its first query takes SQLite's write lock
    viewer = current_viewer(request)
    if viewer is not None:
        save_for_account(db_session(request), viewer.user_id, language)
    return response


routes = [Route("/language/{language}", change_language, name="change_language")]
