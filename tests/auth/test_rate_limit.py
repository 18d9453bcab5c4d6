"""The login callback is rate limited per client address."""

from __future__ import annotations

import asyncio
import time

import httpx
from litestar.testing import TestClient

from tests.conftest import BASE_URL, Page, build_app, choose_at_provider, redis_for_tests

LIMIT = 3


def bogus_callback(client) -> httpx.Response:
    # Another cookie: the failures must not end the real login's session.
    return client.get("/auth/callback/citizen?code=made-up&state=made-up",
                      headers={"Cookie": "sip_session=another-browser"}, follow_redirects=False)


def test_fourth_callback_within_a_minute_is_refused(settings):
    app = build_app(settings.with_(login_rate_limit=LIMIT))
    with TestClient(app, base_url=BASE_URL) as client:
        start = client.get("/auth/login/citizen", follow_redirects=False)
        real = choose_at_provider(client, start.headers["location"], "viola")
        for _ in range(LIMIT):
            failed = bogus_callback(client)
            assert failed.status_code == 400
            assert Page(failed).h1 == "Du är inte inloggad"

        limited = client.get(real.headers["location"], follow_redirects=False)
        assert limited.status_code == 429
        page = Page(limited)
        assert page.h1 == "Du är inte inloggad"
        assert "Vänta en minut" in page.text()
        assert "Inloggad" not in page.text("header")
        assert "429" not in page.text() and "Traceback" not in limited.text
        assert "location" not in limited.headers
        assert Page(client.get("/")).h1 == "Välkommen till SIP-portalen"
        assert bogus_callback(client).status_code == 429


def test_a_signed_in_person_who_hits_the_limit_is_not_told_they_are_logged_out(settings):
    """The page and the menu say the same thing: the earlier login still holds."""
    app = build_app(settings.with_(login_rate_limit=LIMIT))
    with TestClient(app, base_url=BASE_URL) as client:
        start = client.get("/auth/login/citizen", follow_redirects=False)
        real = choose_at_provider(client, start.headers["location"], "viola")
        assert client.get(real.headers["location"], follow_redirects=False).status_code == 303
        with TestClient(app, base_url=BASE_URL) as other_browser:  # same address
            for _ in range(LIMIT - 1):
                assert bogus_callback(other_browser).status_code == 400
        assert Page(client.get("/")).h1 == "Hej Viola!"
        again = client.get("/auth/login/citizen", follow_redirects=False)
        second = choose_at_provider(client, again.headers["location"], "viola")
        limited = client.get(second.headers["location"], follow_redirects=False)
        assert limited.status_code == 429
        page = Page(limited)
        assert page.h1 == "Du är fortfarande inloggad"
        assert "inte inloggad" not in page.text().lower()
        assert "Vänta en minut" in page.text()
        assert "Du är fortfarande inloggad som Viola Andersson" in page.text()
        assert "Inloggad: Viola Andersson" in page.text("header")
        assert page.select_one('main a[href="/auth/login/citizen"]') is None
        assert Page(client.get("/")).h1 == "Hej Viola!"


def test_callbacks_within_the_limit_log_in(settings):
    app = build_app(settings.with_(login_rate_limit=LIMIT))
    with TestClient(app, base_url=BASE_URL) as client:
        for _ in range(LIMIT - 1):
            assert bogus_callback(client).status_code == 400
        start = client.get("/auth/login/citizen", follow_redirects=False)
        real = choose_at_provider(client, start.headers["location"], "viola")
        assert client.get(real.headers["location"], follow_redirects=False).status_code == 303
        assert Page(client.get("/")).h1 == "Hej Viola!"


def test_the_limit_is_per_client_address(settings):
    app = build_app(settings.with_(login_rate_limit=LIMIT))
    with TestClient(app, base_url=BASE_URL) as client:
        for _ in range(LIMIT):
            assert bogus_callback(client).status_code == 400
        assert bogus_callback(client).status_code == 429

        async def from_elsewhere() -> int:
            transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as other:
                return (await other.get("/auth/callback/citizen?code=x&state=y")).status_code

        assert asyncio.run(from_elsewhere()) == 400  # refused for its state, not limited
        assert bogus_callback(client).status_code == 429


def _allowed_of_a_burst(store, limit: int, hits: int) -> int:
    """How many of `hits` simultaneous hits on one key a limiter of `limit` lets through."""
    from portal.auth.accounts import RateLimiter

    limiter = RateLimiter(store, limit)
    key = f"burst-{time.time_ns()}"

    async def burst() -> int:
        return sum(await asyncio.gather(*(limiter.allow(key) for _ in range(hits))))

    return asyncio.run(burst())


def test_a_burst_gets_exactly_the_limit_in_a_process_local_store():
    from litestar.stores.memory import MemoryStore

    assert _allowed_of_a_burst(MemoryStore(), LIMIT, 30) == LIMIT


def test_a_burst_gets_exactly_the_limit_in_redis():
    """Two hits at once once read the same count: a burst got past the limit."""
    from litestar.stores.redis import RedisStore

    url = redis_for_tests("rate limits in Redis")
    store = RedisStore.with_client(url=url, namespace=f"test-{time.time_ns()}")
    assert _allowed_of_a_burst(store, LIMIT, 30) == LIMIT
