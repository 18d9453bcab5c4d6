"""Sessions in Redis: what several workers share in production."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar.stores.redis import RedisStore
from litestar.testing import TestClient

from portal.app import create_app
from tests.conftest import BASE_URL, login, redis_for_tests


@pytest.fixture
def redis_url() -> str:
    return redis_for_tests("Redis session tests")


def _worker(settings, redis_url: str, namespace: str):
    holder: dict = {}

    class Loopback(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return await httpx.ASGITransport(app=holder["app"]).handle_async_request(request)

    store = RedisStore.with_client(url=redis_url, namespace=namespace)
    app = create_app(settings.with_(redis_url=redis_url), http_transport=Loopback(), store=store)
    holder["app"] = app
    return app


def test_a_login_on_one_worker_is_valid_on_another(settings, redis_url):
    namespace = f"sip-test-{uuid.uuid4().hex[:8]}"
    first = _worker(settings, redis_url, namespace)
    second = _worker(settings, redis_url, namespace)
    with TestClient(first, base_url=BASE_URL) as one, TestClient(second, base_url=BASE_URL) as two:
        assert login(one, "viola").status_code == 303
        two.cookies.update(one.cookies)
        assert "Hej Viola!" in two.get("/").text
        csrf = one.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
        logout = two.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert logout.status_code == 303
        one.cookies.update(two.cookies)
        # Logged out on the second worker means logged out on the first too.
        assert "Hej Viola!" not in one.get("/").text
        assert "Välkommen till SIP-portalen" in one.get("/").text
