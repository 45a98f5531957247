"""Handing a rendered email to the world: an SMTP relay (smtplib, STARTTLS, credentials from settings) or, in
development with no SMTP_HOST, a file under the data folder that a newcomer can open (var/mail/*.eml)."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from portal.domain.outbox_models import OutboxEmail
from portal.mail.render import Rendered
from portal.settings import Settings


class PermanentFailure(Exception):
    """The relay refused the email for good (a 5xx reply): retrying the same email cannot help."""


def message_id_for(email: OutboxEmail, settings: Settings) -> str:
    """The same Message-ID on every attempt, so a copy resent after a crash is recognisably the same email."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<{email.message_id}@{domain}>"


def build(email: OutboxEmail, rendered: Rendered, settings: Settings, *, readable: bool = False) -> EmailMessage:
    """`readable`: UTF-8 text as it is (8bit), for a file a person opens in an editor; a relay gets
    quoted-printable, which every relay accepts."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id_for(email, settings)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    encoding = "8bit" if readable else "quoted-printable"
    message.set_content(rendered.text, cte=encoding)
    message.add_alternative(rendered.html, subtype="html", cte=encoding)
    message["Content-Language"] = email.language  # after the content: set_content replaces Content-* headers
    return message


class Transport(Protocol):
    readable: bool  # whether a person reads its output directly (build(readable=...))

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SMTPTransport:
    """One connection, opened on first use and reused for a batch; STARTTLS and login as settings say."""

    readable = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        connection = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            if s.smtp_starttls:
                # The relay's certificate and name are verified: credentials never go to an impostor.
                connection.starttls(context=ssl.create_default_context(cafile=s.smtp_ca_file or None))
            if s.smtp_username:
                connection.login(s.smtp_username, s.smtp_password)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage) -> None:
        # A failure to connect, start TLS or log in is the relay's or the configuration's, never the email's:
        # it raises as a temporary failure and the email waits its backoff.
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            self.close()
            codes = [code for code, _ in refused.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {refused.recipients!r}") from refused
            raise
        except smtplib.SMTPResponseException as refused:
            self.close()
            if refused.smtp_code >= 500:
                raise PermanentFailure(f"{refused.smtp_code} {refused.smtp_error!r}") from refused
            raise
        except (OSError, smtplib.SMTPException):
            self.close()  # the next email starts a fresh connection
            raise

    def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()


class FileTransport:
    """Development: each email becomes var/mail/<timestamp>-<to>-<id>.eml, readable in any mail program or
    editor. Named by the Message-ID too, so an email resent after a crash overwrites its own file."""

    readable = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        to = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["To"]))[:80]
        key = re.sub(r"[^A-Za-z0-9]", "", str(message["Message-ID"]).split("@")[0])[:12]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        existing = sorted(self.folder.glob(f"*-{to}-{key}.eml"))
        path = existing[0] if existing else self.folder / f"{stamp}-{to}-{key}.eml"
        partial = path.with_suffix(".partial")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)  # whole or absent: a reader never sees half an email

    def close(self) -> None:
        pass


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SMTPTransport(settings)
    return FileTransport(settings.mail_dir)
