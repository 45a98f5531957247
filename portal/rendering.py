"""The Jinja environment and the one place that decides between a whole page and an htmx partial."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from portal import formatting
from portal.services import Action
from portal.settings import SERVICE_NAME
from portal.static import StaticAssets

HERE = Path(__file__).resolve().parent


class StrictUndefined(jinja2.Undefined):
    """A typo in a template fails loudly, while `{% if maybe %}` still works (Notify's rule)."""

    __str__ = jinja2.Undefined._fail_with_undefined_error  # type: ignore[assignment]
    __iter__ = jinja2.Undefined._fail_with_undefined_error  # type: ignore[assignment]
    __len__ = jinja2.Undefined._fail_with_undefined_error  # type: ignore[assignment]
    __contains__ = jinja2.Undefined._fail_with_undefined_error  # type: ignore[assignment]


ContextProcessor = Callable[[Request], dict[str, Any]]


def make_templates(static: StaticAssets, context_processors: list[ContextProcessor]) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(HERE / "templates"),
                jinja2.PrefixLoader(
                    {
                        "partials": jinja2.FileSystemLoader(HERE / "partials"),
                        "govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja"),
                    }
                ),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Templates ask the authority what to offer with the same Action names the handlers check.
    env.globals.update(service_name=SERVICE_NAME, static_url=static.url, Action=Action)
    env.filters.update(formatting.FILTERS)
    return Jinja2Templates(env=env, context_processors=context_processors)


def wants_partial(request: Request) -> bool:
    """An htmx swap wants the fragment; boosted navigation and history restores need the whole page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    page: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status_code: int = 200,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    is_partial = partial is not None and wants_partial(request)
    context = {**(context or {}), "is_partial": is_partial}
    name = partial if is_partial and partial is not None else page
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if partial is not None:
        response.headers.add_vary_header("HX-Request")
    return response
