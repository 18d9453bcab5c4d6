"""Our server-side session: cookie flags, timeouts enforced on the server, keep-alive."""

from __future__ import annotations

import functools
import json
import secrets
import time

import httpx
import pytest
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient

from portal.app import create_app
from portal.config import DEV_SECRET, ConfigError, OIDCClient, Settings, from_env
from tests.conftest import BASE_URL, Page, build_app, login

COOKIE = "sip_session"
PROD_URL = "https://sip.example.se"
PROD_ISSUER = "https://idp.example.se"


from tests.shared_app import app, client, module_client, settings  # noqa: F401

# --- helpers --------------------------------------------------------------------------


def cookie_attributes(set_cookie: str) -> tuple[str, str, dict[str, str]]:
    """'name=value; HttpOnly; Path=/' -> (name, value, {'httponly': '', 'path': '/'})."""
    first, *rest = [part.strip() for part in set_cookie.split(";")]
    name, _, value = first.partition("=")
    attributes = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val
    return name, value, attributes


def stored(client, app, session_id: str) -> dict | None:
    raw = client.blocking_portal.call(app.state.store.get, f"session:{session_id}")
    return json.loads(raw) if raw is not None else None


def restore(client, app, session_id: str, data: dict) -> None:
    client.blocking_portal.call(functools.partial(
        app.state.store.set, f"session:{session_id}", json.dumps(data), expires_in=3600))


def csrf_of(client) -> str:
    return Page(client.get("/")).csrf()


class StubProvider(httpx.AsyncBaseTransport):
    """A real-looking external provider: discovery only (no login is completed)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        suffix = "/.well-known/openid-configuration"
        if url.endswith(suffix):
            issuer = url.removesuffix(suffix)
            return httpx.Response(200, json={
                "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                "end_session_endpoint": f"{issuer}/logout"})
        return httpx.Response(404)


def production_settings(database_url: str, dev_key_file: str) -> Settings:
    return Settings(
        env="production", base_url=PROD_URL, secret_key=secrets.token_urlsafe(48),
        database_url=database_url, allow_sqlite=True, session_dir=":memory:",
        allowed_hosts=("sip.example.se",), dev_idp=False, dev_idp_key_file=dev_key_file,
        citizen=OIDCClient("citizen", PROD_ISSUER, "portal-citizen", "citizen-secret-from-vault"),
        staff=OIDCClient("staff", f"{PROD_ISSUER}/staff", "portal-staff",
                         "staff-secret-from-vault"),
    ).check()


def production_app(database_url: str, dev_key_file: str):
    return create_app(production_settings(database_url, dev_key_file),
                      http_transport=StubProvider(), store=MemoryStore())


# --- cookies --------------------------------------------------------------------------


def test_development_cookie_is_httponly_lax_session_cookie_not_secure(client):
    response = client.get("/auth/login/citizen", follow_redirects=False)
    name, value, attributes = cookie_attributes(response.headers["set-cookie"])
    assert name == COOKIE
    assert len(value) >= 40
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert "secure" not in attributes
    assert "domain" not in attributes
    # A browser-session cookie: not Litestar's 14-day default.
    assert "max-age" not in attributes and "expires" not in attributes


def test_production_cookie_is_host_prefixed_and_secure(database_url, dev_key_file, demo_ids):
    app = production_app(database_url, dev_key_file)
    with TestClient(app, base_url=PROD_URL) as client:
        response = client.get("/auth/login/citizen", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{PROD_ISSUER}/authorize?")
    name, value, attributes = cookie_attributes(response.headers["set-cookie"])
    assert name == "__Host-sip"
    assert value
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    # __Host- cookies must have Path=/ and no Domain.
    assert attributes["path"] == "/"
    assert "domain" not in attributes


@pytest.mark.parametrize("url", ["/", "/kontakt", "/tillganglighet", "/kakor", "/utloggad",
                                 "/session-slut", "/healthz", "/finns-inte",
                                 "/static/css/portal.css"])
def test_anonymous_visitors_get_no_session_cookie(client, url):
    response = client.get(url)
    assert response.status_code in (200, 404)
    assert COOKIE not in response.headers.get("set-cookie", "")
    assert not client.cookies


def test_choosing_a_language_anonymously_sets_only_the_language_cookie(client):
    response = client.get("/sprak/sv-FI?next=/kontakt", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/kontakt"
    assert COOKIE not in response.headers.get("set-cookie", "")
    assert "sip_lang=sv_FI" in response.headers["set-cookie"]


# --- production refuses development defaults ------------------------------------------


def _production_env(**changes: str | None) -> dict[str, str]:
    env = {
        "PORTAL_ENV": "production",
        "PORTAL_BASE_URL": PROD_URL,
        "PORTAL_SECRET_KEY": "k" * 48,
        "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db.internal/portal",
        "PORTAL_CITIZEN_ISSUER": PROD_ISSUER,
        "PORTAL_CITIZEN_CLIENT_SECRET": "citizen-secret-from-vault",
        "PORTAL_STAFF_ISSUER": f"{PROD_ISSUER}/staff",
        "PORTAL_STAFF_CLIENT_SECRET": "staff-secret-from-vault",
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def test_production_settings_from_a_complete_environment():
    settings = from_env(_production_env())
    assert settings.production
    assert settings.dev_idp is False
    assert settings.base_url == PROD_URL


@pytest.mark.parametrize("changes, problem", [
    ({"PORTAL_SECRET_KEY": None}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_SECRET_KEY": DEV_SECRET}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_SECRET_KEY": "too-short"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_DEV_IDP": "1"}, "development identity provider"),
    ({"PORTAL_DATABASE_URL": None}, "SQLite"),
    ({"PORTAL_DATABASE_URL": "sqlite:////srv/portal.db"}, "SQLite"),
    ({"PORTAL_BASE_URL": "http://sip.example.se"}, "https"),
    ({"PORTAL_CITIZEN_ISSUER": None}, "citizen login needs a real issuer"),
    ({"PORTAL_STAFF_ISSUER": f"{PROD_URL}/dev-idp"}, "staff login needs a real issuer"),
    ({"PORTAL_CITIZEN_CLIENT_SECRET": None}, "citizen login needs its own client secret"),
], ids=["no-secret", "dev-secret", "short-secret", "dev-idp", "default-sqlite", "sqlite",
        "http", "no-issuer", "dev-issuer", "dev-client-secret"])
def test_production_refuses_development_defaults(changes, problem):
    with pytest.raises(ConfigError, match=problem):
        from_env(_production_env(**changes))


def test_production_sqlite_needs_an_explicit_yes():
    env = _production_env(PORTAL_DATABASE_URL="sqlite:////srv/portal.db", PORTAL_ALLOW_SQLITE="1")
    assert from_env(env).allow_sqlite


def test_production_with_all_development_defaults_lists_every_problem():
    with pytest.raises(ConfigError) as raised:
        Settings(env="production").check()
    message = str(raised.value)
    for problem in ("PORTAL_SECRET_KEY", "development identity provider", "SQLite",
                    "real issuer", "client secret", "https"):
        assert problem in message
    # Development may use the defaults.
    assert Settings().check().production is False


# --- idle and absolute timeout -------------------------------------------------------


def test_idle_session_ends_on_the_server(client, app, settings, page):
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - settings.idle_timeout - settings.session_seen_precision - 5
    restore(client, app, session_id, data)

    response = client.get("/vem", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/session-slut"
    name, _, attributes = cookie_attributes(response.headers["set-cookie"])
    assert name == COOKIE and attributes.get("max-age") == "0"
    assert stored(client, app, session_id) is None

    ended = page("/session-slut")
    assert ended.h1 == "Du har loggats ut"
    assert "Inloggad" not in ended.text("header")
    # Gone for good: the same cookie again is just an anonymous visitor.
    again = client.get("/", headers={"Cookie": f"{COOKIE}={session_id}"})
    assert Page(again).h1 == "Välkommen till SIP-portalen"


def test_idle_session_htmx_request_is_told_where_to_go(client, app, settings):
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - settings.idle_timeout - settings.session_seen_precision - 5
    restore(client, app, session_id, data)

    response = client.get("/vem", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/session-slut"
    assert "Viola" not in response.text


def test_absolute_timeout_ends_even_an_active_session(client, app, settings):
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    data = stored(client, app, session_id)
    data["_created"] = time.time() - settings.absolute_timeout - 5
    data["_seen"] = time.time()
    restore(client, app, session_id, data)

    response = client.get("/vem", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/session-slut"
    assert stored(client, app, session_id) is None
    assert Page(client.get("/")).h1 == "Välkommen till SIP-portalen"


def test_idle_timeout_on_the_real_clock(settings):
    """No store tricks: a short idle timeout, and a person who waits too long (past the
    timeout and its precision: the session ends within that, never before the timeout)."""
    app = build_app(settings.with_(idle_timeout=2, session_seen_precision=1))
    with TestClient(app, base_url=BASE_URL) as client:
        login(client, "viola")
        assert Page(client.get("/")).h1 == "Hej Viola!"
        time.sleep(1.9)
        assert Page(client.get("/vem")).h1 == "Byt person", "not ended before the timeout"
        time.sleep(3.2)
        response = client.get("/vem", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/session-slut"
        assert Page(client.get("/session-slut")).h1 == "Du har loggats ut"
        assert Page(client.get("/")).h1 == "Välkommen till SIP-portalen"


# --- activity time: written at most every session_seen_precision seconds -------------


def _seen_ago(client, app, session_id: str, seconds: float) -> float:
    """Set the stored activity time `seconds` back; the value written."""
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - seconds
    restore(client, app, session_id, data)
    return data["_seen"]


def test_an_unchanged_session_is_not_rewritten_within_the_precision(client, app, settings):
    login(client, "viola")
    csrf_of(client)  # the CSRF token exists: the next pages change nothing
    session_id = client.cookies.get(COOKIE)
    recent = _seen_ago(client, app, session_id, settings.session_seen_precision - 10)
    assert Page(client.get("/vem")).h1 == "Byt person"
    assert client.get("/plan").status_code == 200
    assert stored(client, app, session_id)["_seen"] == recent, "no write per request"

    _seen_ago(client, app, session_id, settings.session_seen_precision + 1)
    assert Page(client.get("/vem")).h1 == "Byt person"
    assert stored(client, app, session_id)["_seen"] >= time.time() - 5, "activity written"


def test_idle_ends_only_past_the_timeout_and_its_precision(client, app, settings):
    """`_seen` may lag the last request by the precision: a session whose `_seen` is
    older than the timeout but within the precision lives on; beyond it, it ends."""
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    _seen_ago(client, app, session_id,
              settings.idle_timeout + settings.session_seen_precision - 5)
    assert Page(client.get("/vem")).h1 == "Byt person"
    assert stored(client, app, session_id)["_seen"] >= time.time() - 5

    _seen_ago(client, app, session_id,
              settings.idle_timeout + settings.session_seen_precision + 1)
    response = client.get("/vem", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/session-slut"
    assert stored(client, app, session_id) is None


def test_a_changed_session_is_saved_at_once_within_the_precision(client, app, settings):
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    # A new CSRF token (the stored one removed: the next form makes one).
    data = stored(client, app, session_id)
    data.pop("csrf", None)
    data["_seen"] = recent = time.time() - 5
    restore(client, app, session_id, data)
    token = Page(client.get("/")).csrf()
    after = stored(client, app, session_id)
    assert after["csrf"] == token and after["_seen"] > recent

    # A flash (a form's receipt), shown on the next page, within the precision.
    form = Page(client.get("/installningar")).select_one('form[action="/installningar"]')
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    data.update(channel="email", email="viola@example.invalid")
    recent = _seen_ago(client, app, session_id, 5)
    posted = client.post("/installningar", data=data, follow_redirects=False)
    assert posted.status_code == 303
    assert stored(client, app, session_id)["flashes"]
    assert stored(client, app, session_id)["_seen"] > recent
    assert "Dina inställningar är sparade." in client.get(posted.headers["location"]).text
    assert "flashes" not in stored(client, app, session_id), "the shown flash is gone"

    # A choice (the language variant) within the precision.
    recent = _seen_ago(client, app, session_id, 5)
    client.get("/sprak/sv-FI", params={"next": "/vem"})
    assert stored(client, app, session_id)["locale"] == "sv_FI"
    assert stored(client, app, session_id)["_seen"] > recent


# --- keep-alive -----------------------------------------------------------------------


def test_keep_alive_as_htmx_extends_the_session(client, app, settings):
    login(client, "viola")
    token = csrf_of(client)
    session_id = client.cookies.get(COOKIE)
    almost = settings.idle_timeout - 30  # 30 seconds left

    data = stored(client, app, session_id)
    data["_seen"] = time.time() - almost
    restore(client, app, session_id, data)
    response = client.post("/session/forlang",
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 204
    assert response.content == b""
    assert client.cookies.get(COOKIE) == session_id, "keep-alive does not change the id"
    assert stored(client, app, session_id)["_seen"] >= time.time() - 5

    # Another almost-idle stretch: without the keep-alive this would be past the limit.
    data = stored(client, app, session_id)
    data["_seen"] -= almost
    restore(client, app, session_id, data)
    page = client.get("/vem", follow_redirects=False)
    assert page.status_code == 200
    assert Page(page).h1 == "Byt person"


def test_keep_alive_as_a_form_returns_to_the_page(client):
    login(client, "viola")
    token = csrf_of(client)
    response = client.post("/session/forlang", data={"csrf_token": token, "next": "/vem"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/vem"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "vem"])
def test_keep_alive_never_sends_the_person_elsewhere(client, target):
    login(client, "viola")
    token = csrf_of(client)
    response = client.post("/session/forlang", data={"csrf_token": token, "next": target},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_session_dialog_offers_keep_alive_and_logout(client, settings):
    login(client, "viola")
    page = Page(client.get("/"))
    dialog = page.select_one("dialog#session-dialog")
    assert dialog is not None
    keep = dialog.select_one('form[action="/session/forlang"]')
    assert keep["hx-post"] == "/session/forlang"
    assert keep.select_one('input[name="csrf_token"]')["value"] == page.csrf()
    assert dialog.select_one('form[action="/auth/logout"]') is not None
    assert int(page.select_one("body")["data-session-idle-seconds"]) == settings.idle_timeout


def test_session_dialog_describes_itself_and_announces_only_some_moments(client):
    login(client, "viola")
    page = Page(client.get("/"))
    dialog = page.select_one("dialog#session-dialog")
    described = dialog["aria-describedby"].split()
    assert described, "the explanation and the time left belong to the dialog"
    texts = [page.select_one(f"#{i}").get_text(" ", strip=True) for i in described]
    assert any("loggas du ut" in t for t in texts)
    assert any(t.startswith("Tid kvar:") for t in texts)
    assert page.select_one("#session-countdown")["aria-live"] == "off"
    live = page.select_one("#session-announce")
    assert live["aria-live"] == "polite" and live.get_text(strip=True) == ""
    assert {k for k in live.attrs if k.startswith("data-announce-")} == {
        "data-announce-120", "data-announce-60", "data-announce-30", "data-announce-10"}
    assert live["data-announce-60"] == "Du har 1 minut kvar."
    tag = page.select_one("body")["data-session-tag"]
    assert len(tag) == 16 and tag not in page.csrf()
    assert Page(client.get("/vem")).select_one("body")["data-session-tag"] == tag


def test_each_login_has_its_own_session_tag(client):
    login(client, "viola")
    first = Page(client.get("/")).select_one("body")["data-session-tag"]
    client.cookies.clear()
    login(client, "viola")
    assert Page(client.get("/")).select_one("body")["data-session-tag"] != first


# --- a request from a session that has ended --------------------------------------------


def _logged_out_in_another_tab(client) -> str:
    """Log in, keep the page's token, log out (as another tab would)."""
    login(client, "viola")
    token = csrf_of(client)
    out = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.cookies.get(COOKIE) is None
    return token


def test_keep_alive_after_logout_in_another_tab_sends_htmx_to_the_logged_out_page(client):
    token = _logged_out_in_another_tab(client)
    response = client.post("/session/forlang",
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/utloggad"
    assert response.content == b""


def test_a_form_after_logout_in_another_tab_gets_a_plain_page(client, demo_ids):
    token = _logged_out_in_another_tab(client)
    response = client.post("/vem", data={"csrf_token": token, "person": demo_ids["viola"]},
                           follow_redirects=False)
    assert response.status_code == 403
    page = Page(response)
    assert page.h1 == "Du är inte inloggad längre"
    assert "Ingenting har sparats" in page.text()
    assert "annan flik" in page.text()
    assert page.select_one('main a[href="/auth/login/citizen"]') is not None
    assert "Inloggad" not in page.text("header")


def _signed_in_then_idle_too_long(client, app, settings) -> str:
    """Log Viola in, then make her session older than the idle timeout; her CSRF token."""
    login(client, "viola")
    token = csrf_of(client)
    session_id = client.cookies.get(COOKIE)
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - settings.idle_timeout - settings.session_seen_precision - 5
    restore(client, app, session_id, data)
    return token


def test_keep_alive_after_the_timeout_sends_htmx_to_the_session_ended_page(client, app, settings):
    token = _signed_in_then_idle_too_long(client, app, settings)
    response = client.post("/session/forlang",
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/session-slut"

    token = _signed_in_then_idle_too_long(client, app, settings)
    plain = client.post("/session/forlang", data={"csrf_token": token, "next": "/"},
                        follow_redirects=False)
    assert plain.status_code == 403
    page = Page(plain)
    assert page.h1 == "Du är inte inloggad längre"
    assert "inte gjort något på 20 minuter" in page.text()


def test_a_live_session_with_a_wrong_token_still_gets_the_stale_page(client):
    login(client, "viola")
    response = client.post("/session/forlang", headers={"HX-Request": "true", "X-CSRF-Token": "x"})
    assert response.status_code == 403
    assert Page(response).h1 == "Sidan hade blivit för gammal"


def test_the_logged_out_page_names_the_ended_login_once(client):
    """So its other tabs can leave the person's pages; a reload tells nobody."""
    login(client, "viola")
    page = Page(client.get("/"))
    tag = page.select_one("body")["data-session-tag"]
    out = client.post("/auth/logout", data={"csrf_token": page.csrf()}, follow_redirects=True)
    assert out.url.path == "/utloggad"
    ended = Page(out)
    assert ended.select_one("body")["data-ended-tag"] == tag
    assert ended.select_one('script[src^="/static/js/session-ended."]') is not None
    again = Page(client.get("/utloggad"))
    assert not again.select_one("body").has_attr("data-ended-tag")
    assert again.select_one('script[src^="/static/js/session-ended."]') is None
    forged = client.get("/utloggad", headers={"Cookie": 'sip_ended="><script>'})
    assert not Page(forged).select_one("body").has_attr("data-ended-tag")


def test_htmx_from_a_page_of_an_ended_session_goes_to_the_logged_out_page(client):
    token = _logged_out_in_another_tab(client)
    response = client.get("/vem", headers={"HX-Request": "true", "X-CSRF-Token": token},
                          follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/utloggad"


def test_the_logged_out_page_offers_both_logins(client):
    """A contact person who logged out is not sent to the citizens' e-ID to come back."""
    page = Page(client.get("/utloggad"))
    targets = {a["href"] for a in page.select("main a")}
    assert {"/auth/login/citizen", "/auth/login/staff"} <= targets
