"""Finding taxpayers by name without reading every name: each word of a name is indexed, and a search
matches names with a word starting with each word typed ("smi" finds "Jane Smith"; "jane sm" too).

A substring search (LIKE '%smith%') has to read all of a firm's names; at 100,000 clients that alone broke
the 20 ms budget. Word prefixes walk an index instead, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, bindparam, false, select

from portal.domain.models import TaxpayerNameWord, name_words
from portal.domain.sql import table_of

MAX_SEARCH_WORDS = 4  # the rest of a longer search is ignored: four words already pick one name out
_words = table_of(TaxpayerNameWord)
# Words hold only [a-z0-9], and "{" sorts after both under binary (SQLite) and "C" (PostgreSQL) collation.
_AFTER_ANY_WORD_CHARACTER = "{"


def search_words(text: str) -> list[str]:
    return name_words(text)[:MAX_SEARCH_WORDS]


def name_conditions(taxpayer_id: ColumnElement[int], word_count: int) -> list[ColumnElement[bool]]:
    """One condition per word typed (bind parameters word_0_from, word_0_to, ...): prebuilt per count."""
    if word_count == 0:  # nothing searchable was typed (only punctuation, say): nothing matches
        return [false()]
    return [
        taxpayer_id.in_(select(_words.c.taxpayer_id).where(
            _words.c.word >= bindparam(f"word_{n}_from"), _words.c.word < bindparam(f"word_{n}_to")))
        for n in range(word_count)
    ]


def name_matches(word_count: int) -> Select[tuple[int]]:
    """The same as `name_conditions`, as a set of taxpayer ids (for a search that adds other matches to it with
    UNION): the first word's index range, each other word a condition on it."""
    first = _words.alias("first_word")
    if word_count == 0:
        return select(first.c.taxpayer_id).where(false())
    return select(first.c.taxpayer_id).where(
        first.c.word >= bindparam("word_0_from"), first.c.word < bindparam("word_0_to"),
        *name_conditions(first.c.taxpayer_id, word_count)[1:]).correlate(None)


def name_params(words: list[str]) -> dict[str, str]:
    params = {}
    for n, word in enumerate(words):
        params[f"word_{n}_from"], params[f"word_{n}_to"] = word, word + _AFTER_ANY_WORD_CHARACTER
    return params
