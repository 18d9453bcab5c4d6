"""Error pages are plain, leak nothing, and a database outage fails closed."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import httpx
import pytest
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient

from portal.app import create_app
from tests.conftest import BASE_URL, Page, login
from tests.core.test_security_headers import CSP, assert_browser_headers

DB_DOWN = "postgresql://postgres@127.0.0.1:1/x"
LEAKS = ("Traceback", "Exception", "exception", "NotFound", "MethodNotAllowed", "litestar",
         "File \"", "line ", "sqlalchemy", "psycopg", "OperationalError", "127.0.0.1", ":1/")


def assert_plain(response, status: int, h1: str) -> Page:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response)
    assert page.h1 == h1
    for leak in LEAKS:
        assert leak not in response.text, leak
    path = response.request.url.path
    assert_browser_headers(response, CSP)
    if not path.startswith("/static/"):
        assert response.headers["cache-control"] == "no-store"
    return page


def loopback_app(settings, store):
    holder: dict = {}

    class Loopback(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return await httpx.ASGITransport(app=holder["app"]).handle_async_request(request)

    holder["app"] = create_app(settings, http_transport=Loopback(), store=store)
    return holder["app"]


@pytest.mark.parametrize("url", ["/finns-inte", "/auth/nope", "/static/finns-inte.css",
                                 "/%2e%2e/etc/passwd"])
def test_unknown_url_is_a_plain_404(client, url):
    page = assert_plain(client.get(url), 404, "Sidan finns inte")
    assert page.select_one('a[href="/"]') is not None


@pytest.mark.parametrize("method, url", [("DELETE", "/kontakt"), ("POST", "/healthz"),
                                         ("PUT", "/"), ("POST", "/utloggad")])
def test_wrong_method_is_a_plain_404(client, method, url):
    response = client.request(method, url)
    assert_plain(response, 404, "Sidan finns inte")
    assert "allow" not in {k.lower() for k in response.headers}


def test_404_for_htmx_swaps_the_whole_page(client):
    response = client.get("/finns-inte", headers={"HX-Request": "true"})
    assert_plain(response, 404, "Sidan finns inte")
    assert response.headers["hx-retarget"] == "body"
    assert response.headers["hx-reswap"] == "innerHTML"


def test_404_for_a_logged_in_person_is_plain(client):
    login(client, "viola")
    response = client.get("/finns-inte")
    assert_plain(response, 404, "Sidan finns inte")


def test_database_down_health_check_says_so(settings, demo_ids):
    app = loopback_app(settings.with_(database_url=DB_DOWN), MemoryStore())
    with TestClient(app, base_url=BASE_URL) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_database_down_page_fails_closed(settings, demo_ids):
    app = loopback_app(settings.with_(database_url=DB_DOWN), MemoryStore())
    params = {
        "client_id": "portal-citizen", "redirect_uri": f"{BASE_URL}/auth/callback/citizen",
        "response_type": "code", "scope": "openid", "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16), "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    with TestClient(app, base_url=BASE_URL) as client:
        # The anonymous start page needs no database.
        assert Page(client.get("/")).h1 == "Välkommen till SIP-portalen"
        response = client.get(f"/dev-idp/authorize?{urlencode(params)}")
    page = assert_plain(response, 503, "Tjänsten fungerar inte just nu")
    assert "Ingenting har sparats" in page.text()


def test_database_down_for_a_logged_in_person_and_back_again(settings, demo_ids):
    store = MemoryStore()
    working = loopback_app(settings, store)
    broken = loopback_app(settings.with_(database_url=DB_DOWN), store)
    with TestClient(working, base_url=BASE_URL) as client:
        login(client, "viola")
        cookies = dict(client.cookies)
        assert Page(client.get("/")).h1 == "Hej Viola!"

    with TestClient(broken, base_url=BASE_URL, cookies=cookies) as client:
        response = client.get("/")
        page = assert_plain(response, 503, "Tjänsten fungerar inte just nu")
        assert "Ingenting har sparats" in page.text()
        assert "Viola" not in response.text

    # When the database is back, so is the session: nothing was lost on the way.
    with TestClient(working, base_url=BASE_URL, cookies=cookies) as client:
        assert Page(client.get("/")).h1 == "Hej Viola!"
