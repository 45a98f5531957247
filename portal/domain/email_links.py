"""The portal's pages that emails link to, by route name.

Emails are written by domain code, which does not know the web's routing table (pages build their links with
`portal.web.links.path_for`). So each route an email links to is named here with its path: the one copy, which
tests/test_email_links.py proves is exactly that route's path, so a moved or renamed page fails a test rather than
sending people to a 404."""

from __future__ import annotations

PATHS = {
    "sign_in": "/sign-in",
    "password_reset_request": "/password-reset",
    "security": "/account/security",
    "track_requests": "/authorisation-requests",
    "manage_tax_agents": "/manage-your-tax-agents",
    "authorisation_consent": "/authorisation-response/{request_id}/consent",
    "client_overview": "/clients/{client_id}",
    "client_details": "/clients/{client_id}/details",
    "client_activity": "/clients/{client_id}/activity",
    "trusted_helpers": "/trusted-helpers",
    "helper_accept": "/trusted-helpers/accept/{token}",
    "helping": "/helping",
    "join_firm": "/join/{token}",
}


def link(name: str, **params: object) -> str:
    """The path of route `name` with its parameters filled in (relative: the outbox adds the portal's address)."""
    return PATHS[name].format(**params)
