"""Commands: migrate, demo, serve, verify-audit, health, fhir-client.

    python -m portal migrate        upgrade the database to the newest schema
    python -m portal demo           load the demo people and their stories (idempotent)
    python -m portal demo --people-only   the people, units and staff, without consent or plans
    python -m portal serve          run the web server (PORTAL_PORT, PORTAL_WORKERS)
    python -m portal verify-audit   check the audit hash chains
    python -m portal health         exit 0 when this machine's server answers /healthz (container health check)
    python -m portal fhir-client add|list|deactivate ...   staff systems of the FHIR API
                                    (portal/fhir/registration.py; add --help for its options)
"""

from __future__ import annotations

import asyncio
import os
import sys

from portal.config import get_settings


def _migrate() -> None:
    from portal.core.migrate import upgrade

    url = get_settings().database_url
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    upgrade(url)
    print("database is up to date")


async def _demo(stories: bool = True) -> None:
    from portal.core.db import make_async_engine, make_sessionmaker
    from portal.people.demo import load_demo

    engine = make_async_engine(get_settings().database_url)
    async with make_sessionmaker(engine)() as db:
        people = await load_demo(db, stories=stories)
    await engine.dispose()
    print(f"demo data loaded: {len(people)} people")


async def _verify() -> int:
    from portal.audit.service import verify_chains
    from portal.core.db import make_async_engine, make_sessionmaker

    engine = make_async_engine(get_settings().database_url)
    async with make_sessionmaker(engine)() as db:
        broken = await verify_chains(db)
    await engine.dispose()
    for line in broken:
        print(f"broken: {line}")
    if not broken:
        print("audit log intact")
    return 1 if broken else 0


def _serve() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "portal.asgi:app",
        host=os.environ.get("PORTAL_HOST", "127.0.0.1"),
        port=settings.port,
        workers=int(os.environ.get("PORTAL_WORKERS", "1")),
        proxy_headers=settings.production,
        forwarded_allow_ips=os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        access_log=False,
    )


def _health() -> int:
    """0 when the server on this machine (127.0.0.1:PORTAL_PORT) answers /healthz with 200
    within 5 s, else 1. The request carries the public Host (of PORTAL_BASE_URL), which
    is the one PORTAL_ALLOWED_HOSTS accepts."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    settings = get_settings()
    request = urllib.request.Request(f"http://127.0.0.1:{settings.port}/healthz",
                                     headers={"Host": urlsplit(settings.base_url).netloc})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "migrate":
        _migrate()
    elif command == "demo":
        asyncio.run(_demo(stories="--people-only" not in argv[2:]))
    elif command == "serve":
        _serve()
    elif command == "verify-audit":
        return asyncio.run(_verify())
    elif command == "health":
        return _health()
    elif command == "fhir-client":
        from portal.fhir import registration

        return registration.main(argv[2:], get_settings().database_url)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
