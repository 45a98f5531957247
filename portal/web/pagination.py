"""Page arithmetic and the items of the GOV.UK pagination component."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.domain.numbers import whole_number


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int
    more: bool = False  # `total` is where counting stopped: there are more than that

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.total)


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything that is not a positive whole number means page 1."""
    number = whole_number(raw, max_digits=7)
    return 1 if number is None else max(1, number)


def clamp(number: int, *, size: int, total: int) -> Page:
    last = max(1, -(-total // size))
    return Page(min(number, last), size, total)


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None is an ellipsis
    href: str = ""
    current: bool = False


def links(page: Page, href: Callable[[int], str]) -> list[PageLink]:
    """First, last, and the pages either side of the current one, with ellipses between (GOV.UK pattern)."""
    shown = sorted({1, page.count, page.number - 1, page.number, page.number + 1} & set(range(1, page.count + 1)))
    items: list[PageLink] = []
    for number in shown:
        if items and items[-1].number is not None and number - items[-1].number > 1:
            items.append(PageLink(None))
        items.append(PageLink(number, href(number), number == page.number))
    return items
