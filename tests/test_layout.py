"""The layout's one rule per folder, checked on the source: the domain knows no HTTP, the web knows no area.

A rule that only the README states drifts; this test is what keeps the API, the pages and the command line
calling one copy of each rule (README, "How it is built")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            if node.module == "portal":  # `from portal import web` names a package
                modules.update(f"portal.{alias.name}" for alias in node.names)
    return modules


def sources(folder: str) -> list[Path]:
    return sorted((PORTAL / folder).rglob("*.py"))


def refused(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", sources("domain"), ids=lambda p: str(p.relative_to(PORTAL)))
def test_the_domain_knows_nothing_of_the_web(path: Path) -> None:
    assert refused(imported_modules(path), ("starlette", "portal.web", "portal.areas", "portal.app")) == []


@pytest.mark.parametrize("path", sources("web"), ids=lambda p: str(p.relative_to(PORTAL)))
def test_web_plumbing_knows_no_area(path: Path) -> None:
    assert refused(imported_modules(path), ("portal.areas", "portal.app", "portal.devdata")) == []


def test_the_rule_catches_a_starlette_import(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("from starlette.requests import Request\nfrom portal import web\n")
    assert refused(imported_modules(stray), ("starlette", "portal.web")) == ["portal.web", "starlette.requests"]


MAX_MODULE_LINES = 420  # issue 8: a module past ~400 lines becomes a package


def line_counts() -> dict[str, int]:
    """Lines per module of portal/, migrations aside (Alembic writes those)."""
    return {str(path.relative_to(PORTAL)): len(path.read_text().splitlines()) for path in sorted(PORTAL.rglob("*.py"))
            if "migrations" not in path.relative_to(PORTAL).parts}


def test_no_module_is_too_long_to_find_your_way_around() -> None:
    counts = line_counts()
    assert len(counts) > 40 and "areas/clients.py" in counts
    assert {name: lines for name, lines in counts.items() if lines > MAX_MODULE_LINES} == {}
