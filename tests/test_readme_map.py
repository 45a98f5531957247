"""The README's map of the code matches the tree, module by module, so the next engineer can trust it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP_HEADING = "## How it is built"


def mapped_modules(readme: str) -> set[str]:
    """Paths of the .py files the map names. The map is the first code block after the heading; each line
    is `<indent><name>  <what it is>`, two spaces of indent per folder level, one file or folder a line."""
    block = readme.split(MAP_HEADING, 1)[1].split("```", 2)[1]
    folders: list[str] = []
    found: set[str] = set()
    for line in block.splitlines():
        match = re.match(r"( *)(\S+)", line)
        if not match:
            continue
        depth, name = len(match.group(1)) // 2, match.group(2)
        del folders[depth:]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        elif name.endswith(".py"):
            found.add("/".join([*folders, name]))
    return found


def modules_in_tree() -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for path in (ROOT / "portal").rglob("*.py")
        if "migrations" not in path.parts and path.name != "__init__.py"
    }


def test_the_readme_map_names_every_module_and_no_other() -> None:
    mapped = mapped_modules((ROOT / "README.md").read_text())
    tree = modules_in_tree()
    assert {"missing from the README": sorted(tree - mapped), "in the README only": sorted(mapped - tree)} == {
        "missing from the README": [], "in the README only": []}


def test_the_map_parser_reads_nesting() -> None:
    readme = f"{MAP_HEADING}\n\n```\nportal/\n  app.py   x\n  web/     y\n    db.py  z\ntests/   t\n```\n"
    assert mapped_modules(readme) == {"portal/app.py", "portal/web/db.py"}
