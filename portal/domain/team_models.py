"""Tables of a firm's team and its tax-service access groups (re-exported by portal.domain.models)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.domain.models import utcnow


class AccessGroup(SQLModel, table=True):
    __tablename__ = "access_group"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id", index=True)
    name: str = Field(max_length=50)
    # A tax-service group (domain.md §4.3) names a regime: its clients are every client the firm acts for in
    # that regime, less the exclusions (portal.domain.group_sets works them out, and keeps each client's set up to
    # date as clients come and go). None: a custom group, whose clients are access_group_client rows.
    regime: str | None = Field(default=None, max_length=10)


class AccessGroupMember(SQLModel, table=True):
    __tablename__ = "access_group_member"
    group_id: int = Field(foreign_key="access_group.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)


class AccessGroupClient(SQLModel, table=True):
    __tablename__ = "access_group_client"
    group_id: int = Field(foreign_key="access_group.id", primary_key=True)
    taxpayer_id: int = Field(foreign_key="taxpayer.id", primary_key=True, index=True)


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


class AccessGroupSet(SQLModel, table=True):
    """One combination of a firm's groups that some client is in (firm_client.group_set_id): a firm has a handful,
    however many clients, so "is this client in one of my groups?" is a lookup in a few rows, not a question about
    each client's groups. Kept by portal.domain.group_sets; never changed, only made and (with a group) deleted."""

    __tablename__ = "access_group_set"
    id: int = Field(default=None, primary_key=True)  # see ROW_IDS
    firm_id: int = Field(foreign_key="firm.id", index=True)


class AccessGroupSetGroup(SQLModel, table=True):
    __tablename__ = "access_group_set_group"
    set_id: int = Field(foreign_key="access_group_set.id", primary_key=True)
    group_id: int = Field(foreign_key="access_group.id", primary_key=True, index=True)
