"""The client link an agent sends (domain.md §2.6): one per firm and tax service, never containing a request id."""

from __future__ import annotations

import re

from portal.domain.models import Firm

LINK_PREFIX = "/appoint-someone-to-deal-with-HMRC-for-you"


def normalise_agency_name(name: str) -> str:
    """Lower case, runs of whitespace as "-", and nothing else that is not a letter, digit or hyphen."""
    return re.sub(r"[^a-z0-9-]", "", re.sub(r"\s+", "-", name.lower()))


def client_link(firm: Firm, url_part: str) -> str:
    return f"{LINK_PREFIX}/{firm.link_uid}/{normalise_agency_name(firm.name)}/{url_part}"
