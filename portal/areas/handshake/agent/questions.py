"""The words of the ask journey's client questions: the reference hints, and the known-fact question each service
asks (postcode, a date or an email address), with how its answer is read, shown and put back in the form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal.domain import identifiers
from portal.domain.services import KnownFact, TaxService
from portal.web.formatting import govuk_date
from portal.web.forms import Form, read_date

EMAIL_RE = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+")  # domain.md §1.2 field formats


CLIENT_ID_HINTS = {
    "nino": "For example, QQ 12 34 56 C",
    "vrn": "This is 9 numbers, for example 123456789",
    "utr": "This is 10 numbers, for example 12345 67890",
    "urn": "This is 15 characters, for example XATRUST80000001",
    "cgt": "This is 15 characters, for example XMCGTP123456789",
    "ppt": "This is 15 characters, for example XMPPT0000000123",
    "cbc": "This is 15 characters, for example XACBC0000999999",
    "plr": "This is 15 characters, for example XMPLR0123456789",
}


@dataclass(frozen=True)
class FactQuestion:
    field: str  # "postcode", "date" or "email": the input's name
    question: str
    hint: str
    summary: str  # the key on "Check your answers"
    label: str = ""  # a date, as it reads in an error message


FACT_QUESTIONS = {
    KnownFact.POSTCODE: FactQuestion("postcode", "What is your client's postcode?", "For example, LS1 4DY",
                                     "Postcode"),
    KnownFact.DATE_OF_BIRTH: FactQuestion("date", "What is your client's date of birth?", "For example, 27 3 1985",
                                          "Date of birth", "your client's date of birth"),
    KnownFact.VAT_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client's VAT registration start?",
        "This is on their VAT registration certificate. For example, 27 3 2007", "VAT registration date",
        "the date your client's VAT registration started"),
    KnownFact.PPT_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client's Plastic Packaging Tax registration start?", "For example, 27 3 2023",
        "Plastic Packaging Tax registration date", "the date your client's Plastic Packaging Tax registration started"),
    KnownFact.PLR_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client register for Pillar 2 top-up taxes?", "For example, 27 3 2024",
        "Pillar 2 registration date", "the date your client registered for Pillar 2 top-up taxes"),
    KnownFact.CBC_EMAIL: FactQuestion(
        "email", "What is your client's country-by-country reporting contact email address?",
        "This is the first email address your client gave to HMRC", "Contact email address"),
}


ITSA_POSTCODE_HINT = ("Use their home postcode. If they are a sole trader already signed up to Making Tax Digital "
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


def read_fact(form: Form, question: FactQuestion) -> str | None:
    raw = form.get(question.field)
    if question.field == "postcode":
        if not raw:
            form.error("postcode", "Enter your client's postcode")
        elif not identifiers.is_valid_postcode(raw):
            form.error("postcode", "Enter a real postcode")
        return identifiers.normalise_postcode(raw) if form.ok else None
    if question.field == "email":
        if not raw:
            form.error("email", "Enter your client's email address")
        elif len(raw) > 254 or not EMAIL_RE.fullmatch(raw):
            form.error("email", "Enter an email address in the correct format, like name@example.com")
        return raw if form.ok else None
    value = read_date(form, "date", question.label)
    if value is not None and value > date.today():
        form.error("date", f"{question.label[0].upper()}{question.label[1:]} must be today or in the past")
    return value.isoformat() if value is not None and form.ok else None
