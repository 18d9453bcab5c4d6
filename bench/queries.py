"""SQL statements and connection checkouts per GET of the key pages, in-process.

    .venv/bin/python -m bench.queries                 # a throwaway SQLite database
    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.queries             # a throwaway database on that server
    .venv/bin/python -m bench.queries --tree DIR      # another checkout, with its own .venv
    .venv/bin/python -m bench.queries --steps 2 -v    # grow twice; print the statements

The app runs in a Litestar TestClient (tests/conftest.py `build_app` and
`login`: the real login through the development identity provider). Viola gets
a published plan (bench/seed.py). Every GET is counted with class-level
SQLAlchemy events, so every engine the app makes is seen:

- statements: `before_cursor_execute` on `Engine` (what the app sends; the
  pool's pre-ping and the BEGIN the driver sends by itself are not in it);
- checkouts: `checkout` on `Pool`, one per connection a request takes out;
- distinct connections: the DBAPI connections behind those checkouts;
- commits: `commit` on `Engine`; resets: `reset` on `Pool` (the rollback when
  a connection goes back to the pool).

On PostgreSQL each checkout also costs a pre-ping round trip (the engines are
made with pool_pre_ping) and each transaction a BEGIN, neither counted above.

Each page is requested once to warm up, then `--repeat` times; the table shows
the last and says so when the repeats differ. Then Viola gets `--versions`
more published plan versions and `--consent-events` more consent events (given
and withdrawn in turn for Socialtjänsten i Kalmar), `--steps` times, and the
pages are counted again: a column that grows with the data is an N+1.
A PostgreSQL URL in PORTAL_DATABASE_URL is only used to create a throwaway
database next to it; nothing is written to the named one.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = Path(os.environ.get("BENCH_TREE") or HERE.parent).resolve()
if str(TREE) not in sys.path:
    sys.path.insert(0, str(TREE))

VIOLA_PAGES = ["/", "/plan", "/samtycke", "/samtycke/historik"]
ANNA_PAGES = ["/personal/personer", "/personal/personer/{viola}/samtycke"]


@dataclass
class Count:
    statements: int = 0
    checkouts: int = 0
    commits: int = 0
    resets: int = 0
    connections: set = field(default_factory=set)
    texts: list = field(default_factory=list)

    def row(self) -> tuple[int, int, int, int, int]:
        return self.statements, self.checkouts, len(self.connections), self.commits, self.resets


class Counter_:
    """Class-level SQLAlchemy listeners; `with counter.measure() as count:` around one GET."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        self._lock = threading.Lock()
        self.current: Count | None = None
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        event.listen(Pool, "checkout", self._checkout)
        event.listen(Pool, "reset", self._reset)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        with self._lock:
            if self.current is not None:
                self.current.statements += 1
                self.current.texts.append(" ".join(statement.split()))

    def _commit(self, conn) -> None:
        with self._lock:
            if self.current is not None:
                self.current.commits += 1

    def _reset(self, *_) -> None:
        with self._lock:
            if self.current is not None:
                self.current.resets += 1

    def _checkout(self, dbapi_connection, record, proxy) -> None:
        with self._lock:
            if self.current is not None:
                self.current.checkouts += 1
                self.current.connections.add(id(dbapi_connection))

    def get(self, client, path: str) -> Count:
        count = Count()
        with self._lock:
            self.current = count
        try:
            response = client.get(path, follow_redirects=False)
        finally:
            with self._lock:
                self.current = None
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code} "
                             f"{response.headers.get('location', '')}")
        return count


def rerun_in_tree(script: str, tree: Path, argv: list[str] | None) -> int:
    """Run `script` again with the other checkout's .venv python and BENCH_TREE=`tree`,
    without `--tree DIR` in its arguments; its exit status."""
    tree = tree.resolve()
    rest = list(argv if argv is not None else sys.argv[1:])
    i = rest.index("--tree")
    del rest[i:i + 2]
    env = {**os.environ, "BENCH_TREE": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(tree / ".venv" / "bin" / "python"), script, *rest],
                          check=False, cwd=tree, env=env).returncode


def _seed_module():
    spec = importlib.util.spec_from_file_location("bench_seed", HERE / "seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _throwaway_postgres(admin_url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    name = f"bench_queries_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(database=name).render_as_string(hide_password=False), drop


def _run(url: str, work):
    from portal.core.db import make_async_engine, make_sessionmaker

    async def go():
        engine = make_async_engine(url)
        try:
            async with make_sessionmaker(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def measure_all(name: str, counter: Counter_, clients: dict, paths: dict[str, str], repeat: int,
                verbose: bool) -> dict[str, tuple]:
    rows = {}
    for label, (who, path) in paths.items():
        counter.get(clients[who], path)  # warm-up: first-time work is not per request
        counts = [counter.get(clients[who], path) for _ in range(repeat)]
        last = counts[-1]
        steady = len({c.row() for c in counts}) == 1
        rows[label] = (*last.row(), steady)
        if verbose:
            print(f"\n# {label} ({who}, {name}): {last.statements} statements")
            for text, times in Counter(last.texts).items():
                print(f"  {times:3d} x {text[:160]}")
    return rows


def print_tables(title: str, columns: list[tuple[str, dict]]) -> None:
    for name, rows in columns:
        print(f"\n{title}, {name}\n")
        print("| page | statements | checkouts | distinct connections | commits | resets |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, (*numbers, steady) in rows.items():
            cells = " | ".join(str(n) for n in numbers)
            print(f"| {label} | {cells} |" + ("" if steady else " varies between repeats"))
    if len(columns) > 1:
        print("\nGrowth: statements / checkouts per GET\n")
        print("| page | " + " | ".join(name for name, _ in columns) + " |")
        print("|---|" + "---:|" * len(columns))
        for label in columns[0][1]:
            cells = [f"{rows[label][0]} / {rows[label][1]}" for _, rows in columns]
            print(f"| {label} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="another checkout (its .venv/bin/python runs)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--consent-events", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1, help="how many times to grow")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each statement")
    args = parser.parse_args(argv)

    if args.tree and args.tree.resolve() != TREE:
        return rerun_in_tree(__file__, args.tree, argv)

    from litestar.testing import TestClient

    from portal.config import Settings
    from portal.core.migrate import upgrade
    from portal.people.demo import load_demo
    from tests.conftest import BASE_URL, build_app, login

    seed = _seed_module()
    given = os.environ.get("PORTAL_DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        drop = None
        if given.startswith("postgres"):
            url, drop = _throwaway_postgres(given)
        else:
            url = f"sqlite:///{tmp}/queries.db"
        try:
            upgrade(url)
            ids = _run(url, load_demo)
            _run(url, seed.ensure_plan)
            viola = ids["viola"]
            settings = Settings(base_url=BASE_URL, database_url=url, session_dir=":memory:",
                                allowed_hosts=("testserver.local",),
                                dev_idp_key_file=f"{tmp}/key.json", login_rate_limit=10_000)
            paths = {p: ("viola", p) for p in VIOLA_PAGES}
            paths |= {p: ("anna", p.format(viola=viola)) for p in ANNA_PAGES}
            counter = Counter_()
            app = build_app(settings)
            with TestClient(app, base_url=BASE_URL) as viola_client, \
                    TestClient(app, base_url=BASE_URL) as anna_client:
                login(viola_client, "viola")
                login(anna_client, "anna")
                clients = {"viola": viola_client, "anna": anna_client}
                columns = [("baseline", measure_all("baseline", counter, clients, paths,
                                                    args.repeat, args.verbose))]
                for step in range(1, args.steps + 1):
                    _run(url, lambda db: seed.grow(db, args.versions, args.consent_events))
                    name = f"+{args.versions * step} versions, +{args.consent_events * step} events"
                    columns.append((name, measure_all(name, counter, clients, paths,
                                                      args.repeat, args.verbose)))
        finally:
            if drop is not None:
                drop()
    backend = "PostgreSQL" if drop is not None else "SQLite"
    print_tables(f"Per GET ({backend}, {TREE})", columns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
