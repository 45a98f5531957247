"""Access to the API for agents' software: registered applications, the scopes an agent grants them, and the
grants an agent (or their firm's administrator) can see and revoke. The OAuth protocol itself is Authlib's,
wired in portal.api.oauth; this module holds the rules and the rows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, select, update
from sqlmodel import Session, col

from portal.domain import audit
from portal.domain.accounts import token_hash
from portal.domain.api_models import ApiApplication, ApiToken
from portal.domain.models import Membership, User, utcnow
from portal.i18n import N_, gettext

ACCESS_TOKEN_SECONDS = 4 * 60 * 60  # HMRC's: 4 hours
REFRESH_TOKEN_LIFE = timedelta(days=548)  # HMRC's 18 months, then the agent grants access again
CODE_LIFE = timedelta(minutes=10)
MAX_REDIRECT_URIS = 5
MAX_NAME = 80
MAX_URI = 500

# HMRC's scopes, and what each lets software do, in the words the consent page shows (in English in the OpenAPI
# document; translated where a page shows them). Translators: each completes "If you allow it, it will be able to:".
SCOPES: dict[str, str] = {
    "read:sent-invitations": N_("see the authorisation requests your firm has sent in the last 30 days"),
    "write:sent-invitations": N_("ask clients for authorisation in your name"),
    "write:cancel-invitations": N_("cancel authorisation requests your firm has sent"),
    "read:check-relationship": N_("check whether your firm is authorised by a client"),
    "write:relationships": N_("end your firm's authorisation for a client"),
    "read:vat": N_("see your clients' VAT obligations and returns"),
    "write:vat": N_("send VAT returns for your clients"),
}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})


def scopes_in(scope: str) -> list[str]:
    """The known scopes in a space-separated list, in the catalogue's order, without repeats."""
    asked = set(scope.split())
    return [name for name in SCOPES if name in asked]


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered, or None. HTTPS anywhere; plain HTTP only to this computer's
    loopback address, where desktop software listens for the code (RFC 8252 §7.3)."""
    if len(uri) > MAX_URI:
        return gettext("Each redirect URI must be %(max)s characters or fewer") % {"max": MAX_URI}
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  # a port that is not a number raises here
    except ValueError:
        return gettext("Enter each redirect URI as a full address, like https://example.com/callback")
    if parts.fragment or not parts.netloc:
        return gettext("Enter each redirect URI as a full address, like https://example.com/callback")
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and parts.hostname is not None and _is_loopback(parts.hostname):
        return None
    return gettext("Redirect URIs must start with https://, or be http://127.0.0.1 for software on the agent’s "
                   "computer")


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or f"[{host}]" in LOOPBACK_HOSTS


def redirect_uri_matches(registered: list[str], uri: str) -> bool:
    """Exact match; for a loopback address any port, since desktop software listens on whatever port is free."""
    if uri in registered:
        return True
    try:
        asked = urlsplit(uri)
        asked.port  # noqa: B018
    except ValueError:
        return False
    if asked.scheme != "http" or asked.hostname is None or not _is_loopback(asked.hostname):
        return False
    for candidate in registered:
        known = urlsplit(candidate)
        if (known.scheme, known.hostname, known.path, known.query) == ("http", asked.hostname, asked.path,
                                                                       asked.query):
            return True
    return False


def register_application(db: Session, *, owner: User, name: str,
                         redirect_uris: list[str]) -> tuple[ApiApplication, str]:
    """(the application, its secret): the secret is returned here once and only its hash is kept."""
    secret = secrets.token_urlsafe(32)
    application = ApiApplication(client_id=secrets.token_urlsafe(24), client_secret_hash=token_hash(secret),
                                 name=name, redirect_uris=redirect_uris, owner_user_id=owner.id)
    db.add(application)
    db.flush()
    audit.record(db, "api_application_registered", authority="self", actor_user_id=owner.id,
                 application=name, application_id=application.id)
    return application, secret


def applications_of(db: Session, user_id: int) -> list[ApiApplication]:
    return list(db.execute(select(ApiApplication).where(col(ApiApplication.owner_user_id) == user_id)
                           .order_by(col(ApiApplication.created_at))).scalars())


@dataclass(frozen=True)
class Connection:
    """An application an agent has granted access, while any of its refresh tokens lives."""

    application_id: int
    application_name: str
    user_id: int
    user_name: str
    scopes: list[str]
    granted_at: datetime


def _live(now: datetime) -> list[ColumnElement[bool]]:
    return [col(ApiToken.refresh_revoked_at).is_(None), col(ApiToken.refresh_expires_at) > now]


def connections(db: Session, *, user_id: int | None = None, firm_id: int | None = None) -> list[Connection]:
    """One agent's connected applications, or (firm_id) every agent's in the firm, for its administrator."""
    now = utcnow()
    query = (select(col(ApiToken.application_id), col(ApiApplication.name), col(ApiToken.user_id), col(User.name),
                    func.min(col(ApiToken.issued_at)), func.max(col(ApiToken.scope)))
             .join(ApiApplication, col(ApiApplication.id) == ApiToken.application_id)
             .join(User, col(User.id) == ApiToken.user_id)
             .where(*_live(now)))
    if user_id is not None:
        query = query.where(col(ApiToken.user_id) == user_id)
    if firm_id is not None:
        query = query.join(Membership, col(Membership.user_id) == ApiToken.user_id).where(
            col(Membership.firm_id) == firm_id)
    rows = db.execute(query.group_by(col(ApiToken.application_id), col(ApiApplication.name), col(ApiToken.user_id),
                                     col(User.name)).order_by(col(ApiApplication.name), col(User.name))).all()
    return [Connection(app_id, app_name, uid, uname, scopes_in(scope or ""), granted)
            for app_id, app_name, uid, uname, granted, scope in rows]


def revoke_connection(db: Session, *, application_id: int, user_id: int, actor_user_id: int,
                      firm_id: int | None) -> bool:
    """Ends every token the application holds for the agent, at once. False if there was nothing to end."""
    now = utcnow()
    live = db.execute(select(col(ApiToken.id)).where(col(ApiToken.application_id) == application_id,
                                                     col(ApiToken.user_id) == user_id, *_live(now))).first()
    if live is None:
        return False
    db.execute(update(ApiToken).where(col(ApiToken.application_id) == application_id,
                                      col(ApiToken.user_id) == user_id)
               .values(access_revoked_at=func.coalesce(col(ApiToken.access_revoked_at), now),
                       refresh_revoked_at=func.coalesce(col(ApiToken.refresh_revoked_at), now))
               .execution_options(synchronize_session=False))
    application = db.get(ApiApplication, application_id)
    audit.record(db, "api_access_revoked", authority="agent" if firm_id else "self", actor_user_id=actor_user_id,
                 firm_id=firm_id, application=application.name if application else "", agent_user_id=user_id)
    return True
