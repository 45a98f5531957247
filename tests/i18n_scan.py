"""Finds text a person would see that is not marked for translation (issue 10).

Templates are read with Jinja's own lexer: text outside `{% trans %}` blocks and `{{ }}` expressions is HTML,
whose text nodes and human-readable attributes must be empty of words; string literals inside expressions that
read like words must be the argument of `_()`/`gettext()`/`ngettext()`/`pgettext()`. Python modules are read with
`ast`: a string constant or f-string that reads like a sentence must be inside a gettext call (or `N_`, marked
to be translated where it is shown), unless it is a docstring, an exception for programmers, or a log line, or its
line says why it stays as it is with a comment `# i18n: <the reason>`.

Run by tests/test_i18n.py over the whole package; by hand, for one area while you translate it:

    .venv/bin/python -m tests.i18n_scan portal/templates/firm portal/areas/firm
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portal"

# Shown as they are in either language: the language toggle's own names and its hidden text (each written in the
# language it offers, with its `lang`), the link to GOV.UK's Welsh services (always in Welsh), and symbols.
SAME_IN_BOTH = {"ENG", "CYM", "GOV.UK", "£", "%", "htmx", "– Change the language to English",
                "– Newid yr iaith i’r Gymraeg", "Rhestr o Wasanaethau Cymraeg"}

# Attributes whose values are read out or shown.
SHOWN_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-roledescription", "data-title",
                    "data-message", "data-message-suffix", "data-keep-alive-button-text",
                    "data-sign-out-button-text", "aria-valuetext", "label"}

GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_", "lazy_gettext"}

# Python modules whose strings are not for people: demo data, migrations, the command line for developers,
# the API (English, as HMRC's own APIs are; machine codes carry the meaning), tests' test-support routes.
PYTHON_EXEMPT = ("devdata/", "migrations/", "__main__.py", "api/", "worker.py", "mail/transport.py")

WORD = re.compile(r"[A-Za-z]{2,}")
PLACEHOLDER = "\x00"


def reads_like_words(text: str) -> bool:
    """A capitalised word ("Continue"), or two lowercase words ("your name"), but not a CSS class, a path, a
    field name, a route name or a code."""
    text = text.strip()
    if text[:1] in "'\"" and text[-1:] == text[:1]:
        text = text[1:-1]  # the lexer hands over string tokens with their quotes
    if not WORD.search(text) or text in SAME_IN_BOTH:
        return False
    if re.fullmatch(r"[\w\-./:#?=&%{}()\[\],* ]*", text) and ("-" in text or "_" in text or "/" in text
                                                             or "." in text.rstrip(".")):
        return False  # govuk-button, /clients, client_overview, portal.min.css
    if re.search(r"\b[A-Z][a-z]+", text):
        return True
    return len(re.findall(r"\b[a-z]{2,}\b", text)) >= 2


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and self._words(value):
                self.found.append(f'{name}="{value}"')
            if tag == "input" and name == "value" and value and ("type", "submit") in attrs and self._words(value):
                self.found.append(f'value="{value}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and self._words(data):
            self.found.append(" … ".join(bit.strip() for bit in data.split(PLACEHOLDER) if WORD.search(bit)))

    def _words(self, text: str) -> bool:
        # A macro that writes part of a tag (` aria-describedby="…"`, `class="…">`) is markup, not text.
        bits = [bit for bit in text.split(PLACEHOLDER)
                if WORD.search(bit) and bit.strip() not in SAME_IN_BOTH and not re.search(r'[\w-]="|"\s*>', bit)]
        return bool(bits)



def template_problems(path: Path, env: Environment | None = None) -> list[str]:
    """'line: text' for each piece of unmarked text in one template."""
    env = env or Environment(extensions=["jinja2.ext.i18n"])
    source = path.read_text(encoding="utf-8")
    problems: list[str] = []
    html: list[str] = []
    in_trans = False
    in_comment_free_tag = False
    previous: list[str] = []  # the last few token values inside the current tag
    line_of_html: list[int] = []
    for lineno, kind, value in env.lex(source):
        if kind == "whitespace":
            continue
        if kind == "block_begin" or kind == "variable_begin":
            previous = []
            in_comment_free_tag = True
            if not in_trans:
                html.append(PLACEHOLDER)
            continue
        if kind in ("block_end", "variable_end"):
            in_comment_free_tag = False
            continue
        if in_comment_free_tag:
            if kind == "name" and value in ("trans", "pluralize") and previous == []:
                in_trans = True
            elif kind == "name" and value == "endtrans":
                in_trans = False
            elif kind == "string" and not in_trans and reads_like_words(value) and not _in_gettext(previous):
                problems.append(f"{lineno}: {value!r} (a string in an expression; wrap it in _())")
            previous.append(value)
            continue
        if kind == "data" and not in_trans:
            html.append(value)
            line_of_html.append(lineno)
    parser = _HtmlText()
    markup = "".join(html).replace("</" + PLACEHOLDER, "</x-dynamic").replace("<" + PLACEHOLDER, "<x-dynamic ")
    parser.feed(markup)
    parser.close()
    for text in parser.found:
        problems.append(f"{text.replace(PLACEHOLDER, '…')[:120]!r} (text outside {{% trans %}})")
    return problems


def _in_gettext(tokens: list[str]) -> bool:
    """Whether the string just lexed is an argument of a gettext call still open at this point."""
    depth = 0
    for index in range(len(tokens) - 1, -1, -1):
        token = tokens[index]
        if token == ")":
            depth += 1
        elif token == "(":
            if depth == 0:
                return index > 0 and tokens[index - 1] in GETTEXT_NAMES
            depth -= 1
    return False


def python_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    exempt: set[int] = set()
    for node in ast.walk(tree):
        # Docstrings.
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                exempt.add(id(first.value))
        # Marked for translation, raised for programmers, logged, or a type annotation.
        if isinstance(node, ast.Call) and (_call_name(node) in GETTEXT_NAMES | {"cast", "TypeVar", "text", "NewType"}
                                           or _is_log_call(node)):
            _exempt_all(node, exempt)
        if isinstance(node, ast.Raise) and node.exc is not None:
            _exempt_all(node.exc, exempt)
        if isinstance(node, ast.Assert):
            _exempt_all(node, exempt)
        if isinstance(node, (ast.AnnAssign, ast.arg)) and getattr(node, "annotation", None) is not None:
            _exempt_all(node.annotation, exempt)  # type: ignore[arg-type]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            _exempt_all(node.returns, exempt)
        if isinstance(node, ast.Subscript):
            _exempt_all(node.slice, exempt)  # mapping["Key"], Literal["Yes"]
    problems = []
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        text: str | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else PLACEHOLDER
                           for v in node.values)
            for value in node.values:
                exempt.add(id(value))
        if text is None or not _sentence(text):
            continue
        line = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
        if "# i18n: " in line:  # a reason the text stays as it is ("# i18n: a proper name"): said, so reviewable
            continue
        problems.append(f"{node.lineno}: {text.replace(PLACEHOLDER, '…')[:100]!r}")
    return sorted(problems, key=lambda p: int(p.split(":", 1)[0]))


def _sentence(text: str) -> bool:
    """Reads as words shown to a person: capitalised prose, not SQL, a code, a route or a format string."""
    stripped = text.strip()
    if not stripped or stripped in SAME_IN_BOTH or "\n" in stripped and stripped.upper() == stripped:
        return False
    if re.match(r"^(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|PRAGMA|BEGIN)\b", stripped):
        return False
    return bool(re.match(r"^[A-Z][A-Za-z’']*([ ,:][^\n]*)?[ a-z.?!:)’]$", stripped)) and " " in stripped \
        and bool(re.search(r"\b[a-z]{2,}\b", stripped))


def _is_log_call(call: ast.Call) -> bool:
    """logger.warning("…"), logging.error("…"): for whoever runs the service, not for the person at the page
    (unlike form.error("field", "…"), which is shown)."""
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr in {"debug", "info", "warning", "error", "exception",
                                                              "critical"}
            and isinstance(func.value, ast.Name) and func.value.id in {"logger", "log", "logging", "LOG", "_log"})


def _call_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


def _exempt_all(node: ast.AST, exempt: set[int]) -> None:
    for child in ast.walk(node):
        exempt.add(id(child))


def templates(under: Iterable[Path]) -> Iterator[Path]:
    for root in under:
        if root.is_file():
            if root.suffix == ".html":
                yield root
            continue
        yield from sorted(p for p in root.rglob("*.html"))


def python_modules(under: Iterable[Path]) -> Iterator[Path]:
    for root in under:
        candidates = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in candidates:
            relative = path.relative_to(PACKAGE).as_posix()
            if path.suffix == ".py" and not relative.startswith(PYTHON_EXEMPT) \
                    and not relative.endswith(PYTHON_EXEMPT):
                yield path


def problems(under: Iterable[Path]) -> dict[str, list[str]]:
    roots = [Path(p).resolve() for p in under]
    found: dict[str, list[str]] = {}
    env = Environment(extensions=["jinja2.ext.i18n"])
    for path in templates(roots):
        if "/templates/emails/" in path.as_posix() and path.suffix != ".html":
            continue
        if listed := template_problems(path, env):
            found[path.relative_to(ROOT).as_posix()] = listed
    for path in python_modules(roots):
        if listed := python_problems(path):
            found[path.relative_to(ROOT).as_posix()] = listed
    return found


def main(argv: list[str]) -> int:
    found = problems([Path(a) for a in argv] or [PACKAGE])
    for path, listed in found.items():
        print(path)
        for problem in listed:
            print("   ", problem)
    print(f"{sum(map(len, found.values()))} unmarked in {len(found)} files", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
