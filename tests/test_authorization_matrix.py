"""The authorization matrix: every route in the app's route table, for every persona.

Each route (path + method, from `app.routes`) has a row saying what each persona
gets. A route without a row fails `test_every_route_has_a_row`, so a new route
cannot ship without someone deciding who may use it.

Personas: anonymous; Viola (citizen); Johan acting for Viola (representative,
proxy with every scope); Anna (staff, Kalmar vårdcentral). GET is sent without
anything else; POST with a valid CSRF token and an otherwise empty form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from tests.conftest import BASE_URL, login

ANON, CITIZEN, REPRESENTATIVE, STAFF = "anonymous", "citizen", "representative", "staff"
PERSONAS = (ANON, CITIZEN, REPRESENTATIVE, STAFF)
SIGNED_IN_AS = {CITIZEN: "Viola Andersson", REPRESENTATIVE: "Johan Andersson", STAFF: "Anna Berg"}
AUTHORIZE = f"{BASE_URL}/dev-idp/authorize?"
END_SESSION = f"{BASE_URL}/dev-idp/end-session?"
NO_ACCESS_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"


@dataclass(frozen=True)
class Expect:
    status: int
    location: str | None = None  # exact; a trailing "?" means "starts with"

    def check(self, response, where: str) -> None:
        assert response.status_code == self.status, (
            f"{where}: expected {self.status}, got {response.status_code} "
            f"{response.headers.get('location', '')}")
        if self.location is not None:
            location = response.headers.get("location", "")
            if self.location.endswith("?"):
                assert location.startswith(self.location), f"{where}: redirect to {location}"
            else:
                assert location == self.location, f"{where}: redirect to {location}"


OK = Expect(200)
HOME = Expect(303, "/")  # anonymous on a protected page: sent to the start page to log in
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
BAD = Expect(400)


def same(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(PERSONAS, expect)


def person_only(signed_in: Expect) -> dict[str, Expect]:
    return {ANON: HOME, CITIZEN: signed_in, REPRESENTATIVE: signed_in, STAFF: FORBIDDEN}


def staff_only(staff: Expect) -> dict[str, Expect]:
    return {ANON: HOME, CITIZEN: FORBIDDEN, REPRESENTATIVE: FORBIDDEN, STAFF: staff}


@dataclass(frozen=True)
class Row:
    url: str  # a concrete URL for the path template; "{viola}" / "{elsa}" filled in
    expect: dict[str, Expect]
    ends_session: bool = False  # the response clears the session (checked for it)
    note: str = field(default="", compare=False)


# (path template as in app.routes, method) -> row
ROUTES: dict[tuple[str, str], Row] = {
    ("/", "GET"): Row("/", same(OK)),
    ("/kontakt", "GET"): Row("/kontakt", same(OK)),
    ("/tillganglighet", "GET"): Row("/tillganglighet", same(OK)),
    ("/kakor", "GET"): Row("/kakor", same(OK)),
    ("/sprak/{code:str}", "GET"): Row("/sprak/sv-FI?next=/kontakt", same(Expect(303, "/kontakt"))),
    ("/healthz", "GET"): Row("/healthz", same(OK)),
    ("/auth/login/{kind:str}", "GET"): Row("/auth/login/citizen", same(Expect(303, AUTHORIZE))),
    ("/auth/callback/{kind:str}", "GET"): Row(
        "/auth/callback/citizen", {ANON: BAD, CITIZEN: HOME, REPRESENTATIVE: HOME, STAFF: HOME},
        note="without a pending login: a plain failure page, or, when signed in, back to the "
             "start page still signed in (a stray link must not log anyone out)"),
    ("/auth/logout", "POST"): Row("/auth/logout", same(Expect(303, END_SESSION)),
                                  ends_session=True),
    ("/utloggad", "GET"): Row("/utloggad", same(OK)),
    ("/session-slut", "GET"): Row("/session-slut", same(OK)),
    ("/session/forlang", "POST"): Row("/session/forlang", same(HOME)),
    ("/vem", "GET"): Row("/vem", person_only(OK)),
    ("/vem", "POST"): Row("/vem", person_only(HOME), note="an empty choice means: myself"),
    ("/samtycke", "GET"): Row("/samtycke", person_only(OK)),
    ("/samtycke", "POST"): Row("/samtycke", person_only(BAD), note="nothing chosen: form errors"),
    ("/samtycke/bekrafta", "GET"): Row("/samtycke/bekrafta",
                                       person_only(Expect(303, "/samtycke"))),
    ("/samtycke/kvitto/{act_id:str}", "GET"): Row("/samtycke/kvitto/AAAAAAAAAAAAAAAAAAAAAA",
                                                  person_only(NOT_FOUND)),
    ("/samtycke/historik", "GET"): Row("/samtycke/historik", person_only(OK)),
    ("/samtycke/text/{wording_id:str}", "GET"): Row("/samtycke/text/AAAAAAAAAAAAAAAAAAAAAA",
                                                    person_only(NOT_FOUND)),
    ("/personal/personer", "GET"): Row("/personal/personer", staff_only(OK)),
    ("/personal/personer/{person_id:str}", "GET"): Row(
        "/personal/personer/{elsa}", staff_only(FORBIDDEN),
        note="Anna's unit does not work with Elsa: refused as if she did not exist"),
    ("/personal/personer/{person_id:str}/samtycke", "GET"): Row(
        "/personal/personer/{viola}/samtycke", staff_only(OK)),
    ("/personal/personer/{person_id:str}/samtycke", "POST"): Row(
        "/personal/personer/{viola}/samtycke", staff_only(BAD)),
    # Plans. The rows assume Viola has a published plan with a follow-up date and has
    # consented for Anna's unit (`viola_has_a_plan` below makes sure of it).
    ("/plan", "GET"): Row("/plan", person_only(OK)),
    ("/plan/versioner", "GET"): Row("/plan/versioner", person_only(OK)),
    ("/plan/{plan_id:str}/version/{number:int}", "GET"): Row(
        "/plan/AAAAAAAAAAAAAAAAAAAAAA/version/1", person_only(NOT_FOUND),
        note="a made-up plan looks the same as someone else's"),
    ("/plan/tidigare", "GET"): Row("/plan/tidigare", person_only(OK)),
    ("/plan/kalender.ics", "GET"): Row("/plan/kalender.ics", person_only(OK)),
    ("/personal/personer/{person_id:str}/plan", "GET"): Row(
        "/personal/personer/{viola}/plan", staff_only(OK)),
    ("/personal/personer/{person_id:str}/plan", "POST"): Row(
        "/personal/personer/{viola}/plan", staff_only(Expect(303)),
        note="creating when a plan is open just returns to it"),
    ("/personal/personer/{person_id:str}/plan/avsnitt/{section:str}", "POST"): Row(
        "/personal/personer/{viola}/plan/avsnitt/important", staff_only(Expect(409)),
        note="no revision in the form: a stale form, nothing saved"),
    ("/personal/personer/{person_id:str}/plan/publicera", "POST"): Row(
        "/personal/personer/{viola}/plan/publicera", staff_only(Expect(409)),
        note="no revision in the form: nothing published"),
    ("/personal/personer/{person_id:str}/plan/avsluta", "POST"): Row(
        "/personal/personer/{viola}/plan/avsluta", staff_only(BAD),
        note="no reason: form errors, nothing closed"),
    ("/personal/personer/{person_id:str}/plan/forhandsvisning", "GET"): Row(
        "/personal/personer/{viola}/plan/forhandsvisning", staff_only(OK)),
    ("/personal/lix", "POST"): Row("/personal/lix", staff_only(NOT_FOUND),
                                   note="no section: nothing to measure"),
}

# Served files: the same for everyone.
STATIC: dict[tuple[str, str], Row] = {
    ("/static/{file_path:path}", "GET"): Row("/static/css/portal.css", same(OK)),
    ("/static/{file_path:path}", "HEAD"): Row("/static/css/portal.css", same(OK)),
}

# The development identity provider (never in production): it answers by the
# OpenID Connect protocol, not by who is signed in to the portal.
DEV_IDP: dict[tuple[str, str], Row] = {
    ("/dev-idp/.well-known/openid-configuration", "GET"): Row(
        "/dev-idp/.well-known/openid-configuration", same(OK)),
    ("/dev-idp/jwks", "GET"): Row("/dev-idp/jwks", same(OK)),
    ("/dev-idp/authorize", "GET"): Row("/dev-idp/authorize", same(BAD)),
    ("/dev-idp/authorize", "POST"): Row("/dev-idp/authorize", same(BAD)),
    ("/dev-idp/token", "POST"): Row("/dev-idp/token", same(Expect(401))),
    ("/dev-idp/end-session", "GET"): Row("/dev-idp/end-session", same(BAD)),
}

ALL_ROWS = {**ROUTES, **STATIC, **DEV_IDP}


def route_table(app) -> set[tuple[str, str]]:
    """Every (path, method) the app serves. OPTIONS is Litestar's automatic answer
    on every path and is checked once, in its own test."""
    return {(route.path, method) for route in app.routes for method in route.methods
            if method != "OPTIONS"}


def test_every_route_has_a_row(app):
    served = route_table(app)
    missing = sorted(served - set(ALL_ROWS))
    assert not missing, (f"routes without a row in the authorization matrix: {missing}. "
                         "Add a row saying what each persona gets.")
    stale = sorted(set(ALL_ROWS) - served)
    assert not stale, f"rows for routes the app no longer has: {stale}"
    for (path, _method) in STATIC:
        assert path.startswith("/static/")
    for (path, _method) in DEV_IDP:
        assert path.startswith("/dev-idp/")
    for (path, _method) in ROUTES:
        assert not path.startswith(("/static/", "/dev-idp/"))


def test_the_matrix_would_catch_a_new_route(app):
    """The coverage check is not vacuous: a route missing from the table is noticed."""
    served = route_table(app)
    assert ("/samtycke", "POST") in served
    assert served - (set(ALL_ROWS) - {("/samtycke", "POST")}) == {("/samtycke", "POST")}


def _csrf(html: str) -> str:
    node = BeautifulSoup(html, "html.parser").select_one('input[name="csrf_token"]')
    assert node is not None, "no CSRF token on the page"
    return node["value"]


def become(client: TestClient, persona: str, demo_ids: dict[str, str]) -> str:
    """Start a fresh browser session as `persona`; return a valid CSRF token for it."""
    client.cookies.clear()
    if persona == ANON:
        # An anonymous visitor gets a session (and a token) on the way to logging in.
        page = client.get("/auth/login/citizen")
        assert page.status_code == 200
        return _csrf(page.text)
    if persona == CITIZEN:
        assert login(client, "viola").status_code == 303
    elif persona == STAFF:
        assert login(client, "anna").status_code == 303
    else:
        assert login(client, "johan").status_code == 303
        token = _csrf(client.get("/").text)
        chosen = client.post("/vem", data={"csrf_token": token, "person": demo_ids["viola"]},
                             follow_redirects=False)
        assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    start = client.get("/")
    assert f"Inloggad: {SIGNED_IN_AS[persona]}" in start.text
    if persona == REPRESENTATIVE:
        assert "Du använder tjänsten för: <strong>Viola Andersson</strong>" in start.text
    return _csrf(start.text)


def check_what_is_shown(response, persona: str, row: Row, where: str) -> None:
    """On an HTML page: who is signed in, for whom, and the plain error heading."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    soup = BeautifulSoup(response.text, "html.parser")
    header = " ".join(soup.select_one("header").get_text(" ").split()) if soup.header else ""
    banner = soup.select_one(".acting-banner")
    if persona == ANON or row.ends_session:
        assert "Inloggad" not in header, where
        assert banner is None, where
    else:
        assert f"Inloggad: {SIGNED_IN_AS[persona]}" in header, where
        if persona == REPRESENTATIVE:
            assert banner is not None and "Viola Andersson" in banner.get_text(), where
        else:
            assert banner is None, where
    h1 = " ".join(soup.h1.get_text(" ").split()) if soup.h1 else ""
    if response.status_code == 403:
        assert h1 == NO_ACCESS_H1, where
    if response.status_code == 404:
        assert h1 == NOT_FOUND_H1, where


def check_session_after(client: TestClient, persona: str, row: Row, where: str) -> None:
    """A row that ends the session really does; all other rows leave it alone."""
    start = client.get("/")
    signed_in = "Inloggad:" in start.text
    if persona == ANON or row.ends_session:
        assert not signed_in, f"{where}: still signed in"
    else:
        assert signed_in, f"{where}: the request ended the session"


@pytest.fixture
def viola_has_a_plan(app, demo_ids):
    """Viola consents for Kalmar vårdcentral and has a published plan with a follow-up."""
    import asyncio
    from datetime import date

    from sqlmodel import select

    from portal.audit.service import Actor
    from portal.consent import services as consent
    from portal.consent.forms import new_key
    from portal.people.models import Person, StaffMember, Unit
    from portal.plans import content as plan_content
    from portal.plans import services as plans

    async def work():
        async with app.state.sessionmaker() as db:
            viola = await db.get(Person, demo_ids["viola"])
            unit = (await db.exec(select(Unit).where(Unit.code == "se-kalmar-vc"))).one()
            anna = (await db.exec(select(StaffMember).where(
                StaffMember.unit_id == unit.id, StaffMember.given_name == "Anna"))).one()
            if not await consent.unit_has_consent(db, viola, unit.id, date.today()):
                seq = (await consent.overview(db, viola, date.today())).seq
                await consent.decide(db, person=viola, actor=Actor("person", viola.id, "self"),
                                     given_by=viola.id, decision="give", unit_ids=[unit.id],
                                     idempotency_key=new_key(), seen_seq=seq, locale="sv",
                                     today=date.today())
            plan = await plans.create_plan(db, viola, anna)
            draft = plan_content.load(plan.draft)
            if plan.status != "active" or not draft["follow_up"].get("date"):
                draft["follow_up"] = {"date": "2026-12-08", "time": "10:00", "place": "Hemma"}
                plan = await plans.save_draft(db, plan, anna, plan.draft_revision,
                                              {"follow_up": draft["follow_up"]})
                await plans.publish(db, plan, anna, plan.draft_revision)

    asyncio.run(work())


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.usefixtures("viola_has_a_plan")
def test_authorization_matrix(app, demo_ids, persona):
    failures = []
    with TestClient(app, base_url=BASE_URL) as client:
        for (path, method), row in ALL_ROWS.items():
            url = row.url.format(viola=demo_ids["viola"], elsa=demo_ids["elsa"])
            where = f"{persona} {method} {url}"
            token = become(client, persona, demo_ids)
            if method == "POST":
                response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
            else:
                response = client.request(method, url, follow_redirects=False)
            try:
                row.expect[persona].check(response, where)
                if method != "HEAD":
                    check_what_is_shown(response, persona, row, where)
                if not path.startswith(("/dev-idp/", "/static/")):
                    check_session_after(client, persona, row, where)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_post_without_a_csrf_token_is_refused_everywhere(app, demo_ids, persona):
    """Every unsafe route, for every persona: no token, no action (except the token
    endpoint, which OAuth clients call without a browser session)."""
    failures = []
    with TestClient(app, base_url=BASE_URL) as client:
        for (path, method), row in ALL_ROWS.items():
            if method != "POST" or path == "/dev-idp/token":
                continue
            url = row.url.format(viola=demo_ids["viola"], elsa=demo_ids["elsa"])
            become(client, persona, demo_ids)
            response = client.post(url, data={"csrf_token": "not-the-token"},
                                   follow_redirects=False)
            if response.status_code == 403:
                continue
            if persona == ANON and response.status_code == 303 and \
                    response.headers["location"] == "/" and row.expect[ANON] == HOME:
                continue  # the login guard answers before the token is looked at
            failures.append(f"{persona} POST {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_options_answers_without_content_on_every_path(app, demo_ids):
    with TestClient(app, base_url=BASE_URL) as client:
        for row in ALL_ROWS.values():
            url = row.url.format(viola=demo_ids["viola"], elsa=demo_ids["elsa"])
            response = client.options(url)
            assert response.status_code == 204, (url, response.status_code)
            assert response.content == b""
