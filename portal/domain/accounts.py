"""People who sign in: how passwords are hashed, and the limits on what they type."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher

from portal.settings import Settings

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


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
