"""Two floor handlers to compare the portal's pages with (`bench/load.py` runs this).

    GET /a  a saved copy of the /plan HTML as text/html, nothing else
    GET /b  one Redis GET + one indexed SELECT on `person`, then the same HTML

/b is roughly the least a signed-in page can do: read the session, read the
person. The engine is made like the portal's (`postgresql+psycopg`, async,
pool_pre_ping). Served by uvicorn with one worker:

    REF_HTML_FILE=plan.html REF_DATABASE_URL=postgresql://postgres@127.0.0.1/db \
    REF_REDIS_URL=redis://127.0.0.1:6379/14 REF_PERSON_ID=... \
    .venv/bin/python -m uvicorn bench.reference:app --port 8100 --workers 1
"""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SESSION_KEY = "bench:reference:session"
SELECT_PERSON = text("SELECT id, given_name FROM person WHERE id = :id")


def _async_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_app() -> Litestar:
    html = Path(os.environ["REF_HTML_FILE"]).read_bytes()
    person_id = os.environ.get("REF_PERSON_ID", "")
    state: dict = {}

    async def startup() -> None:
        if os.environ.get("REF_DATABASE_URL"):
            state["engine"] = create_async_engine(_async_url(os.environ["REF_DATABASE_URL"]),
                                                  pool_pre_ping=True, hide_parameters=True)
        if os.environ.get("REF_REDIS_URL"):
            state["redis"] = Redis.from_url(os.environ["REF_REDIS_URL"])

    async def shutdown() -> None:
        if "engine" in state:
            await state["engine"].dispose()
        if "redis" in state:
            await state["redis"].aclose()

    @get("/a", sync_to_thread=False)
    def static_page() -> Response:
        return Response(html, media_type="text/html; charset=utf-8")

    @get("/b")
    async def redis_and_select() -> Response:
        redis: Redis = state["redis"]
        engine: AsyncEngine = state["engine"]
        session = await redis.get(SESSION_KEY)
        async with engine.connect() as conn:
            row = (await conn.execute(SELECT_PERSON, {"id": person_id})).first()
        if session is None or row is None:
            return Response(b"missing session or person", status_code=500)
        return Response(html, media_type="text/html; charset=utf-8")

    return Litestar([static_page, redis_and_select], on_startup=[startup],
                    on_shutdown=[shutdown], openapi_config=None)


app = create_app() if "REF_HTML_FILE" in os.environ else None
