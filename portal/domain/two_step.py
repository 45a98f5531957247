"""2-step verification: authenticator apps (TOTP, RFC 6238), recovery codes, and who must have it.

Passkeys live in portal.domain.passkeys; this module counts them as methods like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, exists, func, select, update
from sqlmodel import Session, col

from portal.domain import ratelimits
from portal.domain.account_models import RecoveryCode, SecondFactor
from portal.domain.models import Membership, User, utcnow
from portal.domain.sql import rowcount
from portal.i18n import gettext
from portal.settings import Settings

TOTP = "totp"
PASSKEY = "passkey"
TOTP_DIGITS = 6
TOTP_STEP = 30
TOTP_DRIFT_STEPS = 1  # a code from one step either side is accepted: phones' clocks drift
RECOVERY_CODES = 10
# No 0/O or 1/I/L: a code read off paper is typed right first time. 12 characters of 31: about 59 bits.
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECOVERY_LENGTH = 12
# The service's name as the authenticator app lists it: stored in the person's app at set-up, so one name in
# either language (a proper name), never translated.
ISSUER = "Agent Online Self-Serve"  # i18n: the name an authenticator stores, in one language


# --- who needs it ------------------------------------------------------------------------------------------------


def is_firm_member(db: Session, user_id: int) -> bool:
    return bool(db.execute(select(exists().where(col(Membership.user_id) == user_id))).scalar())


def methods(db: Session, user_id: int) -> list[SecondFactor]:
    query = select(SecondFactor).where(col(SecondFactor.user_id) == user_id).order_by(col(SecondFactor.id))
    return list(db.execute(query).scalars())


def has_methods(db: Session, user_id: int) -> bool:
    return bool(db.execute(select(exists().where(col(SecondFactor.user_id) == user_id))).scalar())


def required(db: Session, user_id: int) -> bool:
    """Every member of an agent firm must have the second step (HMRC, from autumn 2026); others may."""
    return is_firm_member(db, user_id)


# --- authenticator apps ------------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP).provisioning_uri(name=email,
                                                                                       issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """An inline SVG drawn on the server: no script, no request to anyone else, and it scales without blur. Its
    title, read out by screen readers, is in the language of the moment."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#0b0c0c", light="#ffffff",
                                                       title=gettext("QR code for your authenticator app"))
    return svg


def grouped(secret: str) -> str:
    """The secret key in fours, as authenticator apps show it, so it can be typed in without losing one's place."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(typed: str) -> str:
    return "".join(typed.split()).replace("-", "")


def is_code_shaped(typed: str) -> bool:
    code = normalise_code(typed)
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def totp_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step the code belongs to (within the drift allowed), or None if it matches none."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    now = time.time() if at is None else at
    current = int(now // TOTP_STEP)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def add_totp(db: Session, user_id: int, secret: str, code: str) -> SecondFactor | None:
    """Enrol an authenticator app once it has shown it holds the secret (a code it made); None if wrong."""
    step = totp_step(secret, normalise_code(code)) if is_code_shaped(code) else None
    if step is None:
        return None
    # The label is stored for people reading the database; pages name a method by its kind, in their language.
    factor = SecondFactor(user_id=user_id, kind=TOTP, label="Authenticator app",  # i18n: stored, never shown
                          secret=secret, counter=step, last_used_at=utcnow())
    db.add(factor)
    db.flush()
    return factor


def check_totp(db: Session, user_id: int, code: str) -> bool:
    """A code from any of the person's authenticator apps, each time step accepted once (no replay)."""
    if not is_code_shaped(code):
        return False
    code = normalise_code(code)
    for factor in methods(db, user_id):
        if factor.kind != TOTP:
            continue
        step = totp_step(factor.secret, code)
        if step is None or step <= factor.counter:
            continue
        # A conditional update: two requests racing with one code cannot both succeed.
        claimed = db.execute(update(SecondFactor).where(col(SecondFactor.id) == factor.id,
                                                        col(SecondFactor.counter) < step)
                             .values(counter=step, last_used_at=utcnow()))
        if rowcount(claimed) == 1:
            return True
    return False


# --- recovery codes ----------------------------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    # The codes are random and long, so a fast hash is enough: nothing to gain by guessing from a dictionary.
    return hashlib.sha256(normalise_code(code).upper().encode()).hexdigest()


def new_recovery_codes(db: Session, user_id: int) -> list[str]:
    """Ten fresh codes replace any left; the caller shows them once and never again."""
    db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.add(RecoveryCode(user_id=user_id, code_hash=_code_hash(code)))
    db.flush()
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def recovery_codes_left(db: Session, user_id: int) -> int:
    query = select(func.count()).select_from(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                                                 col(RecoveryCode.used_at).is_(None))
    return int(db.execute(query).scalar_one())


def use_recovery_code(db: Session, user_id: int, typed: str) -> bool:
    code = normalise_code(typed).upper()
    if len(code) != RECOVERY_LENGTH:
        return False
    used = db.execute(update(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                                 col(RecoveryCode.code_hash) == _code_hash(code),
                                                 col(RecoveryCode.used_at).is_(None)).values(used_at=utcnow()))
    return rowcount(used) == 1


# --- removing and resetting --------------------------------------------------------------------------------------


def remove_method(db: Session, user_id: int, factor_id: int) -> bool:
    result = db.execute(delete(SecondFactor).where(col(SecondFactor.id) == factor_id,
                                                   col(SecondFactor.user_id) == user_id))
    if not has_methods(db, user_id):  # recovery codes mean nothing without a method to recover
        db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    return rowcount(result) == 1


def reset(db: Session, user_id: int) -> None:
    """Forget every method and recovery code: the person sets the second step up again at their next sign-in."""
    db.execute(delete(SecondFactor).where(col(SecondFactor.user_id) == user_id))
    db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))


# --- limits ------------------------------------------------------------------------------------------------------


def _code_key(user_id: int) -> str:
    return ratelimits.limit_key("second-step", str(user_id))


def codes_locked(db: Session, settings: Settings, user_id: int, now: datetime) -> bool:
    window = timedelta(seconds=settings.two_step_window_seconds)
    return ratelimits.is_limited(db, key=_code_key(user_id), limit=settings.two_step_attempts_allowed,
                                 window=window, now=now)


def record_wrong_code(db: Session, settings: Settings, user_id: int, now: datetime) -> None:
    ratelimits.record_attempt(db, key=_code_key(user_id), window=timedelta(seconds=settings.two_step_window_seconds),
                              now=now)


def clear_wrong_codes(db: Session, user_id: int) -> None:
    ratelimits.clear_attempts(db, key=_code_key(user_id))


@dataclass(frozen=True)
class MethodsChange:
    """Whether the person may change how they get codes now, and if not, from when (One Login's 48 hours)."""

    allowed: bool
    from_time: datetime | None = None


def may_change_methods(db: Session, settings: Settings, user: User, now: datetime) -> MethodsChange:
    if user.password_reset_at is None or not has_methods(db, user.id):
        return MethodsChange(True)  # nothing set up yet: setting up is not changing
    reset_at = user.password_reset_at
    if reset_at.tzinfo is None:  # SQLite gives back UTC without its offset
        reset_at = reset_at.replace(tzinfo=UTC)
    until = reset_at + timedelta(seconds=settings.methods_change_wait_seconds)
    return MethodsChange(now >= until, None if now >= until else until)
