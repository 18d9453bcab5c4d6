"""Browser-facing headers on every kind of response, and the htmx configuration."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from tests.auth.test_sessions import PROD_URL, production_app
from tests.conftest import Page, login

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; "
       "report-uri /csp-rapport")
# The login and logout hops (/auth/..., /dev-idp/...) may post and redirect to the provider.
# Where the identity providers live elsewhere (production), their origins join
# form-action on every page: logout posts to us and is redirected there.
PROVIDER_CSP = CSP.replace("form-action 'self'", "form-action 'self' https://idp.example.se")


from tests.shared_app import app, client, module_client, settings  # noqa: F401


def assert_browser_headers(response, csp: str = CSP, production: bool = False) -> None:
    headers = response.headers
    assert headers.get_list("content-security-policy") == [csp]
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    permissions = headers["permissions-policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    if response.request.url.path.startswith("/static/") and response.status_code == 200:
        # The same bytes for everyone: shared caches keep one copy (no Vary on the cookie).
        assert "Cookie" not in headers.get("vary", "")
    else:
        assert "HX-Request" in headers["vary"] and "Cookie" in headers["vary"]
    if production:
        hsts = headers["strict-transport-security"]
        assert "includeSubDomains" in hsts
        assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000
    else:
        assert "strict-transport-security" not in headers


def test_anonymous_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_browser_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_logged_in_pages_are_never_stored(client):
    login(client, "viola")
    for url in ("/", "/vem"):
        response = client.get(url)
        assert response.status_code == 200
        assert_browser_headers(response)
        assert response.headers.get_list("cache-control") == ["no-store"]


def test_staff_page(client):
    login(client, "anna")
    response = client.get("/")
    assert Page(response).h1 == "Hej Anna!"
    assert_browser_headers(response)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/finns-inte", 404),
    ("DELETE", "/kontakt", 404),
    ("POST", "/auth/logout", 403),
])
def test_error_pages(client, method, url, status):
    response = client.request(method, url, follow_redirects=False)
    assert response.status_code == status
    assert_browser_headers(response)
    assert response.headers["cache-control"] == "no-store"
    Page(response)


def test_login_failure_and_login_redirect(client):
    failed = client.get("/auth/callback/citizen?code=x&state=y")
    assert failed.status_code == 400
    assert_browser_headers(failed)
    hop = client.get("/auth/login/citizen", follow_redirects=False)
    assert hop.status_code == 303
    assert_browser_headers(hop)
    assert hop.headers["cache-control"] == "no-store"


def test_static_files_the_pages_use(client):
    login(client, "viola")
    page = Page(client.get("/"))
    urls = [node["src"] for node in page.select("script[src]")]
    urls += [node["href"] for node in page.select('link[rel="stylesheet"]')]
    assert len(urls) >= 4  # htmx, our script, the session timeout script, the stylesheet
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_browser_headers(response)
        # Fingerprinted (portal.core.assets): cached for a year, never revalidated.
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_healthz_says_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok"}
    assert_browser_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_a_host_that_is_not_ours_is_refused(client):
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "SIP-portalen" not in response.text
    assert client.get("/", headers={"Host": "testserver.local"}).status_code == 200


def test_personal_pages_keep_nothing_in_htmx_history(client):
    login(client, "viola")
    for url in ("/", "/vem"):
        page = Page(client.get(url))
        body = page.select_one("body")
        assert body["hx-history"] == "false"
        config = json.loads(page.select_one('meta[name="htmx-config"]')["content"])
        assert config["allowEval"] is False
        assert config["historyCacheSize"] == 0
        assert config["selfRequestsOnly"] is True
        assert config["allowScriptTags"] is False
        assert config["includeIndicatorStyles"] is False
        # The CSRF token and whose page it is go to htmx as headers set on <body>, not
        # through js: values.
        headers = json.loads(body["hx-headers"])
        subject = page.select_one('input[name="subject"]')["value"]
        assert headers == {"X-CSRF-Token": page.csrf(), "X-Subject": subject}
        assert "js:" not in body["hx-headers"]


def test_scripts_are_files_from_this_site(client):
    login(client, "viola")
    page = Page(client.get("/"))
    sources = [script["src"] for script in page.select("script")]
    assert sources and all(src.startswith("/static/") for src in sources)
    assert not page.select("[onclick], [onload], [onsubmit], [style]")


def test_production_adds_hsts(database_url, dev_key_file, demo_ids):
    app = production_app(database_url, dev_key_file)
    with TestClient(app, base_url=PROD_URL) as client:
        for url in ("/", "/finns-inte", "/static/css/portal.css", "/healthz"):
            response = client.get(url)
            assert response.status_code in (200, 404)
            assert_browser_headers(response, PROVIDER_CSP, production=True)
