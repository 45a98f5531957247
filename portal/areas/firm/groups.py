"""Manage account: access groups on or off, custom groups (name, clients, team members), unassigned clients.

Choosing clients works without JavaScript: the client table is one form; its checkboxes, the page buttons and
the action buttons all post it, and the clients ticked so far are kept in the session (portal.web.journeys), so
ticks survive paging. "All N matching" acts on the search itself in one statement, however many match.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.clients import services_label
from portal.domain import firm_access
from portal.domain.firm_access import NO_GROUP, ClientChoice, Refusal, Refused
from portal.domain.models import Firm
from portal.domain.numbers import ID_DIGITS, is_whole_number, whole_number
from portal.domain.people import Viewer
from portal.domain.services import REGIME_NAMES
from portal.domain.team_models import AccessGroup
from portal.i18n import N_, gettext
from portal.web import journeys, pagination
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_firm_admin
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render

PAGE_SIZE = 20
MAX_SEARCH_LENGTH = 100

NAME_ERRORS = {
    Refusal.NAME_MISSING: N_("Enter a name for the access group"),
    Refusal.NAME_TOO_LONG: N_("Access group name must be 50 characters or fewer"),
    Refusal.NAME_TAKEN: N_("Your firm already has an access group with this name"),
    Refusal.SERVICE_TAKEN: N_("Your firm already has a group for this tax service"),
    Refusal.NOT_A_MEMBER: N_("Select someone in your firm"),
}


def group_name(group: AccessGroup | firm_access.GroupSummary) -> str:
    """A tax service group is called by its tax service's name in the reader's language ("TAW"); any other group
    by the name its firm gave it."""
    return REGIME_NAMES[group.regime] if group.regime is not None and group.regime in REGIME_NAMES else group.name


def _firm_id(viewer: Viewer) -> int:
    assert viewer.firm_id is not None  # require_firm_admin let only a firm's administrator in
    return viewer.firm_id


def _group(request: Request, viewer: Viewer) -> AccessGroup:
    group = firm_access.group_of(db_session(request), firm_id=_firm_id(viewer),
                                 group_id=request.path_params["group_id"])
    if group is None:
        raise HTTPException(status_code=404)
    return group


# --- manage account ------------------------------------------------------------------------------------------------


async def manage_account(request: Request) -> Response:
    viewer = require_firm_admin(request)
    db = db_session(request)
    firm = db.get(Firm, _firm_id(viewer))
    assert firm is not None
    unassigned = firm_access.count_choice(db, ClientChoice(firm.id, group=NO_GROUP))
    return render(request, "firm/manage_account.html", {
        "firm": firm, "groups": firm_access.groups(db, firm.id), "unassigned": unassigned,
        "members": firm_access.firm_members(db, firm.id), "group_name": group_name})


async def switch_access_groups(request: Request) -> Response:
    viewer = require_firm_admin(request)
    form = await read_form(request, "enabled")
    if form.get("enabled") in ("on", "off"):
        firm_access.set_access_groups(db_session(request), firm_id=_firm_id(viewer), actor_user_id=viewer.user_id,
                                      enabled=form.get("enabled") == "on")
    return redirect_to(request, "manage_account")


async def new_group(request: Request) -> Response:
    viewer = require_firm_admin(request)
    if request.method == "GET":
        return render(request, "firm/new_group.html", {"form": Form()})
    form = await read_form(request, "name")
    try:
        group = firm_access.create_group(db_session(request), firm_id=_firm_id(viewer), actor_user_id=viewer.user_id,
                                         name=form.get("name"))
    except Refused as refused:
        form.error("name", gettext(NAME_ERRORS[refused.reason]))
        return render(request, "firm/new_group.html", {"form": form}, status_code=400)
    return redirect_to(request, "firm_group", group_id=group.id)


async def new_tax_service_group(request: Request) -> Response:
    viewer = require_firm_admin(request)
    db = db_session(request)
    options = [(regime, REGIME_NAMES[regime])
               for regime in firm_access.tax_service_group_regimes(db, _firm_id(viewer))]
    if request.method == "GET":
        return render(request, "firm/new_tax_service_group.html", {"form": Form(), "options": options})
    form = await read_form(request, "regime")
    if form.get("regime") not in dict(options):
        form.error("regime", gettext("Select a tax service"))
        return render(request, "firm/new_tax_service_group.html", {"form": form, "options": options}, status_code=400)
    try:
        group = firm_access.create_tax_service_group(db, firm_id=_firm_id(viewer), actor_user_id=viewer.user_id,
                                                     regime=form.get("regime"),
                                                     name=REGIME_NAMES.english[form.get("regime")])  # stored: English
    except Refused as refused:
        form.error("regime", gettext(NAME_ERRORS[refused.reason]))
        return render(request, "firm/new_tax_service_group.html", {"form": form, "options": options}, status_code=400)
    return redirect_to(request, "firm_group", group_id=group.id)


async def group_page(request: Request) -> Response:
    viewer = require_firm_admin(request)
    group = _group(request, viewer)
    db = db_session(request)
    members = firm_access.group_members(db, group)
    in_group = {person.user_id for person in members}
    candidates = [(str(p.user_id), f"{p.name} ({p.email})") for p in firm_access.firm_members(db, group.firm_id)
                  if p.user_id not in in_group]
    return render(request, "firm/group.html", {
        "group": group, "group_name": group_name(group), "members": members, "candidates": candidates, "form": Form(),
        "regime_name": group_name(group) if group.regime is not None else "",
        "clients": firm_access.count_choice(db, ClientChoice(group.firm_id, group=str(group.id)))})


async def group_members(request: Request) -> Response:
    viewer = require_firm_admin(request)
    group = _group(request, viewer)
    form = await read_form(request, "add", "remove")
    db = db_session(request)
    try:
        if (added := whole_number(form.get("add"), max_digits=ID_DIGITS)) is not None:
            firm_access.add_member(db, group, user_id=added, actor_user_id=viewer.user_id)
        elif (removed := whole_number(form.get("remove"), max_digits=ID_DIGITS)) is not None:
            firm_access.remove_member(db, group, user_id=removed, actor_user_id=viewer.user_id)
    except Refused:
        raise HTTPException(status_code=404) from None  # someone outside the firm: as if they did not exist
    return redirect_to(request, "firm_group", group_id=group.id)


async def delete_group(request: Request) -> Response:
    viewer = require_firm_admin(request)
    group = _group(request, viewer)
    firm_access.delete_group(db_session(request), group, actor_user_id=viewer.user_id)
    return redirect_to(request, "manage_account")


# --- choosing the clients of a group -------------------------------------------------------------------------------


def _selection_key(group_id: int) -> str:
    return f"group_clients_{group_id}"


def _choice_form(values: Any, firm_id: int, groups: list[firm_access.GroupSummary]) -> tuple[Form, ClientChoice]:
    form = Form(values={name: str(values.get(name, "")).strip() for name in ("q", "service", "group")})
    if len(form.get("q")) > MAX_SEARCH_LENGTH:
        form.error("q", gettext("Search must be %(max)s characters or fewer") % {"max": MAX_SEARCH_LENGTH})
    regime = form.get("service") if form.get("service") in REGIME_NAMES else ""
    group_ids = {str(g.id) for g in groups}
    group = form.get("group") if form.get("group") in group_ids | {NO_GROUP} else ""
    form.values |= {"service": regime, "group": group}
    return form, ClientChoice(firm_id, "" if form.errors else form.get("q"), regime, group)


def _group_options(groups: list[firm_access.GroupSummary]) -> list[tuple[str, str]]:
    return ([("", gettext("Any group or none")), (NO_GROUP, gettext("Not in any group"))]
            + [(str(g.id), group_name(g)) for g in groups])


def _regime_options() -> list[tuple[str, str]]:
    """The tax services for the filter, named in the reader's language."""
    return [(regime, gettext(name)) for regime, name in REGIME_NAMES.items()]


def _ids(values: list[Any]) -> set[int]:
    """The client ids a form sent (ticks, or the ones on the page); anything else is left out."""
    numbers = (whole_number(v, max_digits=ID_DIGITS) for v in values if isinstance(v, str))
    return {number for number in numbers if number is not None}


def _filters(choice: ClientChoice) -> dict[str, str]:
    return {"q": choice.text, "service": choice.regime, "group": choice.group}


async def group_clients(request: Request) -> Response:
    viewer = require_firm_admin(request)
    group = _group(request, viewer)
    db = db_session(request)
    groups = firm_access.groups(db, group.firm_id)
    form, choice = _choice_form(request.query_params, group.firm_id, groups)
    total = firm_access.count_choice(db, choice)
    page = pagination.clamp(pagination.page_number(request.query_params.get("page")), size=PAGE_SIZE, total=total)
    rows = firm_access.choice_page(db, choice, limit=page.size, offset=page.offset)
    selected = set(journeys.answers(request, _selection_key(group.id)).get("ids", []))
    return render(request, "firm/group_clients.html", {
        "group": group, "group_name": group_name(group), "form": form, "choice": choice, "rows": rows, "page": page,
        "selected": selected,
        "regime_options": _regime_options(), "group_options": _group_options(groups), "services_label": services_label,
        "added": request.query_params.get("added"), "removed": request.query_params.get("removed"),
        "searching": bool(choice.text or choice.regime or choice.group)})


async def change_group_clients(request: Request) -> Response:
    """One form, many buttons: first this page's ticks go into the selection, then the button pressed acts."""
    viewer = require_firm_admin(request)
    group = _group(request, viewer)
    db = db_session(request)
    data = await request.form(max_files=0, max_fields=200)
    _form, choice = _choice_form(data, group.firm_id, firm_access.groups(db, group.firm_id))
    key = _selection_key(group.id)
    on_page = _ids(data.getlist("shown"))
    ticked = _ids(data.getlist("selected")) & on_page
    selection = (set(journeys.answers(request, key).get("ids", [])) - on_page) | ticked
    selection = set(sorted(selection)[:firm_access.MAX_SELECTION])
    action = str(data.get("action", ""))
    query: dict[str, object] = dict(_filters(choice))
    if action == "add_selected":
        query["added"] = firm_access.add_clients(db, group, actor_user_id=viewer.user_id,
                                                 taxpayer_ids=sorted(selection))
        selection = set()
    elif action == "remove_selected":
        query["removed"] = firm_access.remove_clients(db, group, actor_user_id=viewer.user_id,
                                                      taxpayer_ids=sorted(selection))
        selection = set()
    elif action == "add_all":
        query["added"] = firm_access.add_clients(db, group, actor_user_id=viewer.user_id, matching=choice)
        selection = set()
    elif action == "remove_all":
        query["removed"] = firm_access.remove_clients(db, group, actor_user_id=viewer.user_id, matching=choice)
        selection = set()
    elif action == "clear":
        selection = set()
    else:  # a page button, or the search: keep the ticks and go there
        goto = str(data.get("goto", ""))
        query["page"] = goto if is_whole_number(goto) and goto != "1" else ""
    journeys.save(request, key, ids=sorted(selection))
    return redirect_to(request, "firm_group_clients", group_id=group.id, query=query)


# --- unassigned clients --------------------------------------------------------------------------------------------


async def unassigned_clients(request: Request) -> Response:
    viewer = require_firm_admin(request)
    db = db_session(request)
    firm_id = _firm_id(viewer)
    form, choice = _choice_form(request.query_params, firm_id, [])
    choice = ClientChoice(firm_id, choice.text, choice.regime, NO_GROUP)
    total = firm_access.count_choice(db, choice)
    page = pagination.clamp(pagination.page_number(request.query_params.get("page")), size=PAGE_SIZE, total=total)
    base = path_for(request, "firm_unassigned_clients")

    def href(number: int) -> str:
        return path_for(request, "firm_unassigned_clients", query={"q": choice.text, "service": choice.regime,
                                                                   "page": number if number > 1 else ""})

    return render(request, "firm/unassigned.html", {
        "form": form, "rows": firm_access.choice_page(db, choice, limit=page.size, offset=page.offset),
        "page": page, "page_links": pagination.links(page, href), "href": href, "base": base,
        "regime_options": _regime_options(), "services_label": services_label,
        "searching": bool(choice.text or choice.regime)})


routes = [
    Route("/manage-account", manage_account, name="manage_account"),
    Route("/manage-account/access-groups", switch_access_groups, methods=["POST"], name="firm_access_groups"),
    Route("/manage-account/groups/new", new_group, methods=["GET", "POST"], name="firm_group_new"),
    Route("/manage-account/groups/new-tax-service", new_tax_service_group, methods=["GET", "POST"],
          name="firm_tax_service_group_new"),
    Route("/manage-account/groups/{group_id:id}", group_page, name="firm_group"),
    Route("/manage-account/groups/{group_id:id}/members", group_members, methods=["POST"], name="firm_group_members"),
    Route("/manage-account/groups/{group_id:id}/delete", delete_group, methods=["POST"], name="firm_group_delete"),
    Route("/manage-account/groups/{group_id:id}/clients", group_clients, name="firm_group_clients"),
    Route("/manage-account/groups/{group_id:id}/clients", change_group_clients, methods=["POST"],
          name="firm_group_clients_change"),
    Route("/manage-account/unassigned-clients", unassigned_clients, name="firm_unassigned_clients"),
]
