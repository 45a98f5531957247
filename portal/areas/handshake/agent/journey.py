"""The "ask a client for authorisation" journey as data (domain.md §2.7): the agent's answers, the order of the
questions, which question comes next, and what an answer makes the journey forget.

Pure: no request, no database. ask.py reads the answers from the person's session, asks `next_step` and
`with_answer`, and saves what they return. So the rule "change the client type and every later answer goes" lives
here once, and is tested here (tests/test_ask_journey.py), rather than in a `journeys.forget` in each handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from portal.domain.services import BY_KEY, SERVICES, TaxService
from portal.i18n import N_

ITSA_OPTION, TRUST_OPTION = "income-tax", "trusts"
STEPS = ("client-type", "service", "agent-role", "trust-taxable", "client-id", "known-fact", "confirm-client",
         "check-your-answers")
# The question that follows "What do you want your client to authorise you for?" when the choice covers two services.
FOLLOW_UPS = {ITSA_OPTION: "agent-role", TRUST_OPTION: "trust-taxable"}

Field = Literal["client_type", "service_choice", "service", "identifier", "known_fact", "taxpayer_id", "confirmed"]


@dataclass(frozen=True)
class Answers:
    client_type: str = ""
    service_choice: str = ""  # an option of service_options(): a service key, ITSA_OPTION or TRUST_OPTION
    service: str = ""  # the service key, once the choice (and the follow-up question, if any) settles it
    identifier: str = ""  # normalised
    known_fact: str = ""  # a postcode, an email address or an ISO date
    # What a client look-up found, and the agent's confirmation of it: forgotten when an answer it used changes.
    taxpayer_id: int | None = None
    confirmed: bool = False

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any]) -> Answers:
        """From the journey's record in the session: keys it does not know are dropped, missing ones are empty."""
        taxpayer_id = saved.get("taxpayer_id")
        return cls(client_type=str(saved.get("client_type") or ""),
                   service_choice=str(saved.get("service_choice") or ""), service=str(saved.get("service") or ""),
                   identifier=str(saved.get("identifier") or ""), known_fact=str(saved.get("known_fact") or ""),
                   taxpayer_id=taxpayer_id if isinstance(taxpayer_id, int) else None,
                   confirmed=saved.get("confirmed") is True)

    def as_saved(self) -> dict[str, Any]:
        """Only what has been answered, so a journey with no answers saves as nothing."""
        return {name: value for name, value in asdict(self).items() if value not in ("", None, False)}

    @property
    def chosen_service(self) -> TaxService | None:
        return BY_KEY.get(self.service)

    @property
    def started(self) -> bool:
        return bool(self.as_saved())


def _without_lookup(answers: Answers) -> Answers:
    return replace(answers, taxpayer_id=None, confirmed=False)


def _without_client(answers: Answers) -> Answers:
    return _without_lookup(replace(answers, identifier="", known_fact=""))


def service_options(client_type: str) -> list[tuple[str, str]]:
    """One option per service for the client type; Income Tax's two roles and the two kinds of trust as one each.
    The labels are marked with N_ (the journey stays pure): translate them where they are shown."""
    options: dict[str, str] = {}
    for service in SERVICES:
        if client_type not in service.client_types:
            continue
        if service.regime == "ITSA":
            options.setdefault(ITSA_OPTION, N_("Making Tax Digital for Income Tax"))
        elif service.regime == "TRS":
            options.setdefault(TRUST_OPTION, N_("Trusts and estates"))
        else:
            options.setdefault(service.key, service.name)
    return list(options.items())


def next_step(answers: Answers) -> str:
    """The first question still to answer (or "check-your-answers" when none is)."""
    if not answers.client_type:
        return "client-type"
    service = answers.chosen_service
    if not answers.service_choice:
        return "service"
    if service is None:
        return FOLLOW_UPS.get(answers.service_choice, "service")
    if not answers.identifier:
        return "client-id"
    if service.known_fact and not answers.known_fact:
        return "known-fact"
    if not answers.taxpayer_id:
        return "known-fact" if service.known_fact else "client-id"
    return "check-your-answers" if answers.confirmed else "confirm-client"


def step_after_service(choice: str) -> str:
    return FOLLOW_UPS.get(choice, "client-id")


def reached(answers: Answers, step: str) -> bool:
    """Whether every question before `step` is answered; a page not reached sends the person to next_step."""
    return STEPS.index(next_step(answers)) >= STEPS.index(step)


def with_answer(answers: Answers, field: Field, value: str | int | bool | None) -> Answers:
    """The answers after one more, with every later answer that depended on the old value forgotten:

    - a new client type starts again;
    - a new service choice forgets the service and the client (and sets the service if the choice is one);
    - a new service forgets the client if it is identified another way or proved by another fact, and the look-up
      otherwise (it was for another service);
    - a new reference forgets the look-up; a known fact keeps it (the look-up runs again at once);
    - a look-up that finds another client (or none: `taxpayer_id` None) forgets the confirmation;
    - "no, that is not my client" (`confirmed` False) forgets the client's reference and known fact too.
    """
    if field == "client_type":
        return answers if value == answers.client_type else Answers(client_type=str(value))
    if field == "service_choice":
        choice = str(value)
        if choice != answers.service_choice:
            answers = _without_client(replace(answers, service_choice=choice, service=""))
        return with_answer(answers, "service", choice) if choice in BY_KEY else answers
    if field == "service":
        old, new = answers.chosen_service, BY_KEY[str(value)]
        if old is None or (old.identifier, old.known_fact) != (new.identifier, new.known_fact):
            answers = _without_client(answers)
        elif old.key != new.key:
            answers = _without_lookup(answers)
        return replace(answers, service=new.key)
    if field == "identifier":
        if value != answers.identifier:
            answers = _without_lookup(answers)
        return replace(answers, identifier=str(value))
    if field == "known_fact":
        return replace(answers, known_fact=str(value))
    if field == "taxpayer_id":
        if value is None:
            return _without_lookup(answers)
        assert isinstance(value, int)
        return answers if value == answers.taxpayer_id else replace(answers, taxpayer_id=value, confirmed=False)
    if field == "confirmed":
        return replace(answers, confirmed=True) if value else _without_client(answers)
    raise ValueError(f"no such answer: {field}")
