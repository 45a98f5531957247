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


# --- One Welsh term per English term (the glossary, shared/welsh.md §7) ---------------------------------------------
# For each English term found in a message, every Welsh form of that message must use the agreed Welsh term. Welsh
# mutates a word's first letter after some words, so each Welsh pattern allows its term's mutations: cleient, gleient,
# chleient, nghleient ("eich cleient", "i’r cleient", "ei chleient", "fy nghleient"). Placeholders such as %(client)s
# are not English words. Keep the list small and sure: a term whose translation truly depends on the sentence has
# no rule here.
_C = "(?:c|g|ch|ngh)"  # c- and its soft, aspirate and nasal mutations
_D = "(?:d|dd|n)"
_T = "(?:t|d|th|nh)"
GLOSSARY: list[tuple[str, str, str]] = [
    # (the English term, where it is in a message id, the Welsh that message must then say)
    ("link (the noun)", r"\b(?:the|a|an|this|its|new|invitation|request|resend) links?\b", rf"\b{_D}olen(?:ni)?\b"),
    ("trusted helper", r"\btrusted helpers?\b", rf"\b{_C}ynorthwy(?:ydd|wyr) dibynadwy\b"),
    ("2-step verification", r"\b2-step verification\b", rf"\b{_D}ilysu dau gam\b"),
    ("authorisation request", r"\bauthorisation requests?\b",
     rf"\b{_C}(?:ais|eisiadau)(?: \S+){{0,3}} am awdurdodiad\b"),
    ("access group", r"\baccess groups?\b", r"\b(?:g|ng)?r(?:ŵp|wpiau) mynediad\b"),
    ("tax service", r"\btax services?\b", r"\b(?:g|ng)?wasanaeth(?:au)? treth\b"),
    ("client", r"(?<!%\()\bclients?\b", rf"\b{_C}leient"),
    ("firm", r"(?<!%\()\bfirms?\b", rf"\b{_C}wmn[iï]"),
    ("agent", r"(?<!%\()\bagents?\b", r"\bh?asiant"),
    ("email address", r"\bemail address(?:es)?\b", rf"\b{_C}yfeiriad(?:au)? (?:\S+ )?e-bost\b"),
    ("password", r"\bpasswords?\b", rf"\b{_C}yfrin(?:air|eiriau)\b"),
    ("access code", r"\baccess codes?\b", rf"\b{_C}od(?:au)? mynediad\b"),
    ("recovery code", r"\brecovery codes?\b", rf"\b{_C}od(?:au)? adfer\b"),
    ("security key", r"\bsecurity keys?\b", r"\bh?allwedd(?:au)? ddiogelwch\b"),
    ("reference", r"(?<!API )\breferences?\b", rf"\b{_C}yfeirnod"),
    ("team member", r"\bteam members?\b", r"\baelod(?:au)?(?: o)?[’']r tîm\b"),
    ("standard user", r"\bstandard users?\b", rf"\b{_D}efnydd(?:iwr|wyr) safonol\b"),
    ("administrator", r"\badministrators?\b", r"\b(?:g|ng)?weinyddw(?:r|yr)\b"),
    ("tax year", r"\btax years?\b", r"\b(?:b|f|m)l(?:wyddyn|ynyddoedd|ynedd) (?:d|t)reth\b"),
    ("Scottish taxpayer", r"\bScottish taxpayers?\b", rf"\b{_T}rethdalw(?:r|yr) Albanaidd\b"),
    ("Income Tax", r"\bIncome Tax\b", rf"\b{_T}reth Incwm\b"),
    ("Making Tax Digital", r"\bMaking Tax Digital\b", rf"\b{_T}roi Treth yn Ddigidol\b"),
    ("Self Assessment", r"\bSelf Assessment\b", r"\bHunanasesiad\b"),
    ("quarterly update", r"\bquarterly updates?\b", rf"\b{_D}iweddariad(?:au)? chwarterol\b"),
    ("final declaration", r"\bfinal declarations?\b", rf"\b{_D}atganiad(?:au)? terfynol\b"),
    ("VAT return", r"\bVAT returns?\b", r"\bff?urflen(?:ni)? TAW\b"),
    ("What’s due", r"\bWhat[’']s due\b", r"\bBeth sy[’']n ddyledus\b"),
    ("sign in", r"\bsign(?:ed|ing)?[ -]in\b", r"\b(?:m|f)ewngofnod"),
    ("sign out", r"\bsign(?:ed|ing)? out\b", r"\bh?allgofnod"),
    ("invitation", r"\binvitations?\b", r"\b(?:g|ng)?wahoddiad(?:au)?\b"),
    ("obligation", r"\bobligations?\b", r"\br?h?wymedigaeth(?:au)?\b"),
    ("overview", r"\boverview\b", rf"\b{_T}rosolwg\b"),
    ("software", r"\bsoftware\b", r"\b(?:m|f)eddalwedd\b"),
    ("expenses", r"\bexpenses\b", rf"\b{_T}reuliau\b"),
    ("activity", r"\bactivity\b", r"\b(?:g|ng)?weithgarwch\b"),
    ("HMRC", r"(?-i:\bHMRC\b)", r"(?-i:\bCThEF\b)"),
    ("VAT", r"(?-i:\bVAT\b)", r"(?-i:\bTAW\b)"),
]
# Whole messages said in more than one place (headings, table headings, buttons): one Welsh each.
GLOSSARY_MESSAGES = {
    "What happens next": "Beth sy’n digwydd nesaf",
    "Actions": "Camau gweithredu",
    "Go to your clients": "Ewch at eich cleientiaid",
    "Check your answers": "Gwiriwch eich atebion",
    "Continue": "Parhau",
    "Change": "Newid",
    "Cancel": "Canslo",
    "Remove": "Tynnu",
    "Sign out": "Allgofnodi",
}
# English words the glossary replaced and that must not come back (a second Welsh for one English term).
NOT_THE_GLOSSARY = {
    "cysylltiad (for a link: dolen)": r"\b(?:c|g|ch|ngh)ysylltiad(?:au)?\b",
    "trethdalwr yn yr Alban (Scottish taxpayer: trethdalwr Albanaidd)": r"\btrethdalw(?:r|yr) yn yr Alban\b",
    # dolen is feminine: "y ddolen", "y ddolen hon", "yr un ddolen"
    "y dolen (y ddolen)": r"(?:\by|[’']r|\byr un) dolen\b",
    "dolen hwn (dolen hon)": r"\bd?dolen (?:\S+ )?(?:hwn|hwnnw)\b",
}


def _texts(message: Message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return ids, strings


def test_one_welsh_term_for_each_english_term() -> None:
    wrong = []
    messages = [m for m in welsh() if m.id and _translated(m)]
    for term, english, welsh_term in GLOSSARY:
        in_english, in_welsh = re.compile(english, re.I), re.compile(welsh_term, re.I)
        for message in messages:
            ids, strings = _texts(message)
            if any(in_english.search(PLACEHOLDER.sub(" ", text)) for text in ids):  # %(client)s is no word
                wrong += [f"{term}: {ids[0]!r} -> {text!r}" for text in strings if not in_welsh.search(text)]
    for message in messages:
        ids, strings = _texts(message)
        if ids[0] in GLOSSARY_MESSAGES and message.context is None and strings[0] != GLOSSARY_MESSAGES[ids[0]]:
            wrong.append(f"{ids[0]!r} is {GLOSSARY_MESSAGES[ids[0]]!r} everywhere, not {strings[0]!r}")
        for what, pattern in NOT_THE_GLOSSARY.items():
            wrong += [f"{what}: {ids[0]!r} -> {text!r}" for text in strings if re.search(pattern, text, re.I)]
    assert wrong == [], "Use the glossary's Welsh (tests/test_i18n.py GLOSSARY):\n" + "\n".join(wrong)


MARKUP = re.compile(r"</?[a-z]+[^>]*>")


def test_welsh_keeps_the_markup_of_each_message() -> None:
    """A link or a visually hidden span inside a sentence is the same markup in Welsh (README: keep it as it is)."""
    wrong = []
    for message in welsh():
        if not message.id or not _translated(message):
            continue
        ids, strings = _texts(message)
        wanted = sorted(MARKUP.findall(ids[0]))
        wrong += [f"{ids[0]!r}: {text!r}" for text in strings if sorted(MARKUP.findall(text)) != wanted]
    assert wrong == []
