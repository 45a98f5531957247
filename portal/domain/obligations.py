"""An obligation's status, in the one wording every page and the worklist use.

"Fulfilled" is HMRC's word (the obligations API's status F): an obligation is met when HMRC records it met, which
is usually a return or update sent through this service (portal.domain.submissions records the date in the same
transaction) and sometimes something else ("Not sent through this service"). So not "submitted".
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class ObligationStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"  # past its due date and not yet met
    FULFILLED = "fulfilled"


def obligation_status(*, due_date: date, fulfilled_on: date | None, today: date | None = None) -> ObligationStatus:
    if fulfilled_on is not None:
        return ObligationStatus.FULFILLED
    return ObligationStatus.OVERDUE if due_date < (today or date.today()) else ObligationStatus.DUE
