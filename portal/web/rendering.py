"""The Jinja environment and the one place that decides between a whole page and an htmx partial."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from keyword import iskeyword
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
from portal.web.links import PathFinder
from portal.web.security import CLIENTS_VIEW_COOKIE
from portal.web.static import StaticAssets

PACKAGE = Path(__file__).resolve().parent.parent  # portal/: templates/ and partials/ live there

try:  # markupsafe 3's C escaper, the one escape() calls before wrapping its result in Markup
    from markupsafe import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - another markupsafe: the same text, at escape()'s cost

    def _escape_text(text: str, /) -> str:
        return str(escape(text))


class LenientBoolUndefined(jinja2.Undefined):
    """A typo in a template fails loudly when printed, iterated or measured, yet `{% if maybe %}` still works
    (Notify's rule). Not Jinja's StrictUndefined, which fails on `bool()` too: hence its own name."""

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

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        """`path_for(...)` goes straight to environment.path_for, and with constant arguments becomes its path.

        Through Jinja's context.call, which looks for pass_context markers first, the ~35 links of a page of the
        client list doubled its render; called directly each costs about a microsecond, and a constant one
        (the menu, the footer, most links) nothing at all. A template therefore cannot rebind `path_for`.
        """
        name = node.node
        if (forward_caller or not isinstance(name, nodes.Name) or name.name != "path_for" or len(node.args) != 1
                or node.dyn_args is not None or any(iskeyword(kwarg.key) for kwarg in node.kwargs)):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        route, constants = node.args[0], [kwarg.value for kwarg in node.kwargs]
        if (node.dyn_kwargs is None and isinstance(route, nodes.Const)
                and all(isinstance(value, nodes.Const) for value in constants)):
            assert isinstance(self.environment, PortalEnvironment)
            params = {kwarg.key: kwarg.value.as_const() for kwarg in node.kwargs}
            self.write(repr(self.environment.path_for(route.value, **params)))
            return
        self.write("environment.path_for(")
        self.visit(node.args[0], frame)
        for kwarg in node.kwargs:
            self.write(f", {kwarg.key}=")
            self.visit(kwarg.value, frame)
        if node.dyn_kwargs is not None:
            self.write(", **")
            self.visit(node.dyn_kwargs, frame)
        self.write(")")


class PortalEnvironment(jinja2.Environment):
    code_generator_class = _CodeGenerator
    escape_output = staticmethod(escape_output)
    path_for: PathFinder

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A plain dict, not Jinja's ChainMap over env.globals: each render, include and import compares these
        # keys, which on a ChainMap cost a sixth of the client list's render. The catch: globals must all be
        # set before the first template loads, as make_templates does.
        return {**self.globals, **(d or {})}


ContextProcessor = Callable[[Request], dict[str, Any]]


# GOV.UK components are our own small macros with GOV.UK's classes and parameter names (templates/components/,
# one a file), not govuk-frontend-jinja's. Measured on these machines (shared/recipe.md), a whole page through its
# template.html served about 470 requests/s against about 9,000 for a small plain template (it renders header and
# footer twice through caller()); our layout with GOV.UK classes, and macros only where they earn their keep, costs
# far less. So nothing imports it, and it was dropped from the dependencies.
def make_templates(
    static: StaticAssets, context_processors: list[ContextProcessor], path_for: PathFinder
) -> Jinja2Templates:
    env = PortalEnvironment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(PACKAGE / "templates"),
                jinja2.PrefixLoader({"partials": jinja2.FileSystemLoader(PACKAGE / "partials")}),
            ]
        ),
        autoescape=True,
        undefined=LenientBoolUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} and _() look the language up when they run (portal.i18n), so one environment serves both.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True,  # type: ignore[attr-defined]
                                  pgettext=i18n.pgettext, npgettext=i18n.npgettext)
    # Templates ask the authority what to offer with the same Action names the handlers check.
    # path_for(name, **params): a link built from a route name (portal.web.links), never a literal path.
    # `portal_name`, not `service_name`: pages about a tax service pass that name in their own context, and a
    # context value hides a global of the same name (the header and title then named the tax service).
    env.globals.update(portal_name=i18n.lazy(SERVICE_NAME), static_url=static.url, Action=Action, path_for=path_for,
                       clients_view_cookie=CLIENTS_VIEW_COOKIE)
    env.path_for = path_for  # what compiled templates call (_CodeGenerator.visit_Call)
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
