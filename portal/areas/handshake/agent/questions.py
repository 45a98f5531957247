"""The words of the ask journey's client questions: the question each tax reference asks, with its hint and error
messages, and the known-fact question each service asks (postcode, a date or an email address), with how its answer
is read, shown and put back in the form.

Every text here is a whole sentence marked with N_ and translated where it is shown (gettext in ask.py, `_()` in the
templates), so Welsh never has to put a sentence together from a label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal.domain import identifiers
from portal.domain.identifiers import IdentifierKind
from portal.domain.numbers import is_whole_number
from portal.domain.services import KnownFact, TaxService
from portal.i18n import N_, gettext
from portal.web.formatting import govuk_date
from portal.web.forms import Form

EMAIL_RE = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+")  # domain.md §1.2 field formats


@dataclass(frozen=True)
class IdQuestion:
    question: str
    label: str  # the key on "Check your answers"
    hint: str
    empty: str  # the error for no answer
    invalid: str  # the error for an answer that is not a reference of this kind


CLIENT_ID_QUESTIONS = {
    IdentifierKind.NINO: IdQuestion(
        N_("What is your client's National Insurance number?"), N_("National Insurance number"),
        N_("For example, QQ 12 34 56 C"), N_("Enter your client's National Insurance number"),
        N_("National Insurance number must be 2 letters, 6 numbers, then A, B, C or D, like QQ 12 34 56 C")),
    IdentifierKind.VRN: IdQuestion(
        N_("What is your client's VAT registration number?"), N_("VAT registration number"),
        N_("This is 9 numbers, for example 123456789"), N_("Enter your client's VAT registration number"),
        N_("Enter a VAT registration number in the correct format")),
    IdentifierKind.UTR: IdQuestion(
        N_("What is your client's Unique Taxpayer Reference (UTR)?"), N_("Unique Taxpayer Reference (UTR)"),
        N_("This is 10 numbers, for example 12345 67890"), N_("Enter your client's Unique Taxpayer Reference"),
        N_("Enter a Unique Taxpayer Reference in the correct format")),
    IdentifierKind.URN: IdQuestion(
        N_("What is your client's Unique Reference Number (URN)?"), N_("Unique Reference Number (URN)"),
        N_("This is 15 characters, for example XATRUST80000001"), N_("Enter your client's Unique Reference Number"),
        N_("Enter a Unique Reference Number in the correct format")),
    IdentifierKind.CGT: IdQuestion(
        N_("What is your client's Capital Gains Tax on UK property account reference?"),
        N_("Capital Gains Tax on UK property account reference"),
        N_("This is 15 characters, for example XMCGTP123456789"),
        N_("Enter your client's Capital Gains Tax on UK property account reference"),
        N_("Enter a Capital Gains Tax on UK property account reference in the correct format")),
    IdentifierKind.PPT: IdQuestion(
        N_("What is your client's Plastic Packaging Tax reference?"), N_("Plastic Packaging Tax reference"),
        N_("This is 15 characters, for example XMPPT0000000123"),
        N_("Enter your client's Plastic Packaging Tax reference"),
        N_("Enter a Plastic Packaging Tax reference in the correct format")),
    IdentifierKind.CBC: IdQuestion(
        N_("What is your client's Country-by-country reporting ID?"), N_("Country-by-country reporting ID"),
        N_("This is 15 characters, for example XACBC0000999999"),
        N_("Enter your client's country-by-country reporting ID"),
        N_("Enter a country-by-country reporting ID in the correct format")),
    IdentifierKind.PLR: IdQuestion(
        N_("What is your client's Pillar 2 ID?"), N_("Pillar 2 ID"),
        N_("This is 15 characters, for example XMPLR0123456789"), N_("Enter your client's Pillar 2 ID"),
        N_("Enter a Pillar 2 ID in the correct format")),
}


def read_identifier(form: Form, kind: IdentifierKind) -> str | None:
    """The normalised reference, or None with the question's own error message on the form."""
    try:
        return identifiers.parse(kind, form.get("identifier"))
    except identifiers.InvalidIdentifier:
        question = CLIENT_ID_QUESTIONS[kind]
        empty = not identifiers.normalise(kind, form.get("identifier"))
        form.error("identifier", gettext(question.empty if empty else question.invalid))
        return None


@dataclass(frozen=True)
class DateMessages:
    """A date question's error messages, each a whole sentence."""

    enter: str
    incomplete: str
    real: str
    past: str


@dataclass(frozen=True)
class FactQuestion:
    field: str  # "postcode", "date" or "email": the input's name
    question: str
    hint: str
    summary: str  # the key on "Check your answers"
    check: str  # the line on "We could not find your client" asking the agent to check this answer
    dates: DateMessages | None = None


FACT_QUESTIONS = {
    KnownFact.POSTCODE: FactQuestion(
        "postcode", N_("What is your client's postcode?"), N_("For example, LS1 4DY"), N_("Postcode"),
        N_("the postcode is the one your client gave to HMRC")),
    KnownFact.DATE_OF_BIRTH: FactQuestion(
        "date", N_("What is your client's date of birth?"), N_("For example, 27 3 1985"), N_("Date of birth"),
        N_("the date of birth is the one your client gave to HMRC"),
        DateMessages(N_("Enter your client's date of birth"),
                     N_("Your client's date of birth must include a day, month and year"),
                     N_("Your client's date of birth must be a real date"),
                     N_("Your client's date of birth must be today or in the past"))),
    KnownFact.VAT_REGISTRATION_DATE: FactQuestion(
        "date", N_("When did your client's VAT registration start?"),
        N_("This is on their VAT registration certificate. For example, 27 3 2007"), N_("VAT registration date"),
        N_("the VAT registration date is the one your client gave to HMRC"),
        DateMessages(N_("Enter the date your client's VAT registration started"),
                     N_("The date your client's VAT registration started must include a day, month and year"),
                     N_("The date your client's VAT registration started must be a real date"),
                     N_("The date your client's VAT registration started must be today or in the past"))),
    KnownFact.PPT_REGISTRATION_DATE: FactQuestion(
        "date", N_("When did your client's Plastic Packaging Tax registration start?"), N_("For example, 27 3 2023"),
        N_("Plastic Packaging Tax registration date"),
        N_("the Plastic Packaging Tax registration date is the one your client gave to HMRC"),
        DateMessages(
            N_("Enter the date your client's Plastic Packaging Tax registration started"),
            N_("The date your client's Plastic Packaging Tax registration started must include a day, month and year"),
            N_("The date your client's Plastic Packaging Tax registration started must be a real date"),
            N_("The date your client's Plastic Packaging Tax registration started must be today or in the past"))),
    KnownFact.PLR_REGISTRATION_DATE: FactQuestion(
        "date", N_("When did your client register for Pillar 2 top-up taxes?"), N_("For example, 27 3 2024"),
        N_("Pillar 2 registration date"), N_("the Pillar 2 registration date is the one your client gave to HMRC"),
        DateMessages(N_("Enter the date your client registered for Pillar 2 top-up taxes"),
                     N_("The date your client registered for Pillar 2 top-up taxes must include a day, month and year"),
                     N_("The date your client registered for Pillar 2 top-up taxes must be a real date"),
                     N_("The date your client registered for Pillar 2 top-up taxes must be today or in the past"))),
    KnownFact.CBC_EMAIL: FactQuestion(
        "email", N_("What is your client's country-by-country reporting contact email address?"),
        N_("This is the first email address your client gave to HMRC"), N_("Contact email address"),
        N_("the contact email address is the one your client gave to HMRC")),
}


ITSA_POSTCODE_HINT = N_("Use their home postcode. If they are a sole trader already signed up to Making Tax Digital "
                        "for Income Tax, use the postcode of their business address")


def fact_display(service: TaxService, stored: str) -> str:
    if service.known_fact is None:
        return ""
    return govuk_date(date.fromisoformat(stored)) if FACT_QUESTIONS[service.known_fact].field == "date" else stored


def fact_form(question: FactQuestion, stored: str) -> Form:
    if question.field != "date" or not stored:
        return Form(values={question.field: stored})
    year, month, day = stored.split("-")
    return Form(values={"date-day": str(int(day)), "date-month": str(int(month)), "date-year": year})


def _read_date(form: Form, messages: DateMessages) -> date | None:
    """A GOV.UK date input (date-day, date-month, date-year) as a date, or None with the question's own message."""
    parts = [form.get(f"date-{part}") for part in ("day", "month", "year")]
    if not any(parts):
        form.error("date", gettext(messages.enter))
        return None
    if not all(parts):
        form.error("date", gettext(messages.incomplete))
        return None
    day, month, year = parts
    if not all(is_whole_number(value) for value in parts) or len(year) != 4:
        form.error("date", gettext(messages.real))
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        form.error("date", gettext(messages.real))
        return None


def read_fact(form: Form, question: FactQuestion) -> str | None:
    raw = form.get(question.field)
    if question.field == "postcode":
        if not raw:
            form.error("postcode", gettext("Enter your client's postcode"))
        elif not identifiers.is_valid_postcode(raw):
            form.error("postcode", gettext("Enter a real postcode"))
        return identifiers.normalise_postcode(raw) if form.ok else None
    if question.field == "email":
        if not raw:
            form.error("email", gettext("Enter your client's email address"))
        elif len(raw) > 254 or not EMAIL_RE.fullmatch(raw):
            form.error("email", gettext("Enter an email address in the correct format, like name@example.com"))
        return raw if form.ok else None
    assert question.dates is not None
    value = _read_date(form, question.dates)
    if value is not None and value > date.today():
        form.error("date", gettext(question.dates.past))
    return value.isoformat() if value is not None and form.ok else None
