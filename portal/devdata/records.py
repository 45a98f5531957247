"""Demo tax records: obligations with due dates around today, Income Tax businesses, and the returns and updates
already sent for them (with figures, and receipts naming who sent them)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from portal.devdata.calendar import add_months, at, month_end, quarter_ends
from portal.domain import tax_years
from portal.domain.models import Business, Obligation, Submission, Taxpayer
from portal.domain.submissions import REFERENCE_ALPHABET


@dataclass(frozen=True)
class Submitter:
    """Who sent a taxpayer's past returns and updates in the demo: their agent, or the taxpayer."""

    user_id: int
    authority: str  # "agent" or "self"
    firm_id: int | None = None


TRADES = ("Joinery", "Plumbing and Heating", "Hair and Beauty", "Photography", "Garden Services", "Web Design",
          "Bookkeeping", "Tutoring", "Dog Grooming", "Electrical", "Catering", "Decorating")


class TaxRecords:
    """The obligations side of the demo generator (portal.devdata.demo), sharing its session, random numbers and
    day."""

    db: Session
    rng: random.Random
    today: date

    def obligations(self, taxpayer: Taxpayer, regimes: set[str], submitter: Submitter) -> None:
        if "VAT" in regimes:
            self._vat_returns(taxpayer)
        if "ITSA" in regimes:
            self._income_tax(taxpayer, submitter)
        if "PPT" in regimes:
            self._quarterly(taxpayer, "PPT", "Plastic Packaging Tax return", months_after=1, day=None)

    def _obligation(self, taxpayer: Taxpayer, regime: str, kind: str, start: date, end: date, due: date, *,
                    business_id: int | None = None, period_key: str | None = None,
                    may_be_met: bool = True) -> Obligation:
        # Most past obligations were met; a few recent ones are still outstanding, so "overdue" is realistic.
        recent = due > self.today - timedelta(days=60)
        met = due < self.today and self.rng.random() < (0.85 if recent else 0.99) and may_be_met
        fulfilled = min(due, self.today) - timedelta(days=self.rng.randint(0, 20)) if met else None
        amount = self.rng.randint(20_000, 2_500_000) if regime == "VAT" else None
        obligation = Obligation(
            taxpayer_id=taxpayer.id, regime=regime, kind=kind, business_id=business_id,
            period_key=period_key or f"{end:%y%m}{kind[:2].upper()}", period_start=start, period_end=end,
            due_date=due, fulfilled_on=fulfilled, amount_due_pence=amount, amount_paid_pence=amount if met else None,
        )
        self.db.add(obligation)
        return obligation

    def _vat_returns(self, taxpayer: Taxpayer) -> None:
        self._quarterly(taxpayer, "VAT", "VAT return", months_after=1, day=7, stagger=self.rng.randint(0, 2))

    def _quarterly(self, taxpayer: Taxpayer, regime: str, kind: str, *, months_after: int, day: int | None,
                   stagger: int = 0) -> None:
        for end in quarter_ends(self.today, stagger):
            start = month_end(add_months(end, -3)) + timedelta(days=1)  # the day after the last quarter ended
            due_month_end = month_end(add_months(end, months_after))
            due = due_month_end + timedelta(days=day) if day else due_month_end
            self._obligation(taxpayer, regime, kind, start, end, due)

    def _businesses(self, taxpayer: Taxpayer) -> list[Business]:
        """A self-employment under a trading name; some people also let property."""
        surname = taxpayer.name.split()[-1]
        trading = Business(taxpayer_id=taxpayer.id, kind="self-employment",
                           name=f"{surname} {self.rng.choice(TRADES)}")
        businesses = [trading]
        if self.rng.random() < 0.35:
            businesses.append(Business(taxpayer_id=taxpayer.id, kind="uk-property", name="UK property lettings"))
        self.db.add_all(businesses)
        self.db.flush()
        return businesses

    def _income_tax(self, taxpayer: Taxpayer, submitter: Submitter) -> None:
        """Quarterly updates per business, the past ones mostly sent with figures; a final declaration per ended
        tax year, made only once all of that year's updates were sent."""
        year = self.today.year if self.today >= date(self.today.year, 4, 6) else self.today.year - 1
        businesses = self._businesses(taxpayer)
        for tax_year in (year - 1, year):
            sent: dict[int, list[tuple[int, int]]] = {}
            all_sent = True
            for business in businesses:
                for quarter in range(4):
                    start = add_months(date(tax_year, 4, 6), 3 * quarter)
                    end = add_months(start, 3) - timedelta(days=1)
                    due = add_months(date(end.year, end.month, 7), 1)  # the 7th of the month after
                    if due > add_months(self.today, 6):
                        continue
                    update = self._obligation(taxpayer, "ITSA", "Quarterly update", start, end, due,
                                              business_id=business.id, period_key=f"{end:%y%m}QU{business.id}")
                    all_sent = all_sent and update.fulfilled_on is not None
                    if update.fulfilled_on is not None:
                        figures = self._quarter_figures(business)
                        sent.setdefault(business.id, []).append(figures)
                        self._submission(update, submitter, {"income": figures[0], "expenses": figures[1]})
            if tax_year < year:
                end = date(tax_year + 1, 4, 5)
                declaration = self._obligation(taxpayer, "ITSA", "Final declaration", date(tax_year, 4, 6), end,
                                               date(tax_year + 2, 1, 31), may_be_met=all_sent)
                if declaration.fulfilled_on is not None:
                    profits = [tax_years.BusinessProfit(b.name, b.kind, sum(i for i, _ in sent.get(b.id, [])),
                                                         sum(e for _, e in sent.get(b.id, [])))
                               for b in businesses]
                    self._submission(declaration, submitter, tax_years.declaration_figures(declaration, profits))

    def _quarter_figures(self, business: Business) -> tuple[int, int]:
        """(income, expenses) in whole pounds for a quarter: a small trade, or a let or two."""
        if business.kind == "self-employment":
            income = self.rng.randint(4_000, 32_000)
            return income, income * self.rng.randint(15, 45) // 100
        income = self.rng.randint(1_800, 9_000)
        return income, income * self.rng.randint(10, 40) // 100

    def _submission(self, obligation: Obligation, submitter: Submitter, figures: dict[str, object]) -> None:
        self.db.flush()  # the obligation's id
        assert obligation.fulfilled_on is not None
        reference = "".join(self.rng.choice(REFERENCE_ALPHABET) for _ in range(12))
        self.db.add(Submission(
            obligation_id=obligation.id, taxpayer_id=obligation.taxpayer_id, regime=obligation.regime,
            kind=obligation.kind, reference=reference, submitted_at=at(obligation.fulfilled_on),
            submitted_by_user_id=submitter.user_id, authority=submitter.authority, firm_id=submitter.firm_id,
            figures=figures))
