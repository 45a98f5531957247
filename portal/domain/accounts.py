"""People who sign in: passwords, the limits on what they type, the links emailed to them, and the sign-in
limits that slow an attacker without handing them a way to lock the real owner out (shared/accounts.md §5)."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlmodel import Session, col

from portal.domain import ratelimits
from portal.domain.account_models import EmailToken
from portal.domain.models import User, UserSession, utcnow
from portal.domain.sql import rowcount
from portal.domain.times import aware
from portal.i18n import N_
from portal.settings import Settings

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

SIGN_UP = "sign-up"
CONFIRM_EMAIL = "confirm-email"
PASSWORD_RESET = "password-reset"
SIGN_IN_LINK = "sign-in"
FIRM_CONTACT = "firm-contact"  # an address to become a firm's contact: portal.domain.firms


def password_hasher(settings: Settings) -> PasswordHasher:
    if settings.environment == "test":
        # Tests sign in hundreds of times; the production cost (~180 ms a hash here) would dominate them.
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(settings: Settings, password: str) -> str:
    return password_hasher(settings).hash(password)


def token_hash(token: str) -> str:
    """What is stored of a random token handed to someone (a session cookie, an invitation link): never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(db: Session, email: str) -> User | None:
    return db.execute(select(User).where(col(User.email) == email.strip().lower())).scalar_one_or_none()


class PasswordChecker:
    """Checks a password with the same hashing work whether or not the account exists, so the time taken
    says nothing about which addresses have accounts (ASVS 5.0 6.3.8)."""

    def __init__(self, settings: Settings) -> None:
        self.hasher = password_hasher(settings)
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def check(self, user: User | None, password: str) -> bool:
        try:
            self.hasher.verify(user.password_hash if user else self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return user is not None

    def waste_time(self, password: str) -> None:
        """The cost of one hash, spent where the other path spends it (sign-up with a taken address)."""
        self.check(None, password)


def email_confirmed(db: Session, user_id: int) -> bool:
    """Only a confirmed address may receive a trusted helper's invitation or join a firm (issue 12)."""
    user = db.get(User, user_id)
    return user is not None and user.email_confirmed_at is not None


# The English message ids password_problem returns. The lengths are written into the words (a message id must be
# a fixed string to be found in the catalogue); the asserts keep them in step with the limits above.
NO_PASSWORD = N_("Enter a password")
PASSWORD_TOO_SHORT = N_("Password must be 12 characters or more")
PASSWORD_TOO_LONG = N_("Password must be 128 characters or fewer")
COMMON_PASSWORD = N_("Enter a stronger password. Do not use very common passwords, such as ‘password’ or a sequence "
                     "of numbers")
GUESSABLE_PASSWORD = N_("Enter a stronger password. Do not make it only of your name, your email address or the "
                        "name of this service")
assert str(MIN_PASSWORD_LENGTH) in PASSWORD_TOO_SHORT and str(MAX_PASSWORD_LENGTH) in PASSWORD_TOO_LONG

# The most common passwords long enough to meet our policy (ASVS 5.0 6.2.4): every password of 12 to 128 characters
# among the million most used in SecLists' xato-net list, lower-cased, most used first (43,940 of them). Source and
# licence: data/common-passwords-LICENSE.txt.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"

# Words someone guessing a password for this service would try first (ASVS 5.0 6.1.2, 6.2.11), lower-case letters
# only: a password made of nothing but these (and the person's own name and address), whatever the digits,
# spaces and symbols between them, is refused. "HMRC-agent-2026!" is; "hmrc tax agent in leeds since 1998" is not.
CONTEXT_WORDS: frozenset[str] = frozenset({
    "agent", "agents", "online", "self", "serve", "service", "services", "selfserve", "portal", "account", "accounts",
    "hmrc", "revenue", "customs", "tax", "taxes", "vat", "income", "assessment", "making", "digital", "mtd", "gateway",
    "government", "gov", "uk", "password", "passwords", "cyfrinair", "login", "signin", "sign", "in", "welcome",
    "admin", "administrator", "secret", "letmein", "qwerty",
})


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip())


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()


def _words_of(text: str) -> set[str]:
    return {word for word in re.split(r"[^a-z]+", text.lower()) if len(word) >= 3}


def _only_words(letters: str, words: set[str]) -> bool:
    """Whether `letters` is nothing but words of `words` run together ("hmrcagentpassword")."""
    ends = [True] + [False] * len(letters)  # ends[i]: letters[:i] splits into words
    for i in range(1, len(letters) + 1):
        ends[i] = any(ends[i - len(word)] and letters.startswith(word, i - len(word))
                      for word in words if len(word) <= i)
    return ends[-1]


def password_problem(password: str, *, about: Iterable[str] = ()) -> str | None:
    """The English message id for what is wrong with a new password, or None: the one rule for sign-up, reset and
    change. `about` is what the service knows of the person (their name, their email address): a password made
    only of that is refused too. Callers translate it (`gettext(problem)`), where it is shown."""
    if not password:
        return NO_PASSWORD
    if len(password) < MIN_PASSWORD_LENGTH:
        return PASSWORD_TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return PASSWORD_TOO_LONG
    if is_common_password(password):
        return COMMON_PASSWORD
    letters = re.sub(r"[^a-z]", "", password.lower())
    personal = set().union(*(_words_of(text) for text in about)) if about else set()
    if letters and _only_words(letters, set(CONTEXT_WORDS) | personal):
        return GUESSABLE_PASSWORD
    return None


# --- emailed links -----------------------------------------------------------------------------------------------


def new_email_token(db: Session, *, purpose: str, email: str, lifetime: timedelta, user_id: int | None = None,
                    payload: dict[str, Any] | None = None) -> str:
    """A fresh link token (returned once, for the email); any earlier unused link for the same purpose and
    address stops working, so only the newest email's link does."""
    now = utcnow()
    db.execute(update(EmailToken).where(col(EmailToken.purpose) == purpose, col(EmailToken.email) == email,
                                        col(EmailToken.used_at).is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.add(EmailToken(purpose=purpose, token_hash=token_hash(token), email=email, user_id=user_id,
                      payload=payload or {}, created_at=now, expires_at=now + lifetime))
    db.flush()
    return token


def peek_email_token(db: Session, purpose: str, token: str) -> EmailToken | None:
    """The link's record if it is unused and unexpired, without using it up (for the page a link opens)."""
    record: EmailToken | None = db.execute(select(EmailToken).where(col(EmailToken.token_hash) == token_hash(token),
                                                 col(EmailToken.purpose) == purpose)).scalar_one_or_none()
    if record is None or record.used_at is not None or aware(record.expires_at) <= utcnow():
        return None
    return record


def use_email_token(db: Session, purpose: str, token: str) -> EmailToken | None:
    """Use the link up: a conditional update, so a link followed twice at once works only once."""
    record = peek_email_token(db, purpose, token)
    if record is None:
        return None
    used = db.execute(update(EmailToken).where(col(EmailToken.id) == record.id, col(EmailToken.used_at).is_(None))
                      .values(used_at=utcnow()))
    return record if rowcount(used) == 1 else None


def email_requests_allowed(db: Session, settings: Settings, purpose: str, email: str) -> bool:
    """Counts requests for reset and sign-in links per address: past the limit, no more email is sent (the page
    says the same either way, so the limit tells nobody whether the address has an account)."""
    key = ratelimits.limit_key(f"email-{purpose}", email.lower())
    window = timedelta(seconds=settings.email_requests_window_seconds)
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=settings.email_requests_allowed, window=window, now=now):
        return False
    ratelimits.record_attempt(db, key=key, window=window, now=now)
    return True


# --- sessions ----------------------------------------------------------------------------------------------------


def end_session(db: Session, session_id: int) -> None:
    db.execute(update(UserSession).where(col(UserSession.id) == session_id, col(UserSession.ended_at).is_(None))
               .values(ended_at=utcnow(), journeys={}))


def end_sessions(db: Session, user_id: int, *, except_session_id: int | None = None) -> int:
    """End the person's sessions on the server (password changed or reset, 2-step reset, "sign out of all
    others"); their half-finished answers go with them."""
    query = update(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
    if except_session_id is not None:
        query = query.where(col(UserSession.id) != except_session_id)
    result = db.execute(query.values(ended_at=utcnow(), journeys={}))
    return rowcount(result)


def end_every_session(db: Session) -> int:
    """Everyone signs in again (an operator's last resort, ASVS 5.0 7.4.5)."""
    return rowcount(db.execute(update(UserSession).where(col(UserSession.ended_at).is_(None))
                               .values(ended_at=utcnow(), journeys={})))


def open_sessions(db: Session, user_id: int, idle: timedelta) -> list[UserSession]:
    now = utcnow()
    query = (select(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None),
                                       col(UserSession.second_step_done))
             .order_by(col(UserSession.last_seen_at).desc()))
    return [s for s in db.execute(query).scalars() if now - aware(s.last_seen_at) <= idle]


def end_oldest_sessions(db: Session, user_id: int, *, allowed: int, idle: timedelta) -> list[int]:
    """Keeps a person's signed-in sessions (both steps passed, still live) to `allowed`: those signed in longest ago
    end first (ASVS 5.0 7.1.2). Returns the ids it ended."""
    live = sorted(open_sessions(db, user_id, idle), key=lambda s: (aware(s.created_at), s.id), reverse=True)
    ended = [s.id for s in live[allowed:]]
    for session_id in ended:
        end_session(db, session_id)
    return ended


def change_password(db: Session, settings: Settings, user: User, new_password: str, *,
                    keep_session_id: int | None) -> None:
    user.password_hash = hash_password(settings, new_password)
    db.add(user)
    end_sessions(db, user.id, except_session_id=keep_session_id)
    # Reset links sent before the change must not undo it.
    db.execute(update(EmailToken).where(col(EmailToken.user_id) == user.id, col(EmailToken.used_at).is_(None))
               .values(used_at=utcnow()))


# --- sign-in limits ------------------------------------------------------------------------------------------------


class SignInOutcome(Enum):
    SIGNED_IN = "signed-in"  # the password is right: on to the second step (or in, for those without one)
    WRONG = "wrong"  # wrong email or password: one message for both
    ACCOUNT_LOCKED = "account-locked"  # too many wrong passwords for this address: only an emailed link now
    SOURCE_LOCKED = "source-locked"  # too many wrong passwords from this place: wait


@dataclass(frozen=True)
class SignInResult:
    outcome: SignInOutcome
    user: User | None = None
    # Locked, yet the password was right: the caller emails a link that finishes signing in. Never shown.
    send_link: bool = False


def _account_key(email: str) -> str:
    return ratelimits.limit_key("sign-in", email.lower())


def _source_key(source: str) -> str:
    return ratelimits.limit_key("sign-in-source", source)


def attempt_sign_in(db: Session, settings: Settings, checker: PasswordChecker, *, email: str, password: str,
                    source: str) -> SignInResult:
    """One sign-in attempt, counted per address and per source (the client's IP address).

    - From one source, more than `sign_in_source_attempts_allowed` wrong passwords in the window: every
      attempt from there waits (password spraying, one password across many addresses, is slowed).
    - For one address, past `sign_in_attempts_allowed` wrong passwords: the password alone no longer signs in,
      from anywhere; if it is right, the owner is emailed a link that finishes signing in. An attacker who
      knows the address cannot lock its owner out, and learns nothing from a right guess (the page is the
      same for right and wrong). The owner still passes their second step after the link.
    Every path verifies one password hash, so the time taken tells nothing.
    """
    now = utcnow()
    email = email.strip().lower()
    source_window = timedelta(seconds=settings.sign_in_source_window_seconds)
    account_window = timedelta(seconds=settings.sign_in_window_seconds)
    user = find_user(db, email)
    right = checker.check(user, password)
    if ratelimits.is_limited(db, key=_source_key(source), limit=settings.sign_in_source_attempts_allowed,
                             window=source_window, now=now):
        return SignInResult(SignInOutcome.SOURCE_LOCKED)
    if ratelimits.is_limited(db, key=_account_key(email), limit=settings.sign_in_attempts_allowed,
                             window=account_window, now=now):
        if not right:
            ratelimits.record_attempt(db, key=_source_key(source), window=source_window, now=now)
        return SignInResult(SignInOutcome.ACCOUNT_LOCKED, user if right else None, send_link=right)
    if not right:
        ratelimits.record_attempt(db, key=_account_key(email), window=account_window, now=now)
        ratelimits.record_attempt(db, key=_source_key(source), window=source_window, now=now)
        return SignInResult(SignInOutcome.WRONG)
    return SignInResult(SignInOutcome.SIGNED_IN, user)


def clear_sign_in_failures(db: Session, email: str) -> None:
    """Once the owner is fully in (second step passed, or an emailed link followed), their count starts again."""
    ratelimits.clear_attempts(db, key=_account_key(email))
