"""The tax services an agent can be authorised for (domain.md §1.1) and what each lets them do (§1.3)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from portal.i18n import N_, gettext


class Labels(Mapping[str, str]):
    """English labels marked with N_, read in the language of the moment: `labels[code]`, `.get`, `.items()`
    and `.values()` all give the translation, so every page, partial, email and CSV that shows one (a tax service,
    a client type) is in the reader's language without translating it itself. Keys stay codes."""

    def __init__(self, english: Mapping[str, str]) -> None:
        self.english = dict(english)  # the message ids, for code that needs the English (the API)

    def __getitem__(self, key: str) -> str:
        return gettext(self.english[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.english)

    def __len__(self) -> int:
        return len(self.english)

    def __repr__(self) -> str:
        return f"Labels({self.english!r})"


class ClientType(StrEnum):
    PERSONAL = "personal"
    BUSINESS = "business"
    TRUST = "trust"


# Keyed by str so a type read from the database or a form looks its label up directly.
CLIENT_TYPE_LABELS = Labels({
    ClientType.PERSONAL: N_("Individual or sole trader"),
    ClientType.BUSINESS: N_("Company or partnership"),
    ClientType.TRUST: N_("Trust or estate"),
})


class KnownFact(StrEnum):
    POSTCODE = "postcode"
    DATE_OF_BIRTH = "date_of_birth"
    VAT_REGISTRATION_DATE = "vat_registration_date"
    PPT_REGISTRATION_DATE = "ppt_registration_date"
    PLR_REGISTRATION_DATE = "plr_registration_date"
    CBC_EMAIL = "cbc_email"


class Action(StrEnum):
    """What a person may do for a taxpayer within one regime. The gate (portal.domain.access) hands out sets
    of these."""

    VIEW = "view"  # see obligations, amounts and details for the regime
    SUBMIT_UPDATE = "submit_update"  # quarterly updates, in-year reports
    SUBMIT_RETURN = "submit_return"  # VAT returns, final declarations and other returns
    CHANGE_DETAILS = "change_details"


@dataclass(frozen=True)
class TaxService:
    key: str  # HMRC's service key
    english_name: str  # how the portal names it to people, in English (marked with N_); `name` translates it
    regime: str  # the obligations it covers; ITSA main and supporting share one
    client_types: tuple[ClientType, ...]
    identifier: str  # portal.domain.identifiers.IdentifierKind value
    known_fact: KnownFact | None
    url_part: str
    actions: frozenset[Action]

    @property
    def name(self) -> str:
        """The service's name in the language of the moment ("VAT", "TAW")."""
        return gettext(self.english_name)


_ALL = frozenset(Action)
_AGENT_MAIN = frozenset({Action.VIEW, Action.SUBMIT_UPDATE, Action.SUBMIT_RETURN, Action.CHANGE_DETAILS})
P, B, T = ClientType.PERSONAL, ClientType.BUSINESS, ClientType.TRUST

SERVICES: tuple[TaxService, ...] = (
    TaxService("HMRC-MTD-IT", N_("Making Tax Digital for Income Tax (main agent)"), "ITSA", (P,), "nino",
               KnownFact.POSTCODE, "income-tax", _AGENT_MAIN),
    # Supporting agents send quarterly updates but "cannot submit a client's tax returns" (domain.md §1.3).
    TaxService("HMRC-MTD-IT-SUPP", N_("Making Tax Digital for Income Tax (supporting agent)"), "ITSA", (P,), "nino",
               KnownFact.POSTCODE, "income-tax", frozenset({Action.VIEW, Action.SUBMIT_UPDATE})),
    TaxService("PERSONAL-INCOME-RECORD", N_("Income Record Viewer"), "IRV", (P,), "nino",
               KnownFact.DATE_OF_BIRTH, "income-record-viewer", frozenset({Action.VIEW})),
    TaxService("HMRC-MTD-VAT", N_("VAT"), "VAT", (P, B), "vrn",
               KnownFact.VAT_REGISTRATION_DATE, "vat", _AGENT_MAIN),
    TaxService("HMRC-TERS-ORG", N_("Trusts and estates (taxable)"), "TRS", (T,), "utr",
               None, "trusts-and-estates", _AGENT_MAIN),
    TaxService("HMRC-TERSNT-ORG", N_("Trusts and estates (non-taxable)"), "TRS", (T,), "urn",
               None, "trusts-and-estates", _AGENT_MAIN),
    TaxService("HMRC-CGT-PD", N_("Capital Gains Tax on UK property"), "CGT", (P, T), "cgt",
               KnownFact.POSTCODE, "capital-gains-tax-uk-property", _AGENT_MAIN),
    TaxService("HMRC-PPT-ORG", N_("Plastic Packaging Tax"), "PPT", (P, B, T), "ppt",
               KnownFact.PPT_REGISTRATION_DATE, "plastic-packaging-tax", _AGENT_MAIN),
    TaxService("HMRC-CBC-ORG", N_("Country-by-country reporting"), "CBC", (B, T), "cbc",
               KnownFact.CBC_EMAIL, "country-by-country-reporting", _AGENT_MAIN),
    TaxService("HMRC-PILLAR2-ORG", N_("Pillar 2 top-up taxes"), "PLR", (B, T), "plr",
               KnownFact.PLR_REGISTRATION_DATE, "pillar-2", _AGENT_MAIN),
)

BY_KEY: dict[str, TaxService] = {service.key: service for service in SERVICES}

# Short names for a table cell or a filter, one per regime.
# A Labels mapping: read through it, a name is already in the language of the moment.
REGIME_NAMES = Labels({
    "ITSA": N_("Income Tax (Making Tax Digital)"),
    "IRV": N_("Income Record Viewer"),
    "VAT": N_("VAT"),
    "TRS": N_("Trusts and estates"),
    "CGT": N_("Capital Gains Tax on UK property"),
    "PPT": N_("Plastic Packaging Tax"),
    "CBC": N_("Country-by-country reporting"),
    "PLR": N_("Pillar 2 top-up taxes"),
})

# The taxpayer may do everything for themselves, in every regime they are registered for.
SELF_ACTIONS = _ALL


def service(key: str) -> TaxService:
    return BY_KEY[key]


def regime_name(regime: str) -> str:
    """A regime's short name in the language of the moment (an unknown code is shown as it is)."""
    return REGIME_NAMES.get(regime, regime)


def display_name(code: str) -> str:
    """What to show for a tax service, in the language of the moment: a service key ("HMRC-MTD-VAT") gives the
    service's full name, a regime ("VAT", "ITSA") its short name; anything else is shown as it is. The one
    function to name a tax service from a code; `TaxService.name`, `regime_name` and `REGIME_NAMES` translate too."""
    if code in BY_KEY:
        return BY_KEY[code].name
    return regime_name(code)
