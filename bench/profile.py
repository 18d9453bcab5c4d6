"""CPU per request of the key pages, in-process, and where it goes: `make bench-profile`.

    .venv/bin/python -m bench.profile                            # every key page, 1 000 persons
    .venv/bin/python -m bench.profile --persons 0 --pages /plan --profile /plan
    .venv/bin/python -m bench.profile --tree /work/wt-before     # another checkout's portal

The app is built as in production (PostgreSQL, Redis sessions: `portal.app.create_app`)
on a throwaway database beside PORTAL_DATABASE_URL (default: the local server's
`postgres` database; nothing is written to it) with the demo, Viola's plan
(bench/seed.py) and `--persons` generated persons (bench/generate.py). Viola and
Anna log in through the real flow (tests/conftest.py `login`). Then each page is
called `--requests` times straight through ASGI (no HTTP server, no client), in
turn with reference (b) of bench/reference.py built on the same database and
Redis, and the process's CPU time per request (time.process_time, user + system,
ms) is printed with the ratio to (b). This is the figure `bench.load` turns into
requests per second, without the load tool and the server on the same two cores:
it moves little when the machine is busy, so one change can be judged in seconds.

Key pages are kept (portal.core.page_cache): after the first request each one is sent
kept, and the last column says how many were sent kept and how many made. `--no-cache`
keeps none (PORTAL_PAGE_CACHE_SECONDS=0): every request costs what a first view does.

`--profile PAGE` runs pyinstrument over that page's requests and prints the call
tree (`--html FILE` saves the interactive one). Redis: `--redis-url` (default db 13,
flushed before and after).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = Path(os.environ.get("BENCH_TREE") or HERE.parent).resolve()
if str(TREE) not in sys.path:
    sys.path.insert(0, str(TREE))

CITIZEN_PAGES = ["/", "/plan", "/samtycke", "/samtycke/historik", "/arenden", "/meddelanden"]
STAFF_PAGES = ["/personal/inkorg"]
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
HOST = b"testserver.local"


async def call(app, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET through the app's ASGI callable; returns (status, body)."""
    path_only, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path_only, "raw_path": path_only.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", HOST), (b"cookie", cookie.encode()), (b"accept", b"text/html")],
        "client": ("127.0.0.1", 40000), "server": ("testserver.local", 80), "state": {},
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def cpu_per_request(app, path: str, cookie: str, requests: int) -> float:
    """Warm up, then the mean process CPU ms of `requests` GETs; SystemExit unless 200."""
    for _ in range(5):
        status, body = await call(app, path, cookie)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {body[:200]!r}")
    start = time.process_time()
    for _ in range(requests):
        await call(app, path, cookie)
    return (time.process_time() - start) * 1000 / requests


# Per-request values (nonce, CSRF token, session tag) and the throwaway database's
# random ids: every run of 20 or more URL-safe characters (a class name too, alike).
MASKED = re.compile(rb'(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])'
                    rb'|(?<=data-session-tag=")[0-9a-f]{16}'  # and a request's reference:
                    rb'|\b[0-9A-Z]{4}-[0-9A-Z]{4}\b')


async def pages_html(app, pages: list[str], cookies: dict[str, str]) -> dict[str, bytes]:
    """Each page as Viola (citizen pages) and Anna (every page) in sv and sv_FI:
    {"<who>-<locale><path>.html": status line and body}, per-request values masked (MASKED)."""
    found = {}
    for who, cookie in (("viola", cookies["citizen"]), ("anna", cookies["staff"])):
        for locale in ("sv", "sv_FI"):
            for page in pages:
                if who == "viola" and page.startswith("/personal"):
                    continue
                status, body = await call(app, page, f"{cookie}; sip_lang={locale}")
                name = f"{who}-{locale}{page.replace('/', '_') or '_'}.html"
                found[name] = b"%d\n" % status + MASKED.sub(b"*", body)
    return found


def prepare(url: str, persons: int) -> dict:
    from bench.queries import _run, _seed_module
    from portal.core.migrate import upgrade
    from portal.people.demo import load_demo

    upgrade(url)
    ids = _run(url, load_demo)
    _run(url, _seed_module().ensure_plan)
    if persons:
        subprocess.run([sys.executable, "-m", "bench.generate", url, "--persons", str(persons)],
                       check=True, cwd=HERE.parent, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, PYTHONPATH=f"{TREE}:{HERE.parent}"))
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="another checkout (its .venv/bin/python runs)")
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--pages", default=",".join(CITIZEN_PAGES + STAFF_PAGES))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-cache", action="store_true",
                        help="keep no pages (PORTAL_PAGE_CACHE_SECONDS=0): what a first view costs")
    parser.add_argument("--profile", metavar="PAGE", help="pyinstrument's call tree of this page")
    parser.add_argument("--html", type=Path, help="save the profile as interactive HTML")
    parser.add_argument("--cprofile", type=int, metavar="N", default=0,
                        help="with --profile: cProfile's N costliest functions (own time) instead")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--save-html", type=Path, metavar="DIR",
                        help="save each page as Viola and Anna in both variants, with per-request "
                             "values (nonce, CSRF token, session tag) masked: diff two trees' "
                             "DIRs to show a change kept the HTML")
    args = parser.parse_args(argv)

    if args.tree and args.tree.resolve() != TREE:
        from bench.queries import rerun_in_tree

        return rerun_in_tree(__file__, args.tree, argv)

    import redis
    from litestar.testing import TestClient

    from bench.queries import _throwaway_postgres
    from bench.reference import create_app as create_reference
    from portal.app import create_app
    from portal.config import Settings
    from tests.conftest import BASE_URL, login

    redis.Redis.from_url(args.redis_url).flushdb()
    url, drop = _throwaway_postgres(os.environ.get("PORTAL_DATABASE_URL", DEFAULT_ADMIN_URL))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            ids = prepare(url, args.persons)
            plan_html = Path(tmp) / "plan.html"
            settings = Settings(base_url=BASE_URL, database_url=url, redis_url=args.redis_url,
                                allowed_hosts=("testserver.local",),
                                dev_idp_key_file=f"{tmp}/key.json", login_rate_limit=10_000,
                                **({"page_cache_seconds": 0} if args.no_cache else {}))
            holder: dict = {}

            import httpx

            class LoopbackTransport(httpx.AsyncBaseTransport):
                async def handle_async_request(self, request):
                    return await httpx.ASGITransport(app=holder["app"]).handle_async_request(request)

            app = holder["app"] = create_app(settings, http_transport=LoopbackTransport())
            # One client (one event loop: the Redis and database pools are bound to it).
            with TestClient(app, base_url=BASE_URL) as client:
                cookies = {}
                for who, kind in (("anna", "staff"), ("viola", "citizen")):
                    client.cookies.clear()
                    login(client, who)
                    cookies[kind] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                plan_html.write_text(client.get("/plan").text)
                os.environ.update(REF_HTML_FILE=str(plan_html), REF_DATABASE_URL=url,
                                  REF_REDIS_URL=args.redis_url, REF_PERSON_ID=ids["viola"])
                reference = create_reference()
                redis.Redis.from_url(args.redis_url).set("bench:reference:session", b"x" * 300)
                pages = [p for p in args.pages.split(",") if p]
                html: dict[str, bytes] = {}

                async def measure() -> list[tuple[str, float]]:
                    await reference.on_startup[0]()
                    try:
                        rows = [("reference (b)", await cpu_per_request(reference, "/b", "", args.requests),
                                 None)]
                        kept = getattr(app.state, "page_cache", None)  # None: an older tree
                        for page in pages:
                            who = "staff" if page.startswith("/personal") else "citizen"
                            before = (kept.hits, kept.misses) if kept else (0, 0)
                            ms = await cpu_per_request(app, page, cookies[who], args.requests)
                            counts = (kept.hits - before[0], kept.misses - before[1]) if kept else None
                            rows.append((page, ms, counts))
                        if args.save_html:
                            html.update(await pages_html(app, pages, cookies))
                        if args.profile and args.cprofile:
                            import cProfile
                            import pstats

                            who = "staff" if args.profile.startswith("/personal") else "citizen"
                            with cProfile.Profile() as profiler:
                                await cpu_per_request(app, args.profile, cookies[who], args.requests)
                            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.cprofile)
                        elif args.profile:
                            from pyinstrument import Profiler

                            who = "staff" if args.profile.startswith("/personal") else "citizen"
                            with Profiler(async_mode="enabled", interval=0.0002) as profiler:
                                await cpu_per_request(app, args.profile, cookies[who], args.requests)
                            print(profiler.output_text(unicode=True, color=False, show_all=False))
                            if args.html:
                                args.html.write_text(profiler.output_html())
                        return rows
                    finally:
                        await reference.on_shutdown[0]()

                rows = client.blocking_portal.call(measure)
                if args.save_html:
                    args.save_html.mkdir(parents=True, exist_ok=True)
                    for name, content in html.items():
                        (args.save_html / name).write_bytes(content)
    finally:
        drop()
        redis.Redis.from_url(args.redis_url).flushdb()

    reference_ms = rows[0][1]
    print(f"\nCPU per request, in-process ({args.persons} generated persons, {args.requests} requests each"
          f"{', no kept pages' if args.no_cache else ''})")
    print(f"{'page':<24} {'ms':>7} {'x(b)':>6}  kept pages sent / made")
    for page, ms, counts in rows:
        kept_text = f"  {counts[0]} / {counts[1]}" if counts and any(counts) else ""
        print(f"{page:<24} {ms:7.2f} {reference_ms / ms:6.2f}{kept_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
