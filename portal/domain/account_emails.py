"""Every email the sign-in and security pages send, one function each.

This is the seam to the email outbox (portal.domain.outbox, the email issue): each function below says who
gets what; `_deliver` hands it over. Until the outbox lands, `_deliver` keeps the message in SENT, in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from portal.domain.models import User
from portal.i18n import gettext as _


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


SENT: list[Email] = []  # TEMPORARY: replaced by the outbox when the email branch is merged


def _deliver(db: Session, to: str, subject: str, body: str) -> None:
    SENT.append(Email(to, subject, body))


def sign_up_confirmation(db: Session, *, to: str, name: str, link: str) -> None:
    _deliver(db, to, _("Confirm your email address"),
             _("Hello {name},\n\nTo finish creating your sign-in details, follow this link within 24 hours:\n\n"
               "{link}\n\nIf you did not try to create sign-in details, you can ignore this email.")
             .format(name=name, link=link))


def sign_up_with_existing_address(db: Session, *, user: User, sign_in_link: str, reset_link: str) -> None:
    _deliver(db, user.email, _("Someone tried to create sign-in details with your email address"),
             _("Hello {name},\n\nSomeone tried to create sign-in details with this email address, which already "
               "has them. If it was you, sign in:\n\n{sign_in}\n\nIf you have forgotten your password, reset it:"
               "\n\n{reset}\n\nIf it was not you, you do not need to do anything.")
             .format(name=user.name, sign_in=sign_in_link, reset=reset_link))


def confirm_email(db: Session, *, user: User, link: str) -> None:
    _deliver(db, user.email, _("Confirm your email address"),
             _("Hello {name},\n\nTo confirm this is your email address, follow this link within 10 minutes:\n\n"
               "{link}").format(name=user.name, link=link))


def password_reset(db: Session, *, user: User, link: str) -> None:
    _deliver(db, user.email, _("Reset your password"),
             _("Hello {name},\n\nTo reset your password, follow this link within 10 minutes. It works once.\n\n"
               "{link}\n\nIf you did not ask to reset your password, you do not need to do anything: your "
               "password has not changed.").format(name=user.name, link=link))


def sign_in_link(db: Session, *, user: User, link: str) -> None:
    _deliver(db, user.email, _("Finish signing in"),
             _("Hello {name},\n\nThere have been too many attempts to sign in with your email address, so we "
               "need to check it is you. To finish signing in, follow this link within 10 minutes:\n\n{link}\n\n"
               "If this was not you, someone may know your password: reset it.").format(name=user.name, link=link))


def security_changed(db: Session, *, user: User, what: str) -> None:
    """`what` is an already translated sentence saying what changed."""
    _deliver(db, user.email, _("Your sign-in details have changed"),
             _("Hello {name},\n\n{what}\n\nIf you did not make this change, reset your password and contact "
               "your firm's administrator or us straight away.").format(name=user.name, what=what))


def two_step_reset_by_admin(db: Session, *, user: User, admin_name: str) -> None:
    _deliver(db, user.email, _("Your 2-step verification has been reset"),
             _("Hello {name},\n\n{admin} reset your 2-step verification. The next time you sign in, you will set "
               "it up again.\n\nIf you did not expect this, contact {admin}.")
             .format(name=user.name, admin=admin_name))
