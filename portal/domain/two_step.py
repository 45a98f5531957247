"""2-step verification: authenticator apps (TOTP, RFC 6238), recovery codes, and who must have it.

Passkeys live in portal.domain.passkeys; this module counts them as methods like any other. An authenticator app's
shared key is kept sealed (portal.domain.sealing), and recovery codes only as salted Argon2id hashes
(ASVS 5.0 6.5.2: lookup secrets of under 112 bits need a password hash with a salt).
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
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, func, select, update
from sqlmodel import Session, col

from portal.domain import ratelimits, sealing
from portal.domain.account_models import RecoveryCode, SecondFactor
from portal.domain.models import Membership, User, utcnow
from portal.domain.numbers import is_whole_number
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
    return len(code) == TOTP_DIGITS and is_whole_number(code)


def totp_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step the code belongs to (within the drift allowed), or None if it matches none."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    now = time.time() if at is None else at
    current = int(now // TOTP_STEP)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


TOTP_KEY_PURPOSE = "authenticator app keys"


def _bound_to(user_id: int) -> str:
    return f"second_factor:{user_id}"  # a sealed key opens only on its own person's row


def seal_totp_secret(settings: Settings, user_id: int, secret: str) -> str:
    return sealing.seal(sealing.data_key(settings.secret_key, TOTP_KEY_PURPOSE), secret, bound_to=_bound_to(user_id))


def totp_secret_of(settings: Settings, factor: SecondFactor) -> str | None:
    """The authenticator app's shared key, unsealed; None if it does not open (the secret key has changed)."""
    try:
        return sealing.unseal(sealing.data_key(settings.secret_key, TOTP_KEY_PURPOSE), factor.secret,
                              bound_to=_bound_to(factor.user_id))
    except sealing.Unsealable:
        return None


def enrol_totp(db: Session, settings: Settings, user_id: int, secret: str, *, counter: int = 0) -> SecondFactor:
    """Store an authenticator app's key, sealed. Also how demo data and tests give someone an app."""
    # The label is stored for people reading the database; pages name a method by its kind, in their language.
    factor = SecondFactor(user_id=user_id, kind=TOTP, label="Authenticator app",  # i18n: stored, never shown
                          secret=seal_totp_secret(settings, user_id, secret), counter=counter,
                          last_used_at=utcnow() if counter else None)
    db.add(factor)
    db.flush()
    return factor


def add_totp(db: Session, settings: Settings, user_id: int, secret: str, code: str) -> SecondFactor | None:
    """Enrol an authenticator app once it has shown it holds the secret (a code it made); None if wrong."""
    step = totp_step(secret, normalise_code(code)) if is_code_shaped(code) else None
    if step is None:
        return None
    return enrol_totp(db, settings, user_id, secret, counter=step)


def check_totp(db: Session, settings: Settings, user_id: int, code: str) -> bool:
    """A code from any of the person's authenticator apps, each time step accepted once (no replay)."""
    if not is_code_shaped(code):
        return False
    code = normalise_code(code)
    for factor in methods(db, user_id):
        secret = totp_secret_of(settings, factor) if factor.kind == TOTP else None
        if secret is None:
            continue
        step = totp_step(secret, code)
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


def prehash(code: str) -> str:
    """A code's SHA-256, what the Argon2id hash is made from. Codes stored before they were salted (migration
    0012) were kept as exactly this, so wrapping those in Argon2id needed no code."""
    return hashlib.sha256(normalise_code(code).upper().encode()).hexdigest()


def recovery_hasher(settings: Settings) -> PasswordHasher:
    """Argon2id with a random 128-bit salt per code: about 59 bits a code is short of ASVS 5.0 6.5.2's 112, so a
    plain hash would not do. OWASP's lightest Argon2id settings (19 MiB, 2 passes), since a person's 10 codes may
    all be tried against one typed code; tests use less."""
    if settings.environment == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_recovery_codes(db: Session, settings: Settings, user_id: int) -> list[str]:
    """Ten fresh codes replace any left; the caller shows them once and never again."""
    db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    hasher = recovery_hasher(settings)
    for code in codes:
        db.add(RecoveryCode(user_id=user_id, code_hash=hasher.hash(prehash(code))))
    db.flush()
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def recovery_codes_left(db: Session, user_id: int) -> int:
    query = select(func.count()).select_from(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                                                 col(RecoveryCode.used_at).is_(None))
    return int(db.execute(query).scalar_one())


def use_recovery_code(db: Session, settings: Settings, user_id: int, typed: str) -> bool:
    code = normalise_code(typed).upper()
    if len(code) != RECOVERY_LENGTH:
        return False
    hasher, wanted = recovery_hasher(settings), prehash(code)
    unused = db.execute(select(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                                   col(RecoveryCode.used_at).is_(None))
                        .order_by(col(RecoveryCode.id))).scalars().all()
    for row in unused:
        try:
            hasher.verify(row.code_hash, wanted)
        except (VerificationError, InvalidHashError):
            continue
        # A conditional update: the same code typed twice at once works once.
        used = db.execute(update(RecoveryCode).where(col(RecoveryCode.id) == row.id,
                                                     col(RecoveryCode.used_at).is_(None)).values(used_at=utcnow()))
        return rowcount(used) == 1
    return False


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
