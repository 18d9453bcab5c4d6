"""Server time per page, in-process (no network): `make bench`.

Builds a throwaway SQLite database with the demo people, logs in through the
development identity provider and times repeated GETs of the main pages.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.config import Settings  # noqa: E402 - after the path is set
from portal.core.migrate import upgrade  # noqa: E402
from tests.conftest import BASE_URL, build_app, login  # noqa: E402

PAGES = ["/", "/samtycke", "/samtycke/historik", "/plan", "/kontakt"]
ROUNDS = 200


def main() -> None:
    import asyncio

    from litestar.testing import TestClient

    from portal.core.db import make_async_engine, make_sessionmaker
    from portal.people.demo import load_demo

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)

        async def demo() -> None:
            engine = make_async_engine(url)
            async with make_sessionmaker(engine)() as db:
                await load_demo(db)
            await engine.dispose()

        asyncio.run(demo())
        settings = Settings(base_url=BASE_URL, database_url=url, session_dir=":memory:",
                            allowed_hosts=("testserver.local",),
                            dev_idp_key_file=f"{tmp}/key.json", login_rate_limit=10_000)
        app = build_app(settings)
        with TestClient(app, base_url=BASE_URL) as client:
            login(client, "viola")
            print(f"{'page':24} {'median ms':>10} {'p95 ms':>8} {'bytes':>7}")
            for path in PAGES:
                timings = []
                size = 0
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - start) * 1000)
                    size = len(response.content)
                timings.sort()
                p95 = timings[int(len(timings) * 0.95)]
                print(f"{path:24} {statistics.median(timings):10.2f} {p95:8.2f} {size:7d}")


if __name__ == "__main__":
    main()
