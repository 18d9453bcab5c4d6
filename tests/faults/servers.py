"""Private servers that the fault tests may stop, kill and restart.

The shared PostgreSQL and Redis serve every other test (and other people's runs), so
the fault tests never touch them: each test starts its own, on a free port, in a
temporary directory, and removes it afterwards.

`PrivatePostgres`: a cluster made with initdb (as the `postgres` user when the tests run
as root: PostgreSQL refuses to run as root), started, restarted and stopped with pg_ctl.
`PrivateRedis`: a redis-server without persistence (`--save ""`), so a restart is empty
like a cache that lost its memory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.processes import free_port

PG_ENV = "PORTAL_TEST_DATABASE_URL"


def requires_postgres() -> None:
    """Skip with a reason when PostgreSQL tests are not asked for; in CI (the variable
    set) a missing binary fails instead: a silent skip there proves nothing."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"the fault tests need PostgreSQL: set {PG_ENV} (CI sets it); they "
                    "start a private PostgreSQL and Redis of their own, never the shared ones")


def _pg_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    found = sorted(root.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail(f"{PG_ENV} is set but no PostgreSQL server binaries were found under {root} "
                    "(the fault tests run a private PostgreSQL)")
    return found[-1].parent


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port` with trust authentication."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
        self.data = self.root / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run([*self.as_postgres, str(self.bin / program), *args],
                                capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            pytest.fail(f"{program} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}",
                        pytrace=False)

    def _pg_ctl(self, *args: str) -> None:
        # fsync off: a crash of this machine is not what is tested; a stopped server is.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "30", *args)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: open transactions are rolled back, connections cut."""
        self._pg_ctl("restart", "-m", "fast")

    def stop_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: every process quits at once, as in a crash."""
        self._pg_ctl("stop", "-m", "immediate")

    def close(self) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "stop", "-m", "immediate"], capture_output=True, check=False, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own on 127.0.0.1:`port`, without persistence."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is not installed (the fault tests run a private one)",
                        pytrace=False)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-faults-redis-"))
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {self.port}", pytrace=False)
                time.sleep(0.05)

    def pause(self) -> None:
        """Hung: the process stopped (SIGSTOP), its port still accepting connections."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Gone at once, as in a crash (SIGKILL to our own process, by its id)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
