"""Manage account: a firm's administrators manage its access groups (groups.py). Every page here is for
administrators only (`require_firm_admin`); anyone else gets the same 404 as a page that does not exist."""

from portal.areas.firm import groups

routes = [*groups.routes]
