"""Tables of a firm's team and its tax-service access groups (re-exported by portal.domain.models)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.domain.models import utcnow


class FirmInvitation(SQLModel, table=True):
    """An administrator's invitation to join the firm: for one email address and role, through a single-use
    link (only its hash is kept), until it expires, is withdrawn or is used."""

    __tablename__ = "firm_invitation"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id", index=True)
    email: str = Field(max_length=254)  # stored lower-cased
    role: str = Field(max_length=10)  # "admin" or "standard"
    token_hash: str | None = Field(default=None, max_length=64, unique=True)  # None once used or withdrawn
    invited_by_user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_user_id: int | None = Field(default=None, foreign_key="user.id")
    withdrawn_at: datetime | None = None


class AccessGroupExclusion(SQLModel, table=True):
    """A client kept out of a tax-service group."""

    __tablename__ = "access_group_exclusion"
    group_id: int = Field(foreign_key="access_group.id", primary_key=True)
    taxpayer_id: int = Field(foreign_key="taxpayer.id", primary_key=True, index=True)
