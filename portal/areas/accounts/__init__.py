"""Accounts: signing in and out, the second step, confirming addresses, forgotten passwords, and sign in and
security details. The rules live in portal.domain.accounts, two_step and passkeys."""

from __future__ import annotations

from portal.areas.accounts import recovery, second_step, security, sign_in
from portal.areas.accounts.common import home_for, safe_next

__all__ = ["home_for", "routes", "safe_next"]

routes = [*sign_in.routes, *second_step.routes, *recovery.routes, *security.routes]
