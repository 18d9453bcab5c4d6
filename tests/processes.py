"""Real portal processes for tests: `python -m portal migrate|demo|serve` as subprocesses,
and a real SMTP server (aiosmtpd) for their notices.

Used by the browser journeys (e2e/conftest.py) and by the tests that need more than one
process (tests/deploy/). Failures are reported with pytest.fail and the process's output.

    port = free_port()
    env = portal_env(tmp, port, database_url=..., redis_url=..., mailbox=box)
    run_command(["migrate"], env)              # once, as a release does
    for server in serve(env, tmp / "a.log"):   # stopped when the generator closes
        ...

`start_portal(tmp, demo_args, mailbox)` does all of it for one server on SQLite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """A real SMTP server (aiosmtpd) that keeps what the portal's outbox workers send.

    `start()`/`stop()` run it in a thread of its own on a free port (`port`);
    `received` holds every envelope (`mail_from`, `rcpt_tos`, `original_content`)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        """Every message received so far, parsed (email.message.EmailMessage)."""
        from email import message_from_bytes, policy

        return [message_from_bytes(e.original_content, policy=policy.default)
                for e in list(self.received)]

    def to(self, address: str) -> list:
        from email import message_from_bytes, policy

        return [message_from_bytes(e.original_content, policy=policy.default)
                for e in list(self.received) if address in e.rcpt_tos]

    def wait_for(self, address: str, at_least: int = 1, timeout: float = 30.0) -> list:
        """The mail to `address`, once at least `at_least` have arrived (the worker sends
        every few seconds); fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < at_least:
            if time.monotonic() > deadline:
                pytest.fail(f"{at_least} notice(s) to {address} did not arrive within {timeout:.0f} s "
                            f"(got {len(self.to(address))})", pytrace=False)
            time.sleep(0.25)
        return self.to(address)


def portal_env(tmp: Path, port: int, *, database_url: str | None = None, redis_url: str | None = None,
               base_url: str | None = None, mailbox: Mailbox | None = None,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a portal process listening on `port`, in development mode.

    Nothing from the developer's own PORTAL_* settings leaks in. Defaults: SQLite in
    `tmp`/portal.db, file sessions in `tmp`/sessions, the development provider's key in
    `tmp`, the public address http://127.0.0.1:`port`. `database_url` (any SQLAlchemy URL
    the portal takes), `redis_url` (sessions, login state and rate limits in Redis),
    `base_url` (the public address several instances share), `mailbox` (SMTP for notices)
    and `extra` (any other variables, last) override them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_ENV": "development",
        "PORTAL_COUNTRY": "SE",
        "PORTAL_DATABASE_URL": database_url or f"sqlite:///{tmp / 'portal.db'}",
        "PORTAL_PORT": str(port),
        "PORTAL_BASE_URL": base_url or f"http://127.0.0.1:{port}",
        "PORTAL_SESSION_DIR": str(tmp / "sessions"),
        "PORTAL_DEV_IDP_KEY_FILE": str(tmp / "dev-idp-key.json"),
        "PORTAL_IDLE_TIMEOUT": "1200",
        "PYTHONUNBUFFERED": "1",
    })
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    if mailbox is not None:
        env.update({"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(mailbox.port)})
    env.update(extra or {})
    return env


def run_command(args: list[str], env: dict[str, str]) -> str:
    """Run `python -m portal *args` with `env` to its end (at most 120 s); its stdout.
    Fails the test with the output when it exits with an error."""
    result = subprocess.run([sys.executable, "-m", "portal", *args], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"`python -m portal {' '.join(args)}` failed ({result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}", pytrace=False)
    return result.stdout


def healthy(url: str) -> bool:
    """Whether `url`/healthz answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Server:
    """A running `python -m portal serve`: its process, its own address (`url`,
    http://127.0.0.1:port, which may differ from the public PORTAL_BASE_URL), its log
    and its environment."""

    def __init__(self, process: subprocess.Popen, url: str, log_path: Path,
                 env: dict[str, str] | None = None) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path
        self.env = env or {}

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def python(self, code: str) -> str:
        """Run `code` in a Python process with the server's settings (its database): for
        what a journey needs that no page makes, e.g. time having passed. Returns stdout."""
        result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            pytest.fail(f"setting up the journey failed:\n{result.stdout}\n{result.stderr}",
                        pytrace=False)
        return result.stdout

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Return once /healthz answers; fail the test with the output if the process
        exits first or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                state = (f"exited with {self.process.returncode}" if self.process.poll() is not None
                         else f"not healthy after {timeout:.0f} s")
                pytest.fail(f"the portal server {state}; its output:\n{self.output()}", pytrace=False)
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the process (SIGTERM: uvicorn shuts down cleanly), kill it after 10 s."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def assert_clean_log(self) -> None:
        """Fail when the process's log holds personal data of the demo people or a token
        (tests/log_scan.py; secrets shown cut short)."""
        from tests.log_scan import log_lines, report, scan

        hits = scan(log_lines(self.output(), str(self.log_path)))
        assert not hits, report(hits)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is committed or closed."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"the portal server exited during the tests (code {self.process.returncode}"
                        "; negative: killed by that signal from outside); its output:\n"
                        f"{self.output()}", pytrace=False)


def launch(env: dict[str, str], log_path: Path) -> Server:
    """Start `python -m portal serve` with `env` (its PORTAL_PORT), output to `log_path`,
    without waiting for it: `Server.wait_healthy()` waits, `Server.stop()` ends it. For
    starting several at once; `serve` does all three for one."""
    url = f"http://127.0.0.1:{env['PORTAL_PORT']}"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "portal", "serve"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(process, url, log_path, env)


def serve(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    """Run `python -m portal serve` with `env` (its PORTAL_PORT) and yield it once /healthz
    answers on 127.0.0.1 (at most STARTUP_TIMEOUT s, else the test fails with its output);
    stopped (terminate, then kill) when the generator is closed. Output goes to `log_path`."""
    server = launch(env, log_path)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def start_portal(tmp: Path, demo_args: list[str], mailbox: Mailbox | None = None) -> Iterator[Server]:
    """Migrate a fresh SQLite database in `tmp`, load `python -m portal demo *demo_args`,
    run `python -m portal serve` on a free port and yield it once /healthz answers;
    stopped (terminate, then kill) when the generator is closed. With `mailbox`, the
    server's notices go to it over SMTP."""
    (tmp / "sessions").mkdir(exist_ok=True)
    env = portal_env(tmp, free_port(), mailbox=mailbox)
    run_command(["migrate"], env)
    run_command(["demo", *demo_args], env)
    yield from serve(env, tmp / "server.log")
