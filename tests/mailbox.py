"""A real SMTP server on the loopback (aiosmtpd) for the email tests: what the relay received, as parsed messages."""

from __future__ import annotations

import email
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def language(self) -> str:
        return str(self.message["Content-Language"])

    def part(self, subtype: str) -> str:
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None, f"no text/{subtype} part"
        return str(found.get_content())  # type: ignore[attr-defined]  # EmailMessage parts have get_content

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


@dataclass
class Mailbox:
    """The relay's side. `on_data` (if set) runs when a message arrives, after it is stored and before the
    relay answers "250": the window in which a sender can die with its email delivered but not recorded."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with a permanent 550
    delay: float = 0.0
    on_data: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None
    tls: ssl.SSLContext | None = None  # offer STARTTLS, and require it before anything else
    login: tuple[str, str] | None = None  # require AUTH with these credentials
    logins: list[str] = field(default_factory=list)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and self.login is not None
              and (data.login.decode(), data.password.decode()) == self.login)
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            time.sleep(self.delay)  # a slow relay; blocking on purpose, to widen the race between two senders
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        item = Received(list(envelope.rcpt_tos), parsed)
        with self.lock:
            self.received.append(item)
        if self.on_data is not None:
            self.on_data(item)
        return "250 OK"

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.tls is not None:
            options.update(tls_context=self.tls, require_starttls=True)
        if self.login is not None:
            options.update(auth_required=True, authenticator=self._authenticate, auth_require_tls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    def one_to(self, address: str) -> Received:
        found = self.to(address)
        assert len(found) == 1, f"{len(found)} emails to {address}: {[r.subject for r in self.received]}"
        return found[0]

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {len(self.received)} of {count} emails arrived"
            time.sleep(0.02)
