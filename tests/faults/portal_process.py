"""A real portal process (`python -m portal serve`) for the fault tests, which kill it.

Small on purpose: the e2e suite has its own starter (e2e/conftest.py), to be unified
with this one in tests/processes.py. Nothing from the developer's own PORTAL_* settings
leaks in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.notices.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP_TIMEOUT = 30.0


class PortalProcess:
    """`python -m portal serve` with `database_url` and `extra` PORTAL_* settings; its
    output goes to `tmp`/portal-N.log (N counts the starts)."""

    def __init__(self, tmp: Path, database_url: str, **extra: str) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (tmp / "sessions").mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        self.env.update({
            "PORTAL_ENV": "development",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_PORT": str(self.port),
            "PORTAL_BASE_URL": self.url,
            "PORTAL_SESSION_DIR": str(tmp / "sessions"),
            "PORTAL_DEV_IDP_KEY_FILE": str(tmp / "dev-idp-key.json"),
            "PYTHONUNBUFFERED": "1",
            **extra,
        })
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        """Start it and return once /healthz answers; fails the test with its output
        when it exits or is not healthy within STARTUP_TIMEOUT seconds."""
        self.starts += 1
        log = self.log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "portal", "serve"], cwd=ROOT,
                                        env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the portal did not start; its output:\n{self.output()}",
                            pytrace=False)
            time.sleep(0.1)

    @property
    def log_path(self) -> Path:
        return self.tmp / f"portal-{self.starts}.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is committed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
