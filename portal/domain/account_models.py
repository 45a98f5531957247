"""The tables behind signing in safely (issue 12): second-step methods, recovery codes and emailed links.
Kept beside portal.domain.models (which the migrations and the app import this through, see its last line)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

from portal.domain.models import utcnow


class SecondFactor(SQLModel, table=True):
    """A way to prove the second step: an authenticator app (TOTP) or a passkey or security key (WebAuthn)."""

    __tablename__ = "second_factor"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=10)  # "totp" or "passkey"
    label: str = Field(default="", max_length=80)
    # TOTP: the base32 shared secret, sealed (two_step.enrol_totp). Passkey: the credential's public key (COSE,
    # base64url), which is public.
    secret: str = Field(max_length=1000)
    credential_id: str | None = Field(default=None, max_length=1400, unique=True)  # passkeys, base64url
    # TOTP: the last time step accepted, so a code is good once (RFC 6238 §5.2). Passkey: the signature counter.
    counter: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class RecoveryCode(SQLModel, table=True):
    """One of ten single-use codes, shown once; only a salted Argon2id hash of it is kept (two_step.prehash)."""

    __tablename__ = "recovery_code"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=200)
    used_at: datetime | None = None


class EmailToken(SQLModel, table=True):
    """A link sent by email: confirm a new sign-up, reset a forgotten password, or finish a locked sign-in.
    Single use, short-lived, and only a hash of its token is stored."""

    __tablename__ = "email_token"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    purpose: str = Field(max_length=20)  # "sign-up", "confirm-email", "password-reset", "sign-in", "firm-contact"
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    # A sign-up's name, password hash and where to go next, until the address is confirmed.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
