"""Welsh is complete (issue 10): every shown string is marked, and every marked string has its Welsh.

The catalogue is compared with a fresh extraction of the code, as `scripts/translations` makes one, so a
sentence added without running it (or left untranslated, or fuzzy) fails here rather than showing English
to a Welsh reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.i18n import CATALOGUES
from tests import i18n_scan

ROOT = Path(__file__).resolve().parent.parent
WELSH_PO = CATALOGUES / "cy" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def extracted() -> dict[tuple[str, str | None], str]:
    """(singular message id, context) -> the first place it is used, for every marked message in the code."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        singular = message[0] if isinstance(message, tuple) else message
        found.setdefault((singular, context), f"{filename}:{lineno}")
    return found


def welsh() -> Catalog:
    with WELSH_PO.open("rb") as po:
        return read_po(po, locale="cy")


def _key(message: Message) -> tuple[str, str | None]:
    return (message.id[0] if isinstance(message.id, tuple) else message.id, message.context)


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s and s.strip() for s in strings) and not message.fuzzy


def test_no_text_a_person_sees_is_left_unmarked() -> None:
    found = i18n_scan.problems([ROOT / "portal"])
    report = "\n".join(f"{path}: {problem}" for path, listed in found.items() for problem in listed)
    assert found == {}, f"Unmarked text (wrap it in _() or {{% trans %}}):\n{report}"


def test_every_marked_message_has_its_welsh() -> None:
    in_catalogue = {_key(m): m for m in welsh() if m.id}
    missing = [f"{key[0]!r} ({where})" for key, where in extracted().items() if key not in in_catalogue]
    untranslated = [repr(m.id) for m in in_catalogue.values() if not _translated(m)]
    assert missing == [], "Run scripts/translations, then translate:\n" + "\n".join(missing)
    assert untranslated == [], "No Welsh yet (or fuzzy):\n" + "\n".join(untranslated)


def test_the_catalogue_keeps_no_message_the_code_no_longer_uses() -> None:
    used = extracted()
    obsolete = [repr(m.id) for m in welsh() if m.id and _key(m) not in used]
    assert obsolete == [], "No longer in the code; run scripts/translations:\n" + "\n".join(obsolete)


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@pytest.mark.parametrize("check", ["placeholders", "compiles"])
def test_welsh_says_the_same_placeholders_and_compiles(check: str) -> None:
    catalogue = welsh()
    if check == "compiles":
        from io import BytesIO
        write_mo(BytesIO(), catalogue)
        assert not [(m.id, errors) for m, errors in catalogue.check() if errors]
        return
    wrong = []
    for message in catalogue:
        if not message.id or not _translated(message):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for text in ids for name in _names(text)}
        for text in strings:
            if _names(text) - wanted or (len(strings) == 1 and _names(text) != wanted):
                wrong.append(f"{message.id!r}: {text!r}")
    assert wrong == []


def _names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}
