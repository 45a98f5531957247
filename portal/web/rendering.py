"""The Jinja environment and the one place that decides between a whole page and an htmx partial."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from portal import i18n
from portal.domain.services import Action
from portal.settings import SERVICE_NAME
from portal.web import formatting
from portal.web.static import StaticAssets

PACKAGE = Path(__file__).resolve().parent.parent  # portal/: templates/ and partials/ live there

try:  # markupsafe 3's C escaper, the one escape() calls before wrapping its result in Markup
    from markupsafe import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - another markupsafe: the same text, at escape()'s cost

    def _escape_text(text: str, /) -> str:
        return str(escape(text))


class StrictUndefined(jinja2.Undefined):
    """A typo in a template fails loudly, while `{% if maybe %}` still works (Notify's rule)."""

    __str__ = jinja2.Undefined._fail_with_undefined_error
    __iter__ = jinja2.Undefined._fail_with_undefined_error
    __len__ = jinja2.Undefined._fail_with_undefined_error
    __contains__ = jinja2.Undefined._fail_with_undefined_error


def escape_output(value: object) -> str:
    """What `{{ value }}` writes into a page: exactly markupsafe.escape's text, as a plain str.

    Jinja's own output path wraps every value in a Markup object only to join it into the page straight
    away; with some 170 values on a page of the client list, that wrapping was a third of the render.
    """
    if type(value) is str:
        return _escape_text(value)
    if hasattr(value, "__html__"):  # Markup, macro output, |safe: already HTML
        html: str = value.__html__()
        return html
    return _escape_text(str(value))


class _CodeGenerator(CodeGenerator):
    """Compiles `{{ value }}` to environment.escape_output(value) where Jinja would write escape(value).
    The same hook jinja2.nativetypes overrides; volatile autoescape blocks keep Jinja's own code."""

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if not (frame.eval_ctx.autoescape and not frame.eval_ctx.volatile):
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


class PortalEnvironment(jinja2.Environment):
    code_generator_class = _CodeGenerator
    escape_output = staticmethod(escape_output)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A plain dict, not Jinja's ChainMap over env.globals: each render, include and import compares these
        # keys, which on a ChainMap cost a sixth of the client list's render. The catch: globals must all be
        # set before the first template loads, as make_templates does.
        return {**self.globals, **(d or {})}


ContextProcessor = Callable[[Request], dict[str, Any]]


def make_templates(static: StaticAssets, context_processors: list[ContextProcessor]) -> Jinja2Templates:
    env = PortalEnvironment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(PACKAGE / "templates"),
                jinja2.PrefixLoader(
                    {
                        "partials": jinja2.FileSystemLoader(PACKAGE / "partials"),
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
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} and _() look the language up when they run (portal.i18n), so one environment serves both.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True,  # type: ignore[attr-defined]
                                  pgettext=i18n.pgettext, npgettext=i18n.npgettext)
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
