"""Settings from the environment. Nothing else in the portal reads os.environ."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from portal.i18n import N_

# Translators: the service's name, in the header of every page and in every email.
SERVICE_NAME = N_("Agent Online Self-Serve")
DATA_DIR = Path("var")


def _secret_key(environment: str, data_dir: Path) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if environment == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    # Development only: keep one key on disk so sessions survive a restart and every worker agrees.
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = field(repr=False)
    environment: str = "development"
    # HMRC's timings (shared/standards.md §2.4, §4.2): 15 minutes idle, 12 hours at most.
    session_idle_seconds: int = 15 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    # At most this many signed-in sessions per person (ASVS 5.0 7.1.2): signing in once more ends the one signed in
    # longest ago. A person past only their password holds no place, so a password alone pushes nobody out.
    sessions_per_account: int = 5
    # The timeout dialog warns this long after the last request (HMRC: 13 of 15 minutes, shared/accounts.md §1).
    session_warning_seconds: int = 13 * 60
    # Lock-out limits (shared/accounts.md §2, §5): One Login's numbers, as locks the real owner can get past.
    sign_in_attempts_allowed: int = 5  # wrong passwords per account, then only an emailed link finishes sign-in
    sign_in_window_seconds: int = 2 * 60 * 60
    sign_in_source_attempts_allowed: int = 50  # wrong passwords from one address, across every account
    sign_in_source_window_seconds: int = 15 * 60
    two_step_attempts_allowed: int = 5  # wrong security codes per account
    two_step_window_seconds: int = 2 * 60 * 60
    email_requests_allowed: int = 5  # reset or sign-in links asked for per address
    email_requests_window_seconds: int = 15 * 60
    # Emailed links expire after 10 minutes (ASVS 5.0 6.5.5 caps out-of-band codes there); a sign-up's after a day.
    email_link_seconds: int = 10 * 60
    sign_up_link_seconds: int = 24 * 60 * 60
    # After a password reset, how codes are received cannot change for 48 hours (One Login).
    methods_change_wait_seconds: int = 48 * 60 * 60
    # Changing a password or a 2-step method asks for the second step again unless it was passed this recently.
    reauthentication_seconds: int = 5 * 60
    # WebAuthn relying party: the site's domain (None: the host the request came to, for development).
    webauthn_rp_id: str | None = None
    # Email (portal.domain.outbox, portal.mail). No smtp_host: development delivers into files under mail_dir.
    base_url: str = "http://127.0.0.1:8000"  # absolute links in emails are built from this, never from a request
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    smtp_ca_file: str = ""  # a private CA to trust for the relay's certificate, besides the system's
    smtp_timeout_seconds: float = 30.0
    mail_from: str = "Agent Online Self-Serve <no-reply@localhost>"
    mail_dir: Path = DATA_DIR / "mail"
    # A sender's claim on one email lasts this long; it must outlast one SMTP conversation (smtp_timeout_seconds
    # per step), or a slow send could be claimed and sent again by another sender.
    mail_lease_seconds: float = 300.0
    worker_poll_seconds: float = 5.0

    @property
    def secure_cookies(self) -> bool:
        """`__Host-` cookies need HTTPS; the development server on 127.0.0.1 is plain HTTP."""
        return self.environment == "production"

    @classmethod
    def from_environ(cls) -> Settings:
        environment = os.environ.get("PORTAL_ENV", "development")
        data_dir = Path(os.environ.get("PORTAL_DATA_DIR", DATA_DIR))
        smtp_host = os.environ.get("SMTP_HOST", "")
        if environment == "production" and not smtp_host:
            raise RuntimeError("SMTP_HOST must be set in production (without it, email goes into files)")
        return cls(
            database_url=os.environ.get("DATABASE_URL", f"sqlite:///{data_dir / 'portal.db'}"),
            secret_key=_secret_key(environment, data_dir),
            environment=environment,
            base_url=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            smtp_host=smtp_host,
            smtp_port=int(os.environ.get("SMTP_PORT", "587")),
            smtp_username=os.environ.get("SMTP_USERNAME", ""),
            smtp_password=os.environ.get("SMTP_PASSWORD", ""),
            smtp_starttls=_flag(os.environ.get("SMTP_STARTTLS", "true")),
            smtp_ca_file=os.environ.get("SMTP_CA_FILE", ""),
            mail_from=os.environ.get("MAIL_FROM", cls.mail_from),
            mail_dir=data_dir / "mail",
            mail_lease_seconds=float(os.environ.get("MAIL_LEASE_SECONDS", "300")),
            worker_poll_seconds=float(os.environ.get("WORKER_POLL_SECONDS", "5")),
        )


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}
