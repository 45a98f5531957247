"""The firm's own pages and software access in Welsh (issue 10): Manage account, the team, access groups and
their clients, a failed form's errors and title, and the consent page where an agent lets software act for them.
Welsh is asked for as a person's browser does, with the language cookie the ENG/CYM toggle sets."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal.domain import firm_access
from portal.domain.sql import unit_of_work
from tests import factories
from tests.factories import World, csrf_from, sign_in
from tests.oauth_dance import access_for, authorize_query, pkce, register
from tests.welsh import choose_welsh as _in_welsh
from tests.welsh import title_of as _title

H1 = re.compile(r'<h1 class="govuk-[\w-]+">\s*(?:<label[^>]*>)?([^<]+)<')


def _h1(html: str) -> str:
    match = H1.search(html)
    assert match, "no <h1>"
    return match.group(1).strip()


def test_manage_account_reads_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    page = client.get("/manage-account")
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert _h1(page.text) == "Rheoli’r cyfrif" and _title(page.text).startswith("Rheoli’r cyfrif")
    assert "Grwpiau mynediad" in page.text and "Troi grwpiau mynediad ymlaen" in page.text
    assert "Creu grŵp mynediad" in page.text and "Cleientiaid nad ydynt mewn unrhyw grŵp" in page.text
    assert "(agent@example.com), gweinyddwr" in page.text and "defnyddiwr safonol" in page.text
    for english in ("Access groups", "Create an access group", "administrator", "Manage team members"):
        assert english not in page.text


def test_the_team_page_reads_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    page = client.get("/manage-account/team")
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert _h1(page.text) == "Aelodau’r tîm"
    assert "Gwahodd aelod o’r tîm" in page.text and "Gweinyddwr" in page.text and "Defnyddiwr safonol" in page.text
    assert "(chi)" in page.text and 'data-label="Cyfeiriad e-bost"' in page.text
    # The screen-reader text of the buttons is Welsh too.
    assert 'Tynnu<span class="govuk-visually-hidden"> ' in page.text and "o’ch cwmni</span>" in page.text
    for english in ("Team members", "Invite a team member", "Standard user", "from your firm", "(you)"):
        assert english not in page.text


def test_a_failed_invitation_says_what_is_wrong_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    token = csrf_from(client.get("/manage-account/team/invite").text)
    page = client.post("/manage-account/team/invite", data={"csrf_token": token, "email": "not an address",
                                                            "role": "boss"})
    assert page.status_code == 400 and '<html lang="cy"' in page.text
    assert _title(page.text).startswith("Gwall: Gwahodd aelod o’r tîm")
    assert "Dewiswch weinyddwr neu ddefnyddiwr safonol" in page.text
    assert "Anfon gwahoddiad" in page.text and "Send invitation" not in page.text


def test_access_groups_read_in_welsh_with_welsh_counts(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        for n in range(3):
            factories.authorise(db, world.firm, factories.taxpayer(db, f"Alder {n} Ltd", "business"), "HMRC-MTD-VAT")
        group = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Alders")
        group_id = group.id
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    page = client.get(f"/manage-account/groups/{group_id}")
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert "Grŵp mynediad" in page.text and "Mae 0 cleient yn y grŵp hwn." in page.text
    assert "Ychwanegu neu dynnu cleientiaid" in page.text and "Dileu’r grŵp mynediad" in page.text

    token = csrf_from(page.text)
    url = f"/manage-account/groups/{group_id}/clients"
    chooser = client.get(url + "?q=alder").text
    assert _h1(chooser) == "Ychwanegu neu dynnu cleientiaid"
    assert "Mae 3 chleient yn cyfateb i’ch chwiliad." in chooser  # tri: an aspirate mutation
    assert "Ychwanegu pob un o’r 3 chleient sy’n cyfateb at y grŵp" in chooser
    shown = re.findall(r'name="shown" value="(\d+)"', chooser)
    assert len(shown) == 3 and "Ticio Alder 0 Ltd" in chooser
    added = client.post(url, data={"csrf_token": token, "q": "alder", "action": "add_selected", "shown": shown,
                                   "selected": shown[:2]})
    assert "Ychwanegwyd 2 gleient at Alders" in client.get(added.headers["location"]).text  # dau: soft mutation
    assert "Mae 2 gleient yn y grŵp hwn." in client.get(f"/manage-account/groups/{group_id}").text


def test_a_nameless_access_group_fails_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    form = client.get("/manage-account/groups/new")
    assert _h1(form.text) == "Beth rydych am alw’r grŵp mynediad hwn?"
    page = client.post("/manage-account/groups/new", data={"csrf_token": csrf_from(form.text), "name": " "})
    assert page.status_code == 400 and '<html lang="cy"' in page.text
    assert _title(page.text).startswith("Gwall: Beth rydych am alw’r grŵp mynediad hwn?")
    assert "Nodwch enw ar gyfer y grŵp mynediad" in page.text
    assert "Enter a name" not in page.text and "Create access group" not in page.text


def test_clients_in_no_group_read_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    page = client.get("/manage-account/unassigned-clients")
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert _h1(page.text) == "Cleientiaid nad ydynt mewn unrhyw grŵp"
    assert re.search(r"\d+ (cleient|gleient|chleient)\.", page.text)
    assert "Pob gwasanaeth treth" in page.text and "Cyfeirnod cleient" in page.text


def test_the_consent_page_reads_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    _in_welsh(client)
    _verifier, challenge = pkce()
    query = authorize_query(app, challenge, scope="read:sent-invitations write:vat")
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert _h1(page.text) == "Caniatáu i Ledgerly Desktop weithredu ar eich rhan"
    assert "gweld y ceisiadau am awdurdodiad y mae eich cwmni wedi’u hanfon yn ystod y 30 diwrnod diwethaf" in page.text
    assert "anfon Ffurflenni TAW ar gyfer eich cleientiaid" in page.text
    assert "Caniatáu mynediad" in page.text and "Peidio â chaniatáu" in page.text
    assert "Allow access" not in page.text and "send VAT returns" not in page.text
    # Allowing it in Welsh works as in English: back to the software with a code.
    allowed = client.post(f"/oauth/authorize?{query}", data={"csrf_token": csrf_from(page.text),
                                                             "decision": "allow"})
    assert allowed.status_code == 302 and "code=" in allowed.headers["location"]
    connected = client.get("/account/connected-applications").text  # access starts when the code is exchanged
    assert _h1(connected) == "Rhaglenni cysylltiedig"
    assert "Nid ydych wedi rhoi mynediad i unrhyw feddalwedd." in connected


def test_registering_software_fails_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    form = client.get("/developer/applications")
    assert _h1(form.text) == "Eich meddalwedd"
    page = client.post("/developer/applications", data={"csrf_token": csrf_from(form.text), "name": "",
                                                        "redirect_uris": "http://ledgerly.example/cb"})
    assert page.status_code == 400 and _title(page.text).startswith("Gwall: Eich meddalwedd")
    assert "Nodwch enw eich meddalwedd" in page.text
    assert "Mae’n rhaid i URIs ailgyfeirio ddechrau gyda https://" in page.text


def test_connected_applications_read_in_welsh(client: TestClient, world: World) -> None:
    access_for(client, "agent@example.com")  # signs out at the end
    sign_in(client, "agent@example.com")
    _in_welsh(client)
    page = client.get("/account/connected-applications").text
    assert '<html lang="cy"' in page and _h1(page) == "Rhaglenni cysylltiedig"
    assert "Mae’n gallu" in page and "anfon Ffurflenni TAW ar gyfer eich cleientiaid" in page
    assert ('Dirymu mynediad<span class="govuk-visually-hidden"> ar gyfer Ledgerly Desktop</span>' in page)
    assert "Revoke access" not in page and "It can" not in page


def test_a_tax_service_group_is_called_by_its_welsh_name(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        group = firm_access.create_tax_service_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id,
                                                     regime="VAT", name="VAT")
        group_id = group.id
    sign_in(client, "agent@example.com")
    assert _h1(client.get(f"/manage-account/groups/{group_id}").text) == "VAT"
    _in_welsh(client)
    page = client.get(f"/manage-account/groups/{group_id}").text
    assert _h1(page) == "TAW" and "ar gyfer TAW, gan gynnwys cleientiaid" in page
    assert ">TAW</a> (grŵp gwasanaeth treth)" in client.get("/manage-account").text


def test_a_dead_invitation_link_says_so_in_welsh(client: TestClient, world: World) -> None:
    page = client.get("/join/no-such-token?lang=cy")
    assert page.status_code == 404 and '<html lang="cy"' in page.text
    assert _h1(page.text) == "Nid yw’r ddolen wahoddiad hon yn gweithio"
    assert "Gofynnwch i weinyddwr y cwmni anfon gwahoddiad newydd atoch." in page.text
