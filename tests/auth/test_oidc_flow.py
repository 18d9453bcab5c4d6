"""The OpenID Connect round trip through the development provider, as a browser sees it."""

from __future__ import annotations

import json
import re

from sqlmodel import Session as DBSession
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.core.db import make_sync_engine
from portal.people.models import StaffMember
from tests.conftest import BASE_URL, Page, choose_at_provider, login, query_of

COOKIE = "sip_session"
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


from tests.shared_app import app, client, module_client, settings  # noqa: F401


def audit_events(database_url: str, action: str, actor_id: str) -> list[AuditEvent]:
    engine = make_sync_engine(database_url)
    try:
        with DBSession(engine) as db:
            return list(db.exec(select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.actor_id == actor_id)
                .order_by(col(AuditEvent.id))).all())
    finally:
        engine.dispose()


def staff_id(database_url: str, employee_id: str) -> str:
    engine = make_sync_engine(database_url)
    try:
        with DBSession(engine) as db:
            return db.exec(select(StaffMember.id).where(
                StaffMember.employee_id == employee_id)).one()
    finally:
        engine.dispose()


def with_cookie(client, url: str, value: str, **kwargs):
    """A request that carries exactly this session cookie (as a replaying attacker would)."""
    return client.get(url, headers={"Cookie": f"{COOKIE}={value}"}, follow_redirects=False,
                      **kwargs)


def test_authorization_request_has_code_pkce_state_nonce_and_exact_redirect(client):
    start = client.get("/auth/login/citizen", follow_redirects=False)
    assert start.status_code == 303
    location = start.headers["location"]
    assert location.startswith(f"{BASE_URL}/dev-idp/authorize?")
    query = query_of(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == "portal-citizen"
    assert query["redirect_uri"] == f"{BASE_URL}/auth/callback/citizen"
    assert "openid" in query["scope"].split()
    assert query["code_challenge_method"] == "S256"
    # S256 of a verifier: 32 bytes, base64url without padding.
    assert len(query["code_challenge"]) == 43 and B64URL.match(query["code_challenge"])
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["state"] != query["nonce"]

    again = query_of(client.get("/auth/login/citizen", follow_redirects=False)
                     .headers["location"])
    assert again["state"] != query["state"]
    assert again["nonce"] != query["nonce"]
    assert again["code_challenge"] != query["code_challenge"]

    staff = query_of(client.get("/auth/login/staff", follow_redirects=False)
                     .headers["location"])
    assert staff["client_id"] == "portal-staff"
    assert staff["redirect_uri"] == f"{BASE_URL}/auth/callback/staff"
    assert staff["code_challenge_method"] == "S256"


def test_unknown_login_kind_is_not_found(client):
    response = client.get("/auth/login/admin", follow_redirects=False)
    assert response.status_code == 404
    assert Page(response).h1 == "Sidan finns inte"


def test_viola_round_trip_records_login_with_assurance(client, page, database_url, demo_ids):
    before = len(audit_events(database_url, "auth.login", demo_ids["viola"]))
    callback = login(client, "viola")
    assert callback.status_code == 303
    assert callback.headers["location"] == "/"

    start = page("/")
    assert start.h1 == "Hej Viola!"
    assert "Inloggad: Viola Andersson" in start.text("header")
    assert start.response.headers["cache-control"] == "no-store"

    events = audit_events(database_url, "auth.login", demo_ids["viola"])
    assert len(events) == before + 1
    event = events[-1]
    assert event.actor_type == "person"
    assert event.role == "self"
    assert event.subject_person_id == demo_ids["viola"]
    assert json.loads(event.detail) == {"assurance": "substantial"}


def test_anna_staff_round_trip(client, page, database_url):
    anna = staff_id(database_url, "SE2321000016-A1B2")
    before = len(audit_events(database_url, "auth.login", anna))
    callback = login(client, "anna")
    assert callback.status_code == 303
    assert callback.headers["location"] == "/"

    start = page("/")
    assert start.h1 == "Hej Anna!"
    assert "Inloggad: Anna Berg, Kalmar vårdcentral" in start.text("header")
    assert "Kalmar vårdcentral" in start.text() and "Sjuksköterska" in start.text()

    events = audit_events(database_url, "auth.login", anna)
    assert len(events) == before + 1
    assert events[-1].actor_type == "staff"
    assert events[-1].unit_id is not None
    assert json.loads(events[-1].detail) == {"assurance": "substantial"}

    # A staff member is not offered the citizen's pages.
    assert client.get("/vem", follow_redirects=False).status_code == 403


def test_session_id_is_rotated_at_login_and_the_old_id_is_dead(client, page):
    client.get("/auth/login/citizen", follow_redirects=False)
    before = client.cookies.get(COOKIE)
    assert before, "starting a login keeps state, nonce and verifier in a session"

    callback = login(client, "viola")
    after = client.cookies.get(COOKIE)
    assert callback.status_code == 303
    assert after and after != before
    assert f"{COOKIE}={after}" in callback.headers["set-cookie"]

    # The new id is the logged-in session.
    assert Page(with_cookie(client, "/", after)).h1 == "Hej Viola!"
    # The old id gives an anonymous visitor: never Viola's page.
    replay = with_cookie(client, "/", before)
    assert replay.status_code == 200
    assert Page(replay).h1 == "Välkommen till SIP-portalen"
    assert "Viola" not in replay.text
    protected = with_cookie(client, "/vem", before)
    assert protected.status_code == 303
    assert protected.headers["location"] == "/"


def test_logout_ends_session_clears_site_data_and_visits_end_session(client, page, database_url,
                                                                      demo_ids):
    login(client, "viola")
    start = page("/")
    session_id = client.cookies.get(COOKIE)
    token = start.select_one('form[action="/auth/logout"] input[name="csrf_token"]')["value"]
    before = len(audit_events(database_url, "auth.logout", demo_ids["viola"]))

    response = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert "cache" in response.headers["clear-site-data"]
    assert "storage" in response.headers["clear-site-data"]
    assert re.search(rf"{COOKIE}=\"?\"?;.*max-age=0", response.headers["set-cookie"], re.IGNORECASE)
    end_session = response.headers["location"]
    assert end_session.startswith(f"{BASE_URL}/dev-idp/end-session?")
    params = query_of(end_session)
    assert params["post_logout_redirect_uri"] == f"{BASE_URL}/utloggad"
    assert params["client_id"] == "portal-citizen"
    assert len(audit_events(database_url, "auth.logout", demo_ids["viola"])) == before + 1

    back = client.get(end_session, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == f"{BASE_URL}/utloggad"
    logged_out = page(back.headers["location"])
    assert logged_out.h1 == "Du är utloggad"
    assert "Inloggad" not in logged_out.text("header")

    # The server session is gone: replaying the old cookie shows the anonymous start.
    replay = with_cookie(client, "/", session_id)
    assert Page(replay).h1 == "Välkommen till SIP-portalen"
    assert with_cookie(client, "/vem", session_id).headers["location"] == "/"


def test_staff_logout_uses_the_staff_client(client, page):
    login(client, "anna")
    token = page("/").csrf()
    response = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    params = query_of(response.headers["location"])
    assert params["client_id"] == "portal-staff"
    assert page("/").h1 == "Välkommen till SIP-portalen"


def test_end_session_refuses_a_foreign_return_address(client):
    response = client.get("/dev-idp/end-session", params={
        "client_id": "portal-citizen", "post_logout_redirect_uri": "https://evil.example/"},
        follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_cancelling_at_the_provider_shows_a_plain_page_and_no_session(client, page):
    start = client.get("/auth/login/citizen", follow_redirects=False)
    cancelled = choose_at_provider(client, start.headers["location"], "", action="cancel")
    target = cancelled.headers["location"]
    assert target.startswith(f"{BASE_URL}/auth/callback/citizen?")
    assert query_of(target)["error"] == "access_denied"
    assert "code" not in query_of(target)

    response = client.get(target, follow_redirects=False)
    assert response.status_code == 400
    shown = Page(response)
    assert shown.h1 == "Du är inte inloggad"
    assert "Du avbröt inloggningen" in shown.text()
    assert "access_denied" not in shown.text("body")
    assert not client.cookies.get(COOKIE)
    assert page("/").h1 == "Välkommen till SIP-portalen"
    assert client.get("/vem", follow_redirects=False).headers["location"] == "/"
