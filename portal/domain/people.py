"""Who is asking, and on what authority: the two answers every rule takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from portal.domain.models import Taxpayer
from portal.domain.services import Action, regime_name


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, with their agent services account if they have one."""

    user_id: int
    name: str
    email: str
    session_id: int
    firm_id: int | None = None
    firm_name: str | None = None
    arn: str | None = None
    role: str | None = None
    access_groups_enabled: bool = False

    @property
    def is_agent(self) -> bool:
        return self.firm_id is not None

    @property
    def is_firm_admin(self) -> bool:
        return self.role == "admin"


def with_firm(person: str, firm: str | None) -> str:
    """A person as the portal names them for what they did: "Amira Reed, Harbour & Reed Tax Advisers LLP" when they
    acted for their firm (receipts' "Submitted by", the activity pages), their name alone otherwise."""
    return f"{person}, {firm}" if firm else person


@dataclass(frozen=True)
class Authority:
    kind: str  # "self", "agent" or "helper"
    taxpayer: Taxpayer
    actions: Mapping[str, frozenset[Action]] = field(default_factory=dict)  # regime -> allowed actions
    can_change_details: bool = False
    services: tuple[str, ...] = ()  # the authorised service keys, for an agent

    @property
    def regimes(self) -> list[str]:
        return sorted(self.actions, key=regime_name)

    def can(self, action: Action, regime: str) -> bool:
        return action in self.actions.get(regime, frozenset())

    @property
    def acting_for_someone_else(self) -> bool:
        return self.kind != "self"
