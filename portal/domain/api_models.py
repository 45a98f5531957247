"""The API's tables: registered software, authorization codes and tokens, each token kept only as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

from portal.domain.models import utcnow


class ApiApplication(SQLModel, table=True):
    """Software registered by a developer to use the API for agents (portal.domain.api_access). Only a hash of
    its secret is kept: the secret is shown once, when it is made."""

    __tablename__ = "api_application"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    client_id: str = Field(max_length=48, unique=True)
    client_secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=80)
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner_user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ApiAuthorizationCode(SQLModel, table=True):
    """An OAuth authorization code an agent's consent issued: single use, short-lived, bound to its PKCE
    challenge; kept as a hash like every token."""

    __tablename__ = "api_authorization_code"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    code_hash: str = Field(max_length=64, unique=True)
    application_id: int = Field(foreign_key="api_application.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    redirect_uri: str = Field(default="", max_length=500)
    scope: str = Field(default="", max_length=300)
    code_challenge: str = Field(default="", max_length=128)
    code_challenge_method: str = Field(default="", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """An access token (4 hours) and its refresh token (single use: refreshing revokes this row's refresh token
    and issues a new row). Both stored hashed. An agent's connected applications are their live rows.

    Every row a consent leads to, through any number of refreshes, shares one grant_id: a refresh token presented
    again after it was used (refresh_used_at) ends the whole grant (RFC 9700 §4.14.2)."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_application", "user_id", "application_id"),)
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    application_id: int = Field(foreign_key="api_application.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    scope: str = Field(default="", max_length=300)
    access_token_hash: str = Field(max_length=64, unique=True)
    refresh_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    issued_at: datetime = Field(default_factory=utcnow)
    expires_in: int
    refresh_expires_at: datetime
    access_revoked_at: datetime | None = None
    refresh_revoked_at: datetime | None = None
    grant_id: str | None = Field(default=None, max_length=32, index=True)
    refresh_used_at: datetime | None = None


class ApiIdempotencyKey(SQLModel, table=True):
    """The first answer to a POST sent with an Idempotency-Key, so a retry gets it again instead of a second change.
    Written before the work (status None until it finishes): the unique key makes a concurrent retry wait."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("application_id", "key"),)
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS in portal.domain.models
    application_id: int = Field(foreign_key="api_application.id")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)  # of the method, path and body: the same key with another body is refused
    status: int | None = None
    body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    location: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
