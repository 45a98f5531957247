"""What the client's handshake pages share: the templates' folder, and how services, roles and what an agent may
do read to a client."""

from __future__ import annotations

from portal.domain.handshake import ITSA_MAIN, ITSA_SUPPORTING
from portal.domain.services import BY_KEY, SERVICES, regime_name

T = "client_authorisations/"

# What each authorisation lets the agent do, in the client's words (domain.md §1.3).
_RETURNS = ("view, submit and change your {0} returns", "contact HMRC about your {0}",
            "manage your contact details for {0}", "deal with {0} penalties and repayments for you")


CONSENT: dict[str, tuple[str, ...]] = {
    ITSA_MAIN: (
        "sign you up to Making Tax Digital for Income Tax, or opt you out",
        "contact HMRC about your current and previous returns",
        "view and change your details, such as your sources of income",
        "give HMRC your bank details for repayments",
        "view and submit your quarterly updates",
        "submit your end-of-year tax return",
        "view your tax calculations and what you owe or have paid",
        "see your Self Assessment details, such as your name, address, National Insurance number and "
        "Unique Taxpayer Reference",
        "receive and appeal penalties for you",
        "cancel your Self Assessment registration",
        "use software to do these things for you",
    ),
    ITSA_SUPPORTING: (
        "sign you up to Making Tax Digital for Income Tax, or opt you out",
        "contact HMRC about your returns",
        "view your personal and business details",
        "change your business details and sources of income",
        "send your quarterly updates",
        "make end-of-year adjustments",
        "use software to do these things for you",
    ),
    "PERSONAL-INCOME-RECORD": (
        "view your past employers", "view your taxable benefits, such as a company car",
        "view your pensions", "view the dates of your PAYE employments",
    ),
    "HMRC-MTD-VAT": (
        "contact HMRC about your VAT", "view and change your VAT details and bank details",
        "view, change and submit your VAT returns", "view your VAT payments and what you owe",
        "cancel your VAT registration", "appeal VAT penalties for you", "use software to do these things for you",
    ),
    "HMRC-TERS-ORG": (
        "report changes to the trustees, settlors, beneficiaries and other details of the trust or estate",
        "declare that the trust's details are up to date", "contact HMRC about the trust or estate",
    ),
    "HMRC-TERSNT-ORG": (
        "report changes to the trustees, settlors, beneficiaries and other details of the trust",
        "declare that the trust's details are up to date", "contact HMRC about the trust",
    ),
    "HMRC-CGT-PD": tuple(line.format("Capital Gains Tax on UK property") for line in _RETURNS),
    "HMRC-PPT-ORG": tuple(line.format("Plastic Packaging Tax") for line in _RETURNS),
    "HMRC-CBC-ORG": tuple(line.format("country-by-country reporting").replace("returns", "reports")
                          for line in _RETURNS),
    "HMRC-CBC-NONUK-ORG": tuple(line.format("country-by-country reporting").replace("returns", "reports")
                                for line in _RETURNS),
    "HMRC-PILLAR2-ORG": tuple(line.format("Pillar 2 top-up taxes") for line in _RETURNS),
}


ROLES = {ITSA_MAIN: "main agent", ITSA_SUPPORTING: "supporting agent"}
URL_PARTS: dict[str, tuple[str, ...]] = {}
for _service in SERVICES:
    URL_PARTS[_service.url_part] = (*URL_PARTS.get(_service.url_part, ()), _service.key)
URL_PART_NAMES = {part: regime_name(BY_KEY[keys[0]].regime) for part, keys in URL_PARTS.items()}


def service_name(key: str) -> str:
    return regime_name("ITSA") if key in ROLES else BY_KEY[key].name


def role_name(key: str) -> str:
    return ROLES.get(key, "agent")
