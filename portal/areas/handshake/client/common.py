"""What the client's handshake pages share: the templates' folder, and how services, roles and what an agent may
do read to a client. Every text is marked with N_ and translated where it is shown."""

from __future__ import annotations

from portal.domain.handshake import ITSA_MAIN, ITSA_SUPPORTING
from portal.domain.services import BY_KEY, SERVICES, regime_name
from portal.i18n import N_, gettext

T = "client_authorisations/"

# What each authorisation lets the agent do, in the client's words (domain.md §1.3): each line a whole phrase
# completing "If you authorise them, … will be able to:".
CONSENT: dict[str, tuple[str, ...]] = {
    ITSA_MAIN: (
        N_("sign you up to Making Tax Digital for Income Tax, or opt you out"),
        N_("contact HMRC about your current and previous returns"),
        N_("view and change your details, such as your sources of income"),
        N_("give HMRC your bank details for repayments"),
        N_("view and submit your quarterly updates"),
        N_("submit your end-of-year tax return"),
        N_("view your tax calculations and what you owe or have paid"),
        N_("see your Self Assessment details, such as your name, address, National Insurance number and "
           "Unique Taxpayer Reference"),
        N_("receive and appeal penalties for you"),
        N_("cancel your Self Assessment registration"),
        N_("use software to do these things for you"),
    ),
    ITSA_SUPPORTING: (
        N_("sign you up to Making Tax Digital for Income Tax, or opt you out"),
        N_("contact HMRC about your returns"),
        N_("view your personal and business details"),
        N_("change your business details and sources of income"),
        N_("send your quarterly updates"),
        N_("make end-of-year adjustments"),
        N_("use software to do these things for you"),
    ),
    "PERSONAL-INCOME-RECORD": (
        N_("view your past employers"), N_("view your taxable benefits, such as a company car"),
        N_("view your pensions"), N_("view the dates of your PAYE employments"),
    ),
    "HMRC-MTD-VAT": (
        N_("contact HMRC about your VAT"), N_("view and change your VAT details and bank details"),
        N_("view, change and submit your VAT returns"), N_("view your VAT payments and what you owe"),
        N_("cancel your VAT registration"), N_("appeal VAT penalties for you"),
        N_("use software to do these things for you"),
    ),
    "HMRC-TERS-ORG": (
        N_("report changes to the trustees, settlors, beneficiaries and other details of the trust or estate"),
        N_("declare that the trust's details are up to date"), N_("contact HMRC about the trust or estate"),
    ),
    "HMRC-TERSNT-ORG": (
        N_("report changes to the trustees, settlors, beneficiaries and other details of the trust"),
        N_("declare that the trust's details are up to date"), N_("contact HMRC about the trust"),
    ),
    "HMRC-CGT-PD": (
        N_("view, submit and change your Capital Gains Tax on UK property returns"),
        N_("contact HMRC about your Capital Gains Tax on UK property"),
        N_("manage your contact details for Capital Gains Tax on UK property"),
        N_("deal with Capital Gains Tax on UK property penalties and repayments for you"),
    ),
    "HMRC-PPT-ORG": (
        N_("view, submit and change your Plastic Packaging Tax returns"),
        N_("contact HMRC about your Plastic Packaging Tax"),
        N_("manage your contact details for Plastic Packaging Tax"),
        N_("deal with Plastic Packaging Tax penalties and repayments for you"),
    ),
    "HMRC-CBC-ORG": (
        N_("view, submit and change your country-by-country reporting reports"),
        N_("contact HMRC about your country-by-country reporting"),
        N_("manage your contact details for country-by-country reporting"),
        N_("deal with country-by-country reporting penalties and repayments for you"),
    ),
    "HMRC-PILLAR2-ORG": (
        N_("view, submit and change your Pillar 2 top-up taxes returns"),
        N_("contact HMRC about your Pillar 2 top-up taxes"),
        N_("manage your contact details for Pillar 2 top-up taxes"),
        N_("deal with Pillar 2 top-up taxes penalties and repayments for you"),
    ),
}
CONSENT["HMRC-CBC-NONUK-ORG"] = CONSENT["HMRC-CBC-ORG"]


# The agent's role for Income Tax, as a word on its own (a table cell, beside a service name). Sentences that
# name the role are written out whole for each role in the templates ("main", "supporting" or "" for any agent).
ROLES = {ITSA_MAIN: N_("main agent"), ITSA_SUPPORTING: N_("supporting agent")}
ROLE_LABELS = {ITSA_MAIN: N_("Main agent"), ITSA_SUPPORTING: N_("Supporting agent")}
ROLE_KINDS = {ITSA_MAIN: "main", ITSA_SUPPORTING: "supporting"}
URL_PARTS: dict[str, tuple[str, ...]] = {}
for _service in SERVICES:
    URL_PARTS[_service.url_part] = (*URL_PARTS.get(_service.url_part, ()), _service.key)
URL_PART_NAMES = {part: regime_name(BY_KEY[keys[0]].regime) for part, keys in URL_PARTS.items()}


def service_name(key: str) -> str:
    """The service's name in the language of the moment."""
    return regime_name("ITSA") if key in ROLES else BY_KEY[key].name


def role_name(key: str) -> str:
    """"main agent", "supporting agent" or "agent", in the language of the moment."""
    return gettext(ROLES.get(key, N_("agent")))


def role_label(key: str) -> str:
    """The role as a table cell: "Main agent", "Supporting agent", or "" for a service without roles."""
    return gettext(ROLE_LABELS[key]) if key in ROLE_LABELS else ""


def role_kind(key: str) -> str:
    """Which whole sentence a page uses: "main", "supporting", or "" for an agent of any other service."""
    return ROLE_KINDS.get(key, "")
