"""Shared by the bench scripts: start servers in subprocesses, wait for them, sign in as the demo agent.

Standard library only, so the scripts need nothing the portal's virtualenv does not already have.
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

REPO = Path(__file__).resolve().parent.parent
AGENT_EMAIL = "agent@example.com"
AGENT_PASSWORD = "demo-password-2026"
DEMO_TOTP_SECRET = "AGENTDEMOAGENTDEMOAGENTDEMOAGENT"  # portal.devdata.demo: the demo agents' authenticator app
KB = 1024  # budgets are in KiB (1 KB = 1,024 bytes here)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base_url: str
    log_path: Path
    temp_dir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.temp_dir is not None:
            self.temp_dir.cleanup()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _spawn(name: str, argv: list[str], env: dict[str, str], port: int, ready_path: str,
           temp_dir: tempfile.TemporaryDirectory | None, timeout: float) -> Server:
    log_dir = Path(temp_dir.name) if temp_dir else Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child holds it for its life
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path, temp_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before answering:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.base_url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{name} did not answer on {server.base_url}{ready_path} within {timeout:.0f} s")


def start_portal(timeout: float = 180.0) -> Server:
    """`python -m portal serve` on a free port with a fresh data folder: it migrates and seeds demo data
    before it starts serving, so when /sign-in answers 200 the seed is done."""
    temp_dir = tempfile.TemporaryDirectory(prefix="bench-portal-")
    port = free_port()
    env = {**os.environ, "PORTAL_DATA_DIR": temp_dir.name, "PYTHONUNBUFFERED": "1"}
    for name in ("DATABASE_URL", "SECRET_KEY", "PORTAL_ENV"):  # always the development defaults
        env.pop(name, None)
    argv = [sys.executable, "-m", "portal", "serve", "--port", str(port)]
    return _spawn("portal", argv, env, port, "/sign-in", temp_dir, timeout)


def start_minimal_app(timeout: float = 60.0) -> Server:
    """bench/minimal_app.py under the same uvicorn, one worker, warning log level, no access log."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.minimal_app:app", "--app-dir", str(REPO),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--log-level", "warning", "--no-access-log"]
    return _spawn("minimal", argv, dict(os.environ), port, "/", None, timeout)


class _CsrfFinder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token" and self.token is None:
            self.token = values.get("value") or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _post(opener: urllib.request.OpenerDirector, url: str, data: bytes) -> tuple[int, str]:
    try:
        response = opener.open(url, data=data, timeout=30)
        status, location = response.status, response.headers.get("location", "")
        response.close()
    except urllib.error.HTTPError as error:  # the unfollowed 303 lands here
        status, location = error.code, error.headers.get("location", "")
    return status, location


def sign_in(base_url: str, email: str = AGENT_EMAIL, password: str = AGENT_PASSWORD) -> http.cookiejar.CookieJar:
    """GET /sign-in (keeps the visitor cookie, scrapes csrf_token), POST the form; returns the cookie jar
    holding the session cookie. Raises if the portal does not answer with a 303 and a session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(base_url + "/sign-in", timeout=30) as response:
        finder = _CsrfFinder()
        finder.feed(response.read().decode("utf-8"))
    if not finder.token:
        raise RuntimeError("no csrf_token hidden input on GET /sign-in")
    data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": finder.token}).encode()
    status, location = _post(opener, base_url + "/sign-in", data)
    if status != 303:
        raise RuntimeError(f"sign-in answered {status}, expected 303 (wrong password? rate limited?)")
    if location.startswith("/sign-in/second-step"):  # agents pass 2-step verification: the demo secret's code
        with opener.open(base_url + location, timeout=30) as response:
            finder = _CsrfFinder()
            finder.feed(response.read().decode("utf-8"))
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
        status, _ = _post(opener, base_url + location,
                          urllib.parse.urlencode({"code": code, "csrf_token": finder.token or ""}).encode())
        if status != 303:
            raise RuntimeError(f"the second step answered {status} (a code used twice within 30 s is refused)")
    if not any("session" in cookie.name for cookie in jar):
        raise RuntimeError(f"sign-in set no session cookie; cookies: {[c.name for c in jar]}")
    return jar


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def get_raw(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One GET without following redirects: (status, lower-cased headers, body as sent on the wire)."""
    opener = urllib.request.build_opener(_NoRedirect())
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
