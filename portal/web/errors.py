"""Error pages in the service's style (GOV.UK patterns: shared/standards.md §2.10). Never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.i18n import N_, gettext
from portal.web.links import path_for
from portal.web.rendering import render, wants_partial
from portal.web.sessions import SecondStepRequired, SignInRequired, timed_out

log = logging.getLogger("portal")

# In English, marked with N_ and translated when the page is shown.
TITLES = {
    400: N_("Sorry, there is a problem with your request"),
    403: N_("Sorry, there is a problem with your request"),
    404: N_("Page not found"),
    405: N_("Page not found"),
    413: N_("Sorry, there is a problem with your request"),
    415: N_("Sorry, there is a problem with your request"),
    500: N_("Sorry, there is a problem with the service"),
}


def _template(status_code: int) -> str:
    if status_code >= 500:
        return "errors/500.html"
    if status_code in (404, 405):  # a wrong method is, to a person, a page that is not there
        return "errors/404.html"
    return "errors/400.html"


async def error_page(request: Request, status_code: int) -> Response:
    context = {"title": gettext(TITLES.get(status_code, TITLES[400])), "status": status_code}
    # A 404 reads the same whatever was asked for (a client you may not act for looks like no client at all), so
    # its language toggle carries no path: the browser's Referer brings the person back instead.
    request.state.error_page = True
    return render(request, _template(status_code), context, status_code=status_code)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return await error_page(request, exc.status_code)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if isinstance(exc, SecondStepRequired):
        # Past the password but not the second step: that step first, then back here.
        location = path_for(request, "second_step") + "?next=" + quote(target, safe="")
    elif timed_out(request):
        # Without JavaScript there was no warning: say what happened (shared/accounts.md §1).
        location = path_for(request, "timed_out") + "?next=" + quote(target, safe="")
    else:
        location = path_for(request, "sign_in") + "?next=" + quote(target, safe="")
    if wants_partial(request):
        # An htmx swap cannot follow a redirect into a whole sign-in page: ask htmx to load it instead.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        response = await error_page(request, 500)
    except Exception:  # the error page itself failed: plain words, still no trace
        response = Response(gettext("Sorry, there is a problem with the service. Try again later."), status_code=500,
                            media_type="text/plain")
    # This response leaves from outside the middleware stack, so it carries the security headers itself.
    for name, value in request.app.state.security_headers:
        response.headers[name.decode()] = value.decode()
    response.headers["Cache-Control"] = "no-store"
    return response


HANDLERS = {HTTPException: http_exception, SignInRequired: sign_in_required, Exception: server_error}
