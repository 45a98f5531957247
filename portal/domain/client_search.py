"""Which of a firm's clients a search matches, as SQL (the client list, `portal.areas.clients`): by a tax
reference, by words of a name or the start of the firm's own client reference, by tax service, within what the
person may see (the group rule, `portal.domain.access`) and narrowed by "My clients" or an administrator's filter
(`portal.domain.list_filters`). Built once per shape of search, so SQLAlchemy's compiled-SQL cache serves them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, union_all

from portal.domain import identifiers
from portal.domain.access import in_no_group_or_mine, restricted_by_groups
from portal.domain.group_sets import holds_regime, regime_bit
from portal.domain.list_filters import (
    ListFilter,
    client_reference_matches,
    implies_the_rule,
    list_filter_conditions,
    reference_params,
)
from portal.domain.models import Authorisation, FirmClient, TaxpayerIdentifier
from portal.domain.names import name_matches, name_params, search_words
from portal.domain.people import Viewer
from portal.domain.sql import table_of


@dataclass(frozen=True)
class ClientSearch:
    text: str = ""
    regime: str = ""
    narrowed: ListFilter = ListFilter()  # "My clients", or an administrator's group or member

    @cached_property
    def reference_kind(self) -> identifiers.IdentifierKind | None:
        return identifiers.detect_kind(self.text) if self.text else None

    @cached_property
    def words(self) -> list[str]:
        return search_words(self.text)

    def shape(self, viewer: Viewer) -> Shape:
        by = "reference" if self.reference_kind else ("name" if self.text else "all")
        return (by, len(self.words) if by == "name" else 0, bool(self.regime), restricted_by_groups(viewer),
                self.narrowed.shape())

    def capped(self, viewer: Viewer) -> bool:
        return is_capped(self.shape(viewer))

    def params(self, viewer: Viewer) -> dict[str, object]:
        params: dict[str, object] = {"firm_id": viewer.firm_id, "user_id": viewer.user_id,
                                     "regime": self.regime, "regime_bit": regime_bit(self.regime),
                                     **self.narrowed.params()}
        if kind := self.reference_kind:
            params |= {"kind": str(kind), "value": identifiers.normalise(kind, self.text)}
        elif self.text:
            params |= name_params(self.words)
        if self.text:  # the firm's own client reference, whatever else the text is
            params |= reference_params(self.text)
        return params


# Which prebuilt query: by reference, name or all; name words; by regime; restricted by groups; the list filter.
Shape = tuple[str, int, bool, bool, tuple[bool, str, bool]]


_fc, _auth, _ident = table_of(FirmClient), table_of(Authorisation), table_of(TaxpayerIdentifier)


def _matching(by: str, words: int, with_regime: bool, restricted: bool,
              narrowed: tuple[bool, str, bool]) -> list[ColumnElement[bool]]:
    conditions = [_fc.c.firm_id == bindparam("firm_id")]
    if restricted and not implies_the_rule(narrowed):
        conditions.append(in_no_group_or_mine(_fc.c.group_set_id, firm_id=bindparam("firm_id"),
                                              user_id=bindparam("user_id")))
    conditions += list_filter_conditions(_fc.c.group_set_id, narrowed)
    # What was typed is a tax reference or words of a name; it may also be (the start of) the firm's own reference.
    # Both as one set of ids, so the database looks up the few matches rather than test every client.
    if by == "reference":
        typed = select(_ident.c.taxpayer_id).where(_ident.c.kind == bindparam("kind"),
                                                   _ident.c.value == bindparam("value")).correlate(None)
        conditions.append(_fc.c.taxpayer_id.in_(union_all(typed, client_reference_matches())))
    elif by == "name":
        named = name_matches(words)
        conditions.append(_fc.c.taxpayer_id.in_(union_all(named, client_reference_matches())))
    if with_regime:  # the kept bits of the regimes the firm holds (portal.domain.group_sets): a column, not a lookup
        conditions.append(holds_regime(bindparam("regime_bit")))
    return conditions


# The queries are built once per shape of search and reused, so SQLAlchemy's compiled-SQL cache serves them.
# With access groups, whether a standard user may see a client is a test of each client's row (the group rule in
# portal.domain.access, on its kept set of groups): a page is found as soon as it has 20, but an exact count would
# read every one of a 100,000-client firm's rows on every view. Their count stops here, and the list says "more
# than 1,000 clients" (searching narrows it, as on What's due).
RESTRICTED_COUNT_CAP = 1_000


def is_capped(shape: Shape) -> bool:
    """Counted only so far (RESTRICTED_COUNT_CAP): the group rule, or a filter by group or member, is tested row by
    row."""
    restricted, narrowed = shape[3], shape[4]
    return restricted or any(narrowed)


@cache
def count_query(*shape: Any) -> Select[int]:
    if is_capped(shape):
        matching = select(_fc.c.taxpayer_id).where(*_matching(*shape))
        return select(func.count()).select_from(matching.limit(RESTRICTED_COUNT_CAP + 1).subquery())
    by, _words, with_regime = shape[:3]
    if by == "all" and with_regime:
        # Every client of one tax service: its live authorisations are one range of an index, where the kept bits
        # are a test of each of the firm's clients (PostgreSQL, VAT at 100,000 clients: 19 ms a page, 8 so).
        return select(func.count(_auth.c.taxpayer_id.distinct())).where(
            _auth.c.firm_id == bindparam("firm_id"), _auth.c.regime == bindparam("regime"), _auth.c.ended_at.is_(None))
    return select(func.count()).select_from(_fc).where(*_matching(*shape))


def page_and_total(*shape: Any) -> tuple[Any, ColumnElement[int]]:
    """The page's (taxpayer_id, sort_name) rows, and the number of matches (capped or not).

    The page is chosen first, and only its 20 rows get the per-client columns: a search matching hundreds of
    clients would otherwise work them out for every match before sorting. Only columns of ix_firm_client_firm_sort,
    so a list that skips many clients (My clients, whose groups' clients may sort late) walks the index alone."""
    matches = select(_fc.c.taxpayer_id, _fc.c.sort_name).where(*_matching(*shape))
    if not is_capped(shape):  # an exact count is one index range: counted on its own
        page = matches.order_by(_fc.c.sort_name, _fc.c.taxpayer_id)
        total = count_query(*shape).scalar_subquery()
    else:
        # Capped: the first RESTRICTED_COUNT_CAP + 1 matches in the list's order, walked once (MATERIALIZED: kept,
        # not re-run, by both databases), give the count and the page; every page offered lies within them. Counted
        # and paged apart, each walk asked the group rule of the same clients and built its sets again (PostgreSQL,
        # 100,000 clients: about 40% of a restricted user's list).
        first = (matches.order_by(_fc.c.sort_name, _fc.c.taxpayer_id).limit(RESTRICTED_COUNT_CAP + 1)
                 .cte("first_matches").prefix_with("MATERIALIZED"))
        page = select(first.c.taxpayer_id, first.c.sort_name).order_by(first.c.sort_name, first.c.taxpayer_id)
        total = select(func.count()).select_from(first).scalar_subquery()
    return page.limit(bindparam("limit")).offset(bindparam("offset")).subquery("page"), total
