"""Every email the sign-in and security pages send, one function each, recorded in the outbox
(portal.domain.outbox) in the caller's transaction, like portal.domain.notifications.

Links are paths: the renderer joins them to the configured base URL, never to the Host a request named (so a
forged Host header cannot point a reset link elsewhere). A link that works like a password goes in
`secret_path`, which the outbox wipes once the email is delivered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal import i18n
from portal.domain import email_links, outbox
from portal.domain.models import User


def _to_user(db: Session, user: User, kind: str, **context: Any) -> None:
    outbox.enqueue(db, kind=kind, to=user.email, language=i18n.supported(user.language) or i18n.DEFAULT_LANGUAGE,
                   context={**context, "recipient_name": user.name})


def sign_up_confirmation(db: Session, *, to: str, name: str, path: str) -> None:
    """No account yet: the email goes in the language the person was using when they signed up."""
    outbox.enqueue(db, kind="sign_up_confirm", to=to, language=i18n.current_language(),
                   context={"recipient_name": name, "secret_path": path})


def sign_up_with_existing_address(db: Session, *, user: User) -> None:
    _to_user(db, user, "sign_up_existing", sign_in_path=email_links.link("sign_in"),
             reset_path=email_links.link("password_reset_request"))


def firm_contact_confirmation(db: Session, *, to: str, firm_name: str, asked_by: str, path: str) -> None:
    """To an address a firm's administrator wants as the firm's contact: in its owner's language if it has an
    account, else in the language of the administrator who asked."""
    owner = db.execute(select(User).where(col(User.email) == to)).scalar_one_or_none()
    language = (i18n.supported(owner.language) if owner else None) or i18n.current_language()
    outbox.enqueue(db, kind="firm_contact_confirm", to=to, language=language,
                   context={"firm_name": firm_name, "asked_by": asked_by, "secret_path": path})


def confirm_email(db: Session, *, user: User, path: str) -> None:
    _to_user(db, user, "confirm_email", secret_path=path)


def password_reset(db: Session, *, user: User, path: str) -> None:
    _to_user(db, user, "password_reset", secret_path=path)


def sign_in_link(db: Session, *, user: User, path: str) -> None:
    _to_user(db, user, "sign_in_link", secret_path=path, reset_path=email_links.link("password_reset_request"))


# What changed, as a code the template turns into a sentence in the recipient's language.
PASSWORD_CHANGED = "password-changed"
PASSWORD_RESET = "password-reset"
APP_ADDED = "app-added"
PASSKEY_ADDED = "passkey-added"
METHOD_REMOVED = "method-removed"
CODES_REPLACED = "codes-replaced"
RECOVERY_CODE_USED = "recovery-code-used"
OTHERS_SIGNED_OUT = "others-signed-out"


def security_changed(db: Session, *, user: User, what: str, **details: Any) -> None:
    _to_user(db, user, "security_changed", what=what, security_path=email_links.link("security"),
             reset_path=email_links.link("password_reset_request"), **details)


def two_step_reset_by_admin(db: Session, *, user: User, admin_name: str) -> None:
    _to_user(db, user, "two_step_reset", admin_name=admin_name, sign_in_path=email_links.link("sign_in"))
