"""The ask journey's rules (portal/areas/handshake/agent/journey.py), on the answers alone: which question comes
next, and what each answer makes the journey forget. The pages are tested in test_agent_requests.py."""

from __future__ import annotations

import pytest

from portal.areas.handshake.agent.journey import (
    ITSA_OPTION,
    STEPS,
    TRUST_OPTION,
    Answers,
    next_step,
    reached,
    service_options,
    step_after_service,
    with_answer,
)

VAT, PPT, ITSA_MAIN, ITSA_SUPP = "HMRC-MTD-VAT", "HMRC-PPT-ORG", "HMRC-MTD-IT", "HMRC-MTD-IT-SUPP"
TAXABLE, NON_TAXABLE = "HMRC-TERS-ORG", "HMRC-TERSNT-ORG"

# A business asking for VAT, looked up and confirmed: ready to send.
READY = Answers(client_type="business", service_choice=VAT, service=VAT, identifier="101747696",
                known_fact="2019-04-01", taxpayer_id=7, confirmed=True)


def test_the_steps_follow_the_answers_in_order() -> None:
    answers = Answers()
    assert next_step(answers) == "client-type"
    answers = with_answer(answers, "client_type", "business")
    assert next_step(answers) == "service"
    answers = with_answer(answers, "service_choice", VAT)
    assert (answers.service, next_step(answers)) == (VAT, "client-id")
    answers = with_answer(answers, "identifier", "101747696")
    assert next_step(answers) == "known-fact"
    answers = with_answer(answers, "known_fact", "2019-04-01")
    assert next_step(answers) == "known-fact"  # not found yet: the look-up runs after the known fact
    answers = with_answer(answers, "taxpayer_id", 7)
    assert next_step(answers) == "confirm-client"
    assert with_answer(answers, "confirmed", True) == READY
    assert next_step(READY) == "check-your-answers"


@pytest.mark.parametrize(("choice", "follow_up"), [(ITSA_OPTION, "agent-role"), (TRUST_OPTION, "trust-taxable"),
                                                   (VAT, "client-id")])
def test_a_choice_covering_two_services_asks_which_one(choice: str, follow_up: str) -> None:
    answers = with_answer(Answers(client_type="personal" if choice != TRUST_OPTION else "trust"), "service_choice",
                          choice)
    assert step_after_service(choice) == follow_up
    assert next_step(answers) == ("client-id" if choice == VAT else follow_up)


def test_a_service_without_a_known_fact_looks_the_client_up_from_the_reference() -> None:
    answers = Answers(client_type="trust", service_choice=TRUST_OPTION, service=NON_TAXABLE, identifier="X")
    assert next_step(answers) == "client-id"  # URN trusts have no known fact: not found sends back to the reference


def test_reached_sends_a_page_ahead_of_the_answers_back() -> None:
    answers = Answers(client_type="business")
    assert reached(answers, "service") and not reached(answers, "client-id")
    assert all(reached(READY, step) for step in STEPS)


def test_a_new_client_type_starts_again_and_the_same_one_keeps_everything() -> None:
    assert with_answer(READY, "client_type", "personal") == Answers(client_type="personal")
    assert with_answer(READY, "client_type", "business") == READY


def test_a_new_service_choice_forgets_the_service_and_the_client() -> None:
    answers = with_answer(READY, "service_choice", PPT)
    assert answers == Answers(client_type="business", service_choice=PPT, service=PPT)
    assert with_answer(READY, "service_choice", VAT) == READY


def test_a_choice_of_two_services_leaves_the_service_to_the_follow_up() -> None:
    itsa = Answers(client_type="personal", service_choice=ITSA_OPTION, service=ITSA_MAIN, identifier="AB123456C",
                   known_fact="LS1 4DY", taxpayer_id=3, confirmed=True)
    assert with_answer(itsa, "service_choice", VAT) == Answers(client_type="personal", service_choice=VAT,
                                                               service=VAT)
    assert with_answer(itsa, "service_choice", ITSA_OPTION) == itsa  # the same choice: nothing forgotten


def test_a_new_service_proved_the_same_way_forgets_only_the_look_up() -> None:
    itsa = Answers(client_type="personal", service_choice=ITSA_OPTION, service=ITSA_MAIN, identifier="AB123456C",
                   known_fact="LS1 4DY", taxpayer_id=3, confirmed=True)
    supporting = with_answer(itsa, "service", ITSA_SUPP)  # the same NINO and postcode: the client stays
    assert (supporting.service, supporting.identifier, supporting.known_fact) == (ITSA_SUPP, "AB123456C", "LS1 4DY")
    assert (supporting.taxpayer_id, supporting.confirmed) == (None, False)
    assert with_answer(itsa, "service", ITSA_MAIN) == itsa


def test_a_new_service_identified_another_way_forgets_the_client() -> None:
    trust = Answers(client_type="trust", service_choice=TRUST_OPTION, service=TAXABLE, identifier="1234567890",
                    known_fact="LS1 4DY", taxpayer_id=4, confirmed=True)
    answers = with_answer(trust, "service", NON_TAXABLE)  # a UTR and postcode, then a URN and no known fact
    assert answers == Answers(client_type="trust", service_choice=TRUST_OPTION, service=NON_TAXABLE)


def test_a_new_reference_forgets_the_look_up_and_the_same_one_keeps_it() -> None:
    answers = with_answer(READY, "identifier", "101747641")
    assert (answers.identifier, answers.known_fact, answers.taxpayer_id, answers.confirmed) == (
        "101747641", "2019-04-01", None, False)
    assert with_answer(READY, "identifier", READY.identifier) == READY


def test_a_known_fact_keeps_the_look_up_which_runs_again_at_once() -> None:
    assert with_answer(READY, "known_fact", "2019-04-02").taxpayer_id == 7


def test_the_look_up_finding_another_client_or_none_forgets_the_confirmation() -> None:
    assert with_answer(READY, "taxpayer_id", 7) == READY
    assert (with_answer(READY, "taxpayer_id", 8).taxpayer_id, with_answer(READY, "taxpayer_id", 8).confirmed) == (
        8, False)
    assert next_step(with_answer(READY, "taxpayer_id", None)) == "known-fact"


def test_not_my_client_forgets_the_reference_and_known_fact() -> None:
    assert with_answer(READY, "confirmed", False) == Answers(client_type="business", service_choice=VAT,
                                                             service=VAT)


def test_answers_round_trip_through_the_session_and_an_empty_journey_saves_as_nothing() -> None:
    assert Answers.from_saved(READY.as_saved()) == READY
    assert Answers().as_saved() == {} and not Answers().started
    assert Answers.from_saved({"client_type": "business", "stray": 1, "taxpayer_id": "7"}) == Answers(
        client_type="business")


def test_service_options_offer_income_tax_and_trusts_once_each() -> None:
    personal = dict(service_options("personal"))
    assert personal[ITSA_OPTION] == "Making Tax Digital for Income Tax"
    assert ITSA_MAIN not in personal and ITSA_SUPP not in personal
    assert list(dict(service_options("trust"))).count(TRUST_OPTION) == 1
