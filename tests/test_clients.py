from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain.models import Firm
from portal.domain.sql import unit_of_work
from portal.domain.team_models import AccessGroup, AccessGroupMember
from tests import factories
from tests.factories import World, sign_in


def _names_in_table(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header"><a [^>]*>([^<]+)</a>', html)


def test_the_dashboard_lists_only_the_firms_own_clients(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/clients")
    assert _names_in_table(page.text) == ["Granite Bakery Ltd", "Jane Whitfield"]
    assert "Oscar Pennine" not in page.text
    assert "2 clients" in page.text


def test_the_next_deadline_only_counts_services_the_firm_acts_for(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    row = client.get("/clients?q=jane").text
    itsa_due = date.today() + timedelta(days=20)
    vat_due = date.today() + timedelta(days=5)  # Jane's VAT return: the firm is not her VAT agent
    assert f"{itsa_due.day} {itsa_due:%B %Y}" in row
    assert f"{vat_due.day} {vat_due:%B %Y}" not in row
    assert "Income Tax (Making Tax Digital)" in row


def test_an_overdue_deadline_is_tagged(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert "Overdue" in client.get("/clients?q=granite").text


def test_search_finds_clients_by_any_part_of_the_name_or_by_tax_reference(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert _names_in_table(client.get("/clients?q=BAKERY").text) == ["Granite Bakery Ltd"]
    assert _names_in_table(client.get("/clients?q=ab+12+34+56+c").text) == ["Jane Whitfield"]
    assert _names_in_table(client.get("/clients?q=101747696").text) == ["Granite Bakery Ltd"]
    # Another firm's client is not found by its reference either.
    assert _names_in_table(client.get("/clients?q=CE654321A").text) == []


def test_search_treats_wildcards_as_plain_text(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert _names_in_table(client.get("/clients?q=%25").text) == []
    assert _names_in_table(client.get("/clients?q=_").text) == []


def test_filter_by_tax_service(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert _names_in_table(client.get("/clients?service=VAT").text) == ["Granite Bakery Ltd"]
    assert _names_in_table(client.get("/clients?service=ITSA").text) == ["Jane Whitfield"]


def test_no_match_has_a_helpful_empty_state(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/clients?q=zzzz")
    assert "No clients match your search" in page.text and 'href="/clients">Clear your search' in page.text


def test_a_firm_with_no_clients_is_told_how_clients_appear(  # type: ignore[no-untyped-def]
        client: TestClient, world: World, db: Session, settings) -> None:
    empty = factories.firm(db, "Empty Practice")
    factories.member(db, settings, empty, "new@example.com")
    db.commit()
    sign_in(client, "new@example.com")
    assert "You do not have any clients yet" in client.get("/clients").text


def test_an_overlong_search_is_an_error_not_a_crash(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/clients?q=" + "a" * 500)
    assert page.status_code == 200 and "Search must be 100 characters or fewer" in page.text
    assert "<title>Error: Your clients" in page.text


def test_twenty_clients_a_page_with_the_page_number_in_the_title(client: TestClient, world: World, db: Session) -> None:
    firm = db.get(Firm, world.firm.id)
    for n in range(23):
        factories.authorise(db, firm, factories.taxpayer(db, f"Zed Client {n:02d}"), "HMRC-MTD-VAT")
    db.commit()
    sign_in(client, "agent@example.com")
    first = client.get("/clients")
    assert len(_names_in_table(first.text)) == 20
    assert "Your clients (page 1 of 2)" in first.text and "Showing 1 to 20 of 25 clients" in first.text
    second = client.get("/clients?page=2")
    assert _names_in_table(second.text) == ["Zed Client 18", "Zed Client 19", "Zed Client 20", "Zed Client 21",
                                            "Zed Client 22"]
    assert 'aria-current="page">2<' in second.text
    assert _names_in_table(client.get("/clients?page=99").text) == _names_in_table(second.text)
    assert _names_in_table(client.get("/clients?page=abc").text) == _names_in_table(first.text)
    # The page links keep the search; page 1 is the search's own address, with no page number.
    searched = client.get("/clients?q=zed&service=VAT&page=2").text
    assert 'href="/clients?q=zed&amp;service=VAT" rel="prev"' in searched
    assert 'href="/clients?q=zed&amp;service=VAT&amp;page=2"' in searched
    assert 'href="/clients?page=2"' in first.text and 'href="/clients" rel="prev"' in second.text


def test_a_tax_service_filter_counts_each_client_the_firm_acts_for_in_it_once(  # type: ignore[no-untyped-def]
        client: TestClient, world: World, db: Session) -> None:
    """Counted from the firm's live authorisations (client_search.count_query), and listed by the kept regimes: a
    client with two services in one tax service is one client, and one whose authorisation ended is in neither."""
    from sqlalchemy import select

    from portal.domain import handshake
    from portal.domain.models import Authorisation

    firm = db.get(Firm, world.firm.id)
    for n in range(21):
        factories.authorise(db, firm, factories.taxpayer(db, f"Vat Client {n:02d}"), "HMRC-MTD-VAT")
    both = factories.taxpayer(db, "Both Roles Ltd")
    factories.authorise(db, firm, both, "HMRC-MTD-IT", "HMRC-MTD-IT-SUPP")
    gone = factories.taxpayer(db, "Gone Ltd")
    factories.authorise(db, firm, gone, "HMRC-MTD-VAT", "HMRC-MTD-IT")
    ended = db.execute(select(Authorisation).where(Authorisation.taxpayer_id == gone.id,
                                                   Authorisation.regime == "VAT")).scalar_one()
    handshake.end_authorisation(db, ended, ended_by="agent", actor_user_id=world.agent.id, authority="agent")
    db.commit()
    sign_in(client, "agent@example.com")
    vat = client.get("/clients?service=VAT").text
    assert "Showing 1 to 20 of 22 clients" in vat  # Granite and the 21, not Gone Ltd
    assert _names_in_table(client.get("/clients?service=VAT&page=2").text) == ["Vat Client 19", "Vat Client 20"]
    itsa = client.get("/clients?service=ITSA").text  # still Gone Ltd's, and Both Roles Ltd once
    assert _names_in_table(itsa) == ["Both Roles Ltd", "Gone Ltd", "Jane Whitfield"] and "3 clients found" in itsa


def test_htmx_search_gets_only_the_results_and_the_announced_count(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    partial = client.get("/clients?q=granite", headers={"HX-Request": "true"})
    assert partial.headers["vary"].count("HX-Request") == 1
    assert "<html" not in partial.text and 'id="clients-results"' in partial.text
    assert 'id="clients-count" data-hx-swap-oob="innerHTML">1 client found' in partial.text
    for header in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        whole = client.get("/clients?q=granite", headers={"HX-Request": "true", **header})
        assert whole.text.lstrip().startswith("<!DOCTYPE html>") and "Vary" in whole.headers


def test_acting_for_a_client_shows_who_and_their_obligations(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}")
    assert "<title>Overview – Jane Whitfield – Agent Online Self-Serve</title>" in page.text
    assert "You are acting for <strong>Jane Whitfield</strong>" in page.text
    assert 'href="/clients">Change client</a>' in page.text
    assert "Quarterly update" in page.text
    assert "VAT return" not in page.text  # the firm is not authorised for Jane's VAT


def test_change_client_goes_back_to_the_search_until_the_person_signs_out(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    client.get("/clients?q=jane")
    assert 'href="/clients?q=jane">Change client</a>' in client.get(f"/clients/{world.itsa_client.id}").text
    # Signed out: the search goes too, so the next person at this computer does not find it behind "Change client".
    page = client.get("/clients")
    signed_out = client.post("/sign-out", data={"csrf_token": factories.csrf_from(page.text)})
    assert any(header.startswith("portal_clients_view=;") and "Max-Age=0" in header
               for header in signed_out.headers.get_list("set-cookie"))
    sign_in(client, "staff@example.com")
    assert 'href="/clients">Change client</a>' in client.get(f"/clients/{world.vat_client.id}").text


def test_signing_in_forgets_a_search_left_by_someone_who_did_not_sign_out(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    client.get("/clients?q=jane")
    client.cookies.delete("portal_session")  # they closed the tab; the browser kept its cookies
    sign_in(client, "staff@example.com")
    assert 'href="/clients">Change client</a>' in client.get(f"/clients/{world.vat_client.id}").text


def test_htmx_client_switch_swaps_the_content_and_carries_the_title(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    partial = client.get(f"/clients/{world.vat_client.id}", headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith("<title>Overview – Granite Bakery Ltd")
    assert 'id="content"' in partial.text and "You are acting for" in partial.text


def test_another_firms_client_is_a_404_exactly_like_one_that_does_not_exist(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    forbidden = client.get(f"/clients/{world.other_client.id}")
    missing = client.get("/clients/987654")
    huge = client.get("/clients/99999999999999999999999")
    assert forbidden.status_code == missing.status_code == huge.status_code == 404
    assert forbidden.text == missing.text
    assert "Oscar Pennine" not in forbidden.text


def test_an_ended_authorisation_loses_access_at_once(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from portal.domain.models import Authorisation, utcnow

    sign_in(client, "agent@example.com")
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 200
    with engine.begin() as connection:
        connection.execute(update(Authorisation).where(Authorisation.taxpayer_id == world.vat_client.id)
                           .values(ended_at=utcnow(), ended_by="client"))
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 404


def _put_in_group(engine, world: World, *, staff_in_group: bool) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        db.get(Firm, world.firm.id).access_groups_enabled = True
        group = AccessGroup(firm_id=world.firm.id, name="VAT team")
        db.add(group)
        db.flush()
        factories.in_group(db, group, world.vat_client)
        if staff_in_group:
            db.add(AccessGroupMember(group_id=group.id, user_id=world.staff.id))


def test_access_groups_hide_grouped_clients_from_staff_outside_the_group(  # type: ignore[no-untyped-def]
        client: TestClient, world: World, engine) -> None:
    _put_in_group(engine, world, staff_in_group=False)
    sign_in(client, "staff@example.com")
    assert _names_in_table(client.get("/clients").text) == ["Jane Whitfield"]  # unassigned: visible to all
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 404


def test_access_groups_let_group_members_and_admins_act(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    _put_in_group(engine, world, staff_in_group=True)
    sign_in(client, "staff@example.com")
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 200
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "agent@example.com")
    assert admin.get(f"/clients/{world.vat_client.id}").status_code == 200


def test_a_taxpayer_sees_their_own_overview_without_an_acting_for_banner(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    assert client.get("/").headers["location"] == "/account"
    page = client.get(f"/clients/{world.itsa_client.id}")
    assert page.status_code == 200 and "You are acting for" not in page.text
    assert "VAT return" in page.text and "Quarterly update" in page.text  # all of her own obligations
    assert client.get("/clients").headers["location"] == "/account"  # not an agent: no client list


def test_a_name_search_matches_the_start_of_any_word_in_the_name(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    assert _names_in_table(client.get("/clients?q=gran+bak").text) == ["Granite Bakery Ltd"]
    assert _names_in_table(client.get("/clients?q=WHIT").text) == ["Jane Whitfield"]
    assert _names_in_table(client.get("/clients?q=akery").text) == []  # words are matched from their start


def test_a_renamed_client_is_found_by_the_new_name_only(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    from portal.domain.models import Taxpayer

    with unit_of_work(engine) as db:
        db.get(Taxpayer, world.vat_client.id).name = "Kestrel Joinery Ltd"
    sign_in(client, "agent@example.com")
    assert _names_in_table(client.get("/clients?q=kestrel").text) == ["Kestrel Joinery Ltd"]
    assert _names_in_table(client.get("/clients?q=granite").text) == []


def test_change_client_returns_to_the_list_as_the_agent_left_it(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    overview = f"/clients/{world.vat_client.id}"
    assert 'app-acting-for__change" href="/clients">' in client.get(overview).text  # no list seen yet
    client.get("/clients?q=granite&service=VAT")
    assert 'app-acting-for__change" href="/clients?q=granite&amp;service=VAT">' in client.get(overview).text
    # An htmx page of results counts too; a list with no search forgets the last one.
    client.get("/clients?service=VAT&page=1", headers={"HX-Request": "true"})
    assert 'app-acting-for__change" href="/clients?service=VAT">' in client.get(overview).text
    cleared = client.get("/clients")
    assert "Max-Age=0" in cleared.headers["set-cookie"]
    assert 'app-acting-for__change" href="/clients">' in client.get(overview).text
