"""Every unsafe request carries the session's CSRF token: as a form field or the htmx header."""

from __future__ import annotations

import pytest

from tests.conftest import BASE_URL, Page, login

STALE = "Sidan hade blivit för gammal"


from tests.shared_app import app, client, module_client, settings  # noqa: F401


def assert_stale_page(response) -> None:
    assert response.status_code == 403
    page = Page(response)
    assert page.h1 == STALE
    assert "Ingenting har sparats" in page.text()
    assert "csrf" not in page.text().lower()
    assert "Traceback" not in response.text


def start_page(client) -> Page:
    response = client.get("/")
    assert response.status_code == 200
    return Page(response)


def acting_for_viola(client) -> bool:
    return "Nu ser du uppgifter om Viola Andersson" in start_page(client).text()


# (url, form) for each unsafe route a signed-in person uses.
def _unsafe_posts(demo_ids) -> dict[str, tuple[str, dict]]:
    return {
        "logout": ("/auth/logout", {}),
        "choose-person": ("/vem", {"person": demo_ids["viola"]}),
        "keep-alive": ("/session/forlang", {"next": "/"}),
    }


POSTS = ["logout", "choose-person", "keep-alive"]


def _assert_nothing_changed(client) -> None:
    page = start_page(client)
    assert page.h1 == "Hej Johan!"
    assert "Inloggad: Johan Andersson" in page.text("header")
    assert not acting_for_viola(client)


@pytest.mark.parametrize("post", POSTS)
def test_no_token_is_refused_and_nothing_changes(client, demo_ids, post):
    login(client, "johan")
    url, form = _unsafe_posts(demo_ids)[post]
    assert_stale_page(client.post(url, data=form, follow_redirects=False))
    assert_stale_page(client.post(url, follow_redirects=False))  # no body at all
    _assert_nothing_changed(client)


@pytest.mark.parametrize("post", POSTS)
def test_wrong_token_is_refused(client, demo_ids, post):
    login(client, "johan")
    token = start_page(client).csrf()
    url, form = _unsafe_posts(demo_ids)[post]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_stale_page(client.post(url, data={**form, "csrf_token": wrong},
                                  follow_redirects=False))
    assert_stale_page(client.post(url, data=form, headers={"X-CSRF-Token": wrong},
                                  follow_redirects=False))
    assert_stale_page(client.post(url, data={**form, "csrf_token": ""}, follow_redirects=False))
    _assert_nothing_changed(client)


def test_a_token_from_another_session_is_refused(client, demo_ids):
    login(client, "viola")
    foreign = start_page(client).csrf()
    client.cookies.clear()  # another browser
    login(client, "johan")
    response = client.post("/vem", data={"person": demo_ids["viola"], "csrf_token": foreign},
                           follow_redirects=False)
    assert_stale_page(response)
    _assert_nothing_changed(client)


def test_token_in_the_form_field_is_accepted(client, demo_ids):
    login(client, "johan")
    token = start_page(client).csrf()

    chosen = client.post("/vem", data={"person": demo_ids["viola"], "csrf_token": token},
                         follow_redirects=False)
    assert chosen.status_code == 303
    assert acting_for_viola(client)

    kept = client.post("/session/forlang", data={"next": "/vem", "csrf_token": token},
                       follow_redirects=False)
    assert kept.status_code == 303 and kept.headers["location"] == "/vem"

    out = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert start_page(client).h1 == "Välkommen till SIP-portalen"


def test_token_in_the_htmx_header_is_accepted(client, demo_ids):
    login(client, "johan")
    page = start_page(client)
    # The header htmx sends is the one set on <body>.
    token = page.select_one("body")["hx-headers"].split('"X-CSRF-Token": "')[1].split('"')[0]
    assert token == page.csrf()
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}

    assert client.post("/session/forlang", headers=htmx).status_code == 204
    chosen = client.post("/vem", data={"person": demo_ids["viola"]}, headers=htmx,
                         follow_redirects=False)
    assert chosen.status_code == 303
    assert acting_for_viola(client)
    back = client.post("/vem", data={"person": "self"}, headers=htmx, follow_redirects=False)
    assert back.status_code == 303
    assert not acting_for_viola(client)
    out = client.post("/auth/logout", headers=htmx, follow_redirects=False)
    assert out.status_code == 303
    assert start_page(client).h1 == "Välkommen till SIP-portalen"


def test_htmx_request_without_token_gets_the_page_for_a_full_swap(client):
    login(client, "johan")
    response = client.post("/session/forlang", headers={"HX-Request": "true"})
    assert_stale_page(response)
    assert response.headers["hx-retarget"] == "body"


def test_anonymous_post_without_a_session_is_refused(client):
    assert_stale_page(client.post("/auth/logout", follow_redirects=False))
    assert_stale_page(client.post("/session/forlang", data={"csrf_token": ""},
                                  follow_redirects=False))


def test_the_dev_provider_token_endpoint_is_exempt(client):
    """Server-to-server: it is authenticated by the client secret and PKCE instead."""
    no_client = client.post("/dev-idp/token", data={"grant_type": "authorization_code",
                                                     "code": "x"})
    assert no_client.status_code == 401
    assert no_client.json() == {"error": "invalid_client"}
    bad_code = client.post("/dev-idp/token", auth=("portal-citizen", "dev-citizen-secret"),
                           data={"grant_type": "authorization_code", "code": "x",
                                 "code_verifier": "y", "redirect_uri": f"{BASE_URL}/x"})
    assert bad_code.status_code == 400
    assert bad_code.json() == {"error": "invalid_grant"}
    assert STALE not in bad_code.text


def test_the_dev_provider_authorize_form_is_not_exempt(client):
    start = client.get("/auth/login/citizen", follow_redirects=False)
    page = client.get(start.headers["location"])
    form = Page(page).select_one('form[action="/dev-idp/authorize"]')
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    data["who"] = form.select_one("button[name=who]")["value"]
    data.pop("csrf_token")
    assert_stale_page(client.post("/dev-idp/authorize", data=data, follow_redirects=False))


def test_only_the_token_endpoint_and_the_csp_report_skip_the_csrf_check(app):
    """The routes posted without a browser form: the OAuth token endpoint (clients), the
    CSP report (browsers send it on their own) and the FHIR API (staff systems with bearer
    tokens, never the session cookie: portal.fhir.api). A new exemption is a decision."""
    exempt = {route.path for route in app.routes for handler in getattr(route, "route_handlers", ())
              if handler.opt.get("csrf_exempt")}
    assert {path for path in exempt if not path.startswith("/fhir/R4/")} == {
        "/dev-idp/token", "/csp-rapport"}
    assert "/fhir/R4/token" in exempt
