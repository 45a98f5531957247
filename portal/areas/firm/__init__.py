"""Manage account: a firm's administrators manage its access groups (groups.py) and its team (team.py). Every
page under /manage-account is for administrators only (`require_firm_admin`); anyone else gets the same 404 as
a page that does not exist."""

from portal.areas.firm import groups, team

routes = [*groups.routes, *team.routes]
