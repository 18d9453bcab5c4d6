"""The second authorization matrix: who acts for whom, at the age limits and for every kind
of representative (issue 11).

`tests/test_authorization_matrix.py` gives every route a row for a handful of personas.
This file takes the citizen routes that depend on who acts for whom from the app itself:
each handler's `acting_for(...)` dependency says which `Scope` it needs, `own_account()`
marks what is always the signed-in person's own, and the `requires_person` guard marks
the choice of person (/vem). A route added later (/ombud, /logg, /mina-uppgifter …) is
covered with the scope it declares; a citizen route whose scope cannot be read from the
app fails `test_every_citizen_route_declares_what_it_needs`.

The expectation for a representative who may use a route is the person's own answer:
the person themself asks first (status and redirect path), and a representative with
the right must get the same. Where the right does not cover the route: the 403 scope
page, which names what the right does cover, and nothing else of the person. Where the
right has ended (a birthday, an end date, a withdrawn proxy) or never was (invited but
not accepted, a stranger, a start date tomorrow): the plain "Du kan inte längre …" and
the representative's own matters, i.e. the answer they get for themselves. Staff and
anonymous visitors never reach a citizen route.

Each persona logs in through the real flow once per app; every request starts from a
fresh copy of that session (`become` in the first matrix). GET is sent bare; POST with
the page's CSRF token and `subject` and an otherwise empty form.
"""

from __future__ import annotations

import inspect
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import func
from sqlmodel import SQLModel, select

from portal.access import Scope
from portal.core.clock import Clock, zone_for
from portal.people.models import Person, ProxyInvitation, Representation
from portal.people.national_id import normalise
from portal.people.representation import ALL_SCOPES, SCOPE_WORDS, age_rules
from tests.conftest import BASE_URL, login
from tests.factories import (
    AVD12,
    SOC,
    VC,
    Who,
    db_run,
    decide_directly,
    new_person,
    new_staff,
    represent,
    today_in,
)
from tests.test_authorization_matrix import _csrf, _fresh_copy, _session_data

NO_ACCESS_H1 = "Du kan inte se den här sidan"
# The start of both explanations: "… för den personen." (an end date, a birthday) and
# "Viola har avslutat din fullmakt. Du kan inte längre använda tjänsten för Viola."
ENDED = "Du kan inte längre använda tjänsten för"
# Where a persona without a right may still read the person's NAME (never their plan): the
# invitation the person sent them, and their own data export, which lists the rights they
# have had for others (GDPR art. 15 covers that too).
NAME_IS_THEIR_BUSINESS = {("invited-not-accepted", "/"), ("invited-not-accepted", "/ombud"),
                          ("expired-proxy", "/mina-uppgifter/dokument"),
                          ("proxy-from-tomorrow", "/mina-uppgifter/dokument"),
                          ("invited-not-accepted", "/mina-uppgifter/dokument")}
REFUSED = "Du kan inte använda tjänsten för den personen."
NOTHING_SAVED = "Det du skickade sparades inte."  # portal.core.errors, a right ended
MADE_UP_ID = "AAAAAAAAAAAAAAAAAAAAAA"
ABROAD_UNIT = "fi-vasa-hs"

# Routes anyone may use that are not about a person (the first matrix has their rows),
# and prefixes that are not citizen routes at all.
PUBLIC = {"/kontakt", "/tillganglighet", "/kakor", "/sprak/{code:str}", "/healthz", "/livez", "/csp-rapport",
          "/utloggad", "/session-slut", "/session/forlang"}
# The FHIR API: staff systems with bearer tokens, never a citizen (tests/test_authorization_matrix.py API)
NOT_CITIZEN_PREFIXES = ("/personal", "/auth/", "/dev-idp/", "/static/", "/fhir/")
START = "/"

# How a citizen route declares whose it is.
SCOPED, OWN, CHOOSE, FRONT = "scoped", "own-account", "choose-person", "start"
THEMSELF = "themself"  # portal.access.themself(): the person only, never a representative


# --- the routes, from the app ------------------------------------------------------------


@dataclass(frozen=True)
class CitizenRoute:
    path: str
    method: str
    kind: str  # SCOPED, OWN, CHOOSE or FRONT
    scopes: frozenset[Scope] = frozenset()  # SCOPED: every one is needed (none: any right)

    @property
    def url(self) -> str:
        """A concrete URL: made-up opaque ids look the same as someone else's objects."""
        path = re.sub(r"\{[^}:]+:int\}", "1", self.path)
        return re.sub(r"\{[^}]+\}", MADE_UP_ID, path)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def _access_dependency(handler, maker: str):
    """The closure of the portal.access dependency made by `maker` ("acting_for" …), or None."""
    for provide in handler.resolve_dependencies().values():
        fn = getattr(provide, "dependency", None)
        if getattr(fn, "__module__", "") == "portal.access" and \
                getattr(fn, "__qualname__", "").startswith(f"{maker}.<locals>"):
            return inspect.getclosurevars(fn).nonlocals
    return None


def _guard_names(handler) -> set[str]:
    return {getattr(getattr(g, "func", g), "__name__", "") for g in handler.resolve_guards()}


def classify(path: str, handler) -> tuple[str, frozenset[Scope]] | None:
    """What a citizen route needs, read from its declaration; None if not a citizen route.

    Raises LookupError for a citizen route whose need cannot be read."""
    acting = _access_dependency(handler, "acting_for")
    if acting is not None:
        scope = acting.get("scope")
        scopes = (scope,) if isinstance(scope, Scope) else tuple(scope or ())
        if not all(isinstance(s, Scope) for s in scopes):
            raise LookupError(f"{path}: acting_for with {scope!r}")
        return SCOPED, frozenset(scopes)
    if _access_dependency(handler, "themself") is not None:
        return THEMSELF, frozenset()
    if _access_dependency(handler, "own_account") is not None:
        return OWN, frozenset()
    if path == START:
        return FRONT, frozenset()
    if path in PUBLIC or path.startswith(NOT_CITIZEN_PREFIXES):
        return None
    if "requires_person" in _guard_names(handler):
        return CHOOSE, frozenset()
    raise LookupError(f"{path}: a citizen route that declares neither acting_for(...) nor "
                      "own_account() nor the requires_person guard")


def citizen_routes(app) -> list[CitizenRoute]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            methods = sorted(m for m in handler.http_methods if m not in ("OPTIONS", "HEAD"))
            if not methods:
                continue
            need = classify(route.path, handler)
            if need is None:
                continue
            found += [CitizenRoute(route.path, m, *need) for m in methods]
    return sorted(found, key=lambda r: (r.path, r.method))


def staff_person_routes(app) -> list[tuple[str, bool]]:
    """(path, needs_consent) of every staff GET route that takes the person from the URL."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            made = _access_dependency(handler, "staff_subject")
            if made is not None and "GET" in handler.http_methods:
                found.append((route.path, bool(made["needs_consent"])))
    return sorted(found)


def test_every_citizen_route_declares_what_it_needs(app):
    routes = citizen_routes(app)  # raises for a route whose need cannot be read
    by_key = {(r.path, r.method): r for r in routes}
    # The routes of issue 2-10 are found with the scopes they declare.
    assert by_key[("/plan", "GET")].scopes == {Scope.PLAN_READ}
    assert by_key[("/samtycke", "POST")].scopes == {Scope.CONSENT}
    assert by_key[("/arenden/ny", "POST")].scopes == {Scope.REQUESTS}
    assert by_key[("/meddelanden/{thread_id:str}", "GET")].scopes == {Scope.MESSAGES}
    assert by_key[("/installningar", "POST")].kind == OWN
    assert by_key[("/ombud/bjud-in", "POST")].kind == THEMSELF
    assert by_key[("/vem", "POST")].kind == CHOOSE
    assert by_key[("/", "GET")].kind == FRONT
    scoped = {s for r in routes for s in r.scopes}
    assert scoped >= {Scope.PLAN_READ, Scope.CONSENT, Scope.REQUESTS, Scope.MESSAGES}
    assert ("/personal/personer/{person_id:str}", True) in staff_person_routes(app)


def test_a_citizen_route_without_a_declaration_is_noticed(app):
    """The discovery is not vacuous: a handler that reads the person without declaring
    `acting_for` fails, and the scope of a declared one is read, tuples too."""
    from litestar import get

    from portal.access import acting_for

    @get("/hemligt", sync_to_thread=False)
    def undeclared() -> str:
        return ""

    @get("/allt", dependencies={"subject": acting_for(tuple(Scope))}, sync_to_thread=False)
    def everything(subject: object) -> str:
        return ""

    with pytest.raises(LookupError):
        classify("/hemligt", undeclared)
    assert classify("/allt", everything) == (SCOPED, frozenset(Scope))


# --- the people -------------------------------------------------------------------------


@dataclass
class Persona:
    key: str
    login: Who | StaffLogin | None  # None: anonymous
    acts_for: Who | None = None  # chosen on /vem while the right was valid
    stale: Who | None = None  # the session says it acts for them; no valid right now
    scopes: frozenset[str] = frozenset()

    @property
    def staff(self) -> bool:
        return isinstance(self.login, StaffLogin)


@dataclass(frozen=True)
class StaffLogin:
    given_name: str
    has_consent: bool
    abroad: bool = False


@dataclass
class World:
    subject: Who  # an adult with a plan, consent for VC, care relations VC, SOC, AVD12
    plan_text: str
    personas: dict[str, Persona] = field(default_factory=dict)


_WORLDS: dict[str, World] = {}


def _publish_plan(client, subject: Who, text: str) -> None:
    from portal.people.models import StaffMember
    from portal.plans import services as plans

    writer = new_staff(client, VC)

    async def work(db):
        person = await db.get(Person, subject.id)
        staff = await db.get(StaffMember, writer.id)
        plan = await plans.create_plan(db, person, staff)
        plan = await plans.save_draft(db, plan, staff, plan.draft_revision, {"important": text})
        await plans.publish(db, plan, staff, plan.draft_revision)

    db_run(client, work)


def _invite(client, person: Who, invitee: Who) -> None:
    async def work(db):
        db.add(ProxyInvitation(person_id=person.id,
                               invitee_national_id=normalise(invitee.national_id, invitee.country),
                               invitee_country=invitee.country, scope=ALL_SCOPES,
                               idempotency_key=secrets.token_hex(16)))

    db_run(client, work)


def world(client) -> World:
    """The adult subject and everyone around them, made once per database."""
    made = _WORLDS.get(client.app.state.settings.database_url)
    if made is not None:
        return made
    subject = new_person(client, units=(VC, SOC, AVD12), prefix="Ms")
    decide_directly(client, subject.id, "give", (VC,))
    plan_text = f"Planmening {secrets.token_hex(4)} om att få sova ut"
    _publish_plan(client, subject, plan_text)
    made = World(subject, plan_text)
    today = today_in("SE")

    def person(prefix: str) -> Who:
        return new_person(client, prefix=prefix)

    # Two legal representatives whose appointments cover complementary halves of the scopes.
    halves = {"legal-a": frozenset({Scope.PLAN_READ, Scope.CONSENT}),
              "legal-b": frozenset(Scope) - {Scope.PLAN_READ, Scope.CONSENT}}
    for key, scopes in halves.items():
        legal = person("Mg")
        represent(client, legal, subject, "legal_representative",
                  scope=" ".join(s.value for s in scopes), appointment="god_man")
        made.personas[key] = Persona(key, legal, acts_for=subject,
                                     scopes=frozenset(s.value for s in scopes))
    for scope in Scope:
        proxy = person("Mp")
        represent(client, proxy, subject, "proxy", scope=scope.value)
        key = f"proxy-{scope.value}"
        made.personas[key] = Persona(key, proxy, acts_for=subject, scopes=frozenset({scope.value}))
    expired = person("Mx")
    represent(client, expired, subject, "proxy", valid_from=today - timedelta(days=60),
              valid_to=today - timedelta(days=1))
    made.personas["expired-proxy"] = Persona("expired-proxy", expired, stale=subject)
    future = person("Mf")
    represent(client, future, subject, "proxy", valid_from=today + timedelta(days=1))
    made.personas["proxy-from-tomorrow"] = Persona("proxy-from-tomorrow", future, stale=subject)
    invited = person("Mi")
    _invite(client, subject, invited)
    made.personas["invited-not-accepted"] = Persona("invited-not-accepted", invited,
                                                    stale=subject)
    stranger = person("Mo")
    made.personas["another-citizen"] = Persona("another-citizen", stranger, stale=subject)
    for key, code, consent, abroad in (("staff-with-consent", VC, True, False),
                                        ("staff-without-consent", SOC, False, False),
                                        ("staff-other-country", ABROAD_UNIT, False, True)):
        staff = new_staff(client, code)
        made.personas[key] = Persona(key, StaffLogin(staff.given_name, consent, abroad))
    made.personas["anonymous"] = Persona("anonymous", None)
    _WORLDS[client.app.state.settings.database_url] = made
    return made


# --- sessions and requests ---------------------------------------------------------------


@dataclass
class Session:
    """A signed-in browser session to copy for each request, and its forms' hidden fields."""

    data: dict
    fields: dict[str, str]


def sign_in(client: TestClient, persona: Persona) -> tuple[Session, Session | None]:
    """Log in as `persona` through the real flow; the session acting as the persona does,
    and (for a stale persona) the same person's session for themself."""
    client.cookies.clear()
    if persona.login is None:
        fields = _csrf(client.get("/auth/login/citizen").text)
        return Session(_session_data(client), fields), None
    if persona.staff:
        assert login(client, persona.login.given_name, "staff").status_code == 303
    else:
        assert login(client, persona.login.given_name, "citizen").status_code == 303
    if persona.acts_for is not None:
        chosen = client.post("/vem", data={**_csrf(client.get("/").text),
                                           "person": persona.acts_for.id},
                             follow_redirects=False)
        assert (chosen.status_code, chosen.headers.get("location")) == (303, "/"), persona.key
    fields = _csrf(client.get("/").text)
    data = _session_data(client)
    data.pop("flashes", None)
    if persona.acts_for is not None:
        assert fields.get("subject") == persona.acts_for.id
    if persona.stale is None:
        return Session(data, fields), None
    # The session still names the person, as if it had been chosen while a right was valid.
    return Session({**data, "acting_for": persona.stale.id}, fields), Session(data, fields)


def send(client: TestClient, session: Session, route: CitizenRoute, fields=None):
    _fresh_copy(client, session.data)
    if route.method == "GET":
        return client.get(route.url, follow_redirects=False)
    return client.request(route.method, route.url, data=fields or session.fields,
                          follow_redirects=False)


def outcome(response) -> tuple[int, str]:
    """What is compared: the status and where a redirect goes (without its query)."""
    return response.status_code, urlparse(response.headers.get("location", "")).path


def h1(response) -> str:
    soup = BeautifulSoup(response.text, "html.parser")
    return " ".join(soup.h1.get_text(" ").split()) if soup.h1 else ""


def is_html(response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


_REFERENCES: dict[tuple, dict[tuple[str, str], tuple[int, str]]] = {}


def references(client: TestClient, who: Who, routes: list[CitizenRoute], at: datetime | None,
               session: Session | None = None, *, refused: frozenset[tuple[str, str]] = frozenset()
               ) -> dict[tuple[str, str], tuple[int, str]]:
    """What `who` gets on each route for themself (signed in as themself, or `session`).
    Only the routes in `refused` may refuse them (a child does not answer about consent
    when a guardian does)."""
    key = (client.app.state.settings.database_url, who.id, at, session is not None)
    cached = _REFERENCES.get(key)
    if cached is not None and all((r.path, r.method) in cached for r in routes):
        return cached
    if session is None:
        session, _ = sign_in(client, Persona("self", who))
    with clock_at(client, at):
        got = {(r.path, r.method): outcome(send(client, session, r)) for r in routes}
    for (path, method), (status, _) in got.items():
        assert status < 500 and (status != 403 or (path, method) in refused), \
            f"{who.given_name} themself: {method} {path} gives {status}"
    _REFERENCES[key] = got
    return got


class clock_at:
    """Set the app's clock for a block, and set it back."""

    def __init__(self, client: TestClient, instant: datetime | None) -> None:
        self.clock: Clock = client.app.state.clock
        self.instant = instant

    def __enter__(self):
        self.saved = self.clock._frozen_at
        if self.instant is not None:
            self.clock.travel_to(self.instant)

    def __exit__(self, *exc):
        self.clock.travel_to(self.saved)


# --- what is checked on each answer -------------------------------------------------------


def expect_allowed(response, route, reference, subject: Who, where: str, failures: list) -> None:
    """The person's own answer; where the person themself is refused (a child, where the
    guardian decides), at least not refused."""
    if reference[0] == 403:
        if response.status_code == 403 or response.status_code >= 500:
            failures.append(f"{where}: got {outcome(response)}")
    elif outcome(response) != reference:
        failures.append(f"{where}: got {outcome(response)}, the person themself "
                        f"gets {reference}")
        return
    if is_html(response) and response.status_code == 200:
        banner = BeautifulSoup(response.text, "html.parser").select_one(".acting-banner")
        if banner is None or subject.name not in banner.get_text(" "):
            failures.append(f"{where}: no 'Du använder tjänsten för {subject.name}'")


def expect_out_of_scope(response, persona: Persona, world: World, where: str,
                        failures: list) -> None:
    subject = world.subject
    if response.status_code != 403:
        failures.append(f"{where}: expected the 403 scope page, got {outcome(response)}")
        return
    heading = h1(response)
    if heading != f"Det här kan du inte göra för {subject.given_name}":
        failures.append(f"{where}: heading {heading!r}")
    text = BeautifulSoup(response.text, "html.parser").main.get_text(" ")
    for scope in Scope:
        said = SCOPE_WORDS[scope] in text
        if said != (scope.value in persona.scopes):
            failures.append(f"{where}: the page {'says' if said else 'does not say'} "
                            f"{SCOPE_WORDS[scope]!r}")
    if world.plan_text in response.text:
        failures.append(f"{where}: the plan text is shown")


def expect_nothing_of(response, who: Who, extra: tuple[str, ...], where: str,
                      failures: list, *, by_id: bool = True) -> None:
    """Neither the person's name, national id nor (`by_id`: unless the URL named it) their
    id, nor any of `extra`."""
    for secret in (who.given_name, who.national_id, *((who.id,) if by_id else ()), *extra):
        if secret in response.text:
            failures.append(f"{where}: shows {secret!r} of the person")


def expect_ended(client, response, route, own_reference, where: str, failures: list) -> None:
    """The right is gone: the representative's own answer, and the plain explanation on
    this page or the next one."""
    if outcome(response) != own_reference:
        failures.append(f"{where}: got {outcome(response)}, for themself they get "
                        f"{own_reference}")
    if ENDED not in response.text and ENDED not in client.get("/").text:
        failures.append(f"{where}: no {ENDED!r}")


# --- the matrix ---------------------------------------------------------------------------

ACTING = ["legal-a", "legal-b", *(f"proxy-{s.value}" for s in Scope)]
NEVER_OR_NO_LONGER = ["expired-proxy", "proxy-from-tomorrow", "invited-not-accepted",
                      "another-citizen"]
OUTSIDERS = ["staff-with-consent", "staff-without-consent", "staff-other-country", "anonymous"]


def test_a_representative_acts_within_their_scope(app):
    """Legal representatives in and out of the appointment's scope, and a proxy with
    exactly one scope, for each scope: the person's own answer where the right covers
    the route, the 403 scope page where it does not."""
    failures: list[str] = []
    with TestClient(app, base_url=BASE_URL) as client:
        w = world(client)
        routes = citizen_routes(app)
        reference = references(client, w.subject, routes, None)
        for key in ACTING:
            persona = w.personas[key]
            _acting_rows(client, persona, w, routes, reference, failures)
    assert not failures, "\n".join(failures)


def _acting_rows(client, persona: Persona, w: World, routes, reference, failures) -> None:
    key = persona.key
    session, _ = sign_in(client, persona)
    for route in routes:
        response = send(client, session, route)
        where = f"{key} {route}"
        covered = all(s.value in persona.scopes for s in route.scopes)
        if route.kind in (SCOPED, FRONT) and covered:
            expect_allowed(response, route, reference[(route.path, route.method)],
                           w.subject, where, failures)
        elif route.kind == SCOPED:
            expect_out_of_scope(response, persona, w, where, failures)
        elif route.kind == THEMSELF:  # no right covers giving rights away
            if response.status_code != 403:
                failures.append(f"{where}: {outcome(response)}, not refused")
        else:  # what is the representative's own (settings, the choice of person)
            if response.status_code >= 500 or response.status_code in (401, 403):
                failures.append(f"{where}: {outcome(response)}")


def test_no_valid_right_means_nothing_of_the_person(app):
    """An expired proxy, one that starts tomorrow, an invitation not yet accepted, and a
    stranger: they cannot choose the person on /vem, and a session that names the person
    anyway gets the plain explanation and their own matters, never the person's."""
    failures: list[str] = []
    with TestClient(app, base_url=BASE_URL) as client:
        w = world(client)
        routes = citizen_routes(app)
        for key in NEVER_OR_NO_LONGER:
            _no_right_rows(client, w.personas[key], w, routes, failures)
    assert not failures, "\n".join(failures)


def _no_right_rows(client, persona: Persona, w: World, routes, failures) -> None:
    key = persona.key
    session, own = sign_in(client, persona)
    _fresh_copy(client, own.data)
    chosen = client.post("/vem", data={**own.fields, "person": w.subject.id},
                         follow_redirects=False)
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/vem"), key
    after = client.get("/vem")
    assert REFUSED in after.text and w.subject.given_name not in after.text, key
    assert "acting_for" not in _session_data(client), key
    own_reference = references(client, persona.login, routes, None, session=own)
    for route in routes:
        response = send(client, session, route, fields=own.fields)
        where = f"{key} {route}"
        expect_ended(client, response, route, own_reference[(route.path, route.method)],
                     where, failures)
        if (key, route.url) in NAME_IS_THEIR_BUSINESS and route.method == "GET":
            if w.plan_text in response.text:
                failures.append(f"{where}: the plan text is shown")
            continue
        expect_nothing_of(response, w.subject, (w.plan_text,), where, failures)


def test_staff_and_visitors_never_reach_a_citizen_route(app):
    """Staff (with consent, without, in the other country) get the plain 403 on every
    citizen route; an anonymous visitor is sent to the start page to log in. On staff
    routes that take the person from the URL, only a unit with consent gets through
    where consent is needed, and the other country's unit nowhere."""
    failures: list[str] = []
    with TestClient(app, base_url=BASE_URL) as client:
        w = world(client)
        routes = citizen_routes(app)
        for key in OUTSIDERS:
            _outsider_rows(client, w.personas[key], w, routes, failures)
    assert not failures, "\n".join(failures)


def _outsider_rows(client, persona: Persona, w: World, routes, failures) -> None:
    key = persona.key
    session, _ = sign_in(client, persona)
    for route in routes:
        response = send(client, session, route)
        where = f"{key} {route}"
        if route.kind == FRONT:
            expected = (200, "")
        elif persona.login is None:
            expected = (303, "/")
        else:
            expected = (403, "")
        if outcome(response) != expected:
            failures.append(f"{where}: got {outcome(response)}, expected {expected}")
        elif expected[0] == 403 and h1(response) != NO_ACCESS_H1:
            failures.append(f"{where}: heading {h1(response)!r}")
        expect_nothing_of(response, w.subject, (w.plan_text,), where, failures)
    if persona.staff:
        for path, needs_consent in staff_person_routes(client.app):
            url = path.replace("{person_id:str}", w.subject.id)
            url = re.sub(r"\{[^}]+\}", MADE_UP_ID, url)
            _fresh_copy(client, session.data)
            response = client.get(url, follow_redirects=False)
            refused = persona.login.abroad or (needs_consent and not persona.login.has_consent)
            where = f"{key} GET {path}"
            if refused and response.status_code != 403:
                failures.append(f"{where}: expected 403, got {response.status_code}")
            if not refused and (response.status_code in (401, 403) or response.status_code >= 500):
                failures.append(f"{where}: got {response.status_code}")
            if refused:  # the id is in the URL the staff member typed, nothing more
                expect_nothing_of(response, w.subject, (w.plan_text,), where, failures,
                                  by_id=False)


# --- guardians at the age limit ------------------------------------------------------------


def _birthday_soon(country: str, years: int) -> tuple[date, date]:
    """(birth date, the birthday on which the child turns `years`), two days from now in
    the child's zone, so that the guardian may still choose the child today."""
    day = today_in(country) + timedelta(days=2)
    if (day.month, day.day) == (2, 29):
        day += timedelta(days=1)
    return day.replace(year=day.year - years), day


@pytest.mark.parametrize("country", ["SE", "FI"])
def test_a_guardian_acts_until_the_child_reaches_the_age_limit(app, country):
    """A guardian of a child one minute before the birthday the age limit names
    (Settings.age_rules, at 23:59 in the child's own zone) acts for the child on every
    route; at 00:00 on the birthday the right is gone on the next request: the plain
    explanation and the guardian's own matters, nothing of the child."""
    limit = age_rules().guardian_age_limit(country)
    zone = zone_for(country)
    failures: list[str] = []
    with TestClient(app, base_url=BASE_URL) as client:
        born, birthday = _birthday_soon(country, limit)
        units = (VC, SOC) if country == "SE" else (ABROAD_UNIT, "fi-vasa-soc")
        child = new_person(client, country=country, born=born, units=units, prefix="Mc")
        guardian = new_person(client, country=country, prefix="Mg")
        represent(client, guardian, child, "guardian", valid_from=born)
        before = datetime.combine(birthday - timedelta(days=1), time(23, 59), zone)
        at = datetime.combine(birthday, time(0, 0), zone)
        assert at - before == timedelta(minutes=1)
        routes = citizen_routes(app)
        persona = Persona("guardian", guardian, acts_for=child, scopes=frozenset(ALL_SCOPES.split()))
        session, _ = sign_in(client, persona)
        own = Session({k: v for k, v in session.data.items() if k != "acting_for"},
                      {**session.fields, "subject": guardian.id})
        # Guardians answer about consent for a child; the child does not.
        # A child gives no fullmakt either (under 18): the invitation's POSTs refuse them.
        child_reference = references(client, child, routes, before,
                                     refused=frozenset({("/samtycke", "POST"),
                                                        ("/ombud/bjud-in", "POST"),
                                                        ("/ombud/bjud-in/bekrafta", "POST")}))
        with clock_at(client, before):
            for route in routes:
                response = send(client, session, route)
                where = f"{country} guardian, child {limit - 1}, {route}"
                if route.kind in (SCOPED, FRONT):
                    expect_allowed(response, route, child_reference[(route.path, route.method)],
                                   child, where, failures)
                elif route.kind == THEMSELF:  # a guardian gives no rights away for the child
                    if response.status_code != 403:
                        failures.append(f"{where}: {outcome(response)}, not refused")
                elif response.status_code >= 500 or response.status_code in (401, 403):
                    failures.append(f"{where}: {outcome(response)}")
        own_reference = references(client, guardian, routes, at, session=own)
        with clock_at(client, at):
            for route in routes:
                response = send(client, session, route, fields=own.fields)
                where = f"{country} guardian, child {limit}, {route}"
                expect_ended(client, response, route, own_reference[(route.path, route.method)],
                             where, failures)
                if route.url == "/mina-uppgifter/dokument":
                    continue  # their own export lists the guardianship they had (art. 15)
                expect_nothing_of(response, child, (), where, failures)
    assert not failures, "\n".join(failures)


# --- a proxy ended while they use the service ----------------------------------------------


def _rows_about(client, person_id: str) -> dict[str, int]:
    """How many rows every table with a person_id holds for the person."""
    async def work(db):
        counts = {}
        for table in SQLModel.metadata.sorted_tables:
            if "person_id" in table.c:
                counts[table.name] = (await db.exec(
                    select(func.count()).select_from(table)
                    .where(table.c.person_id == person_id))).one()
        return counts

    return db_run(client, work)


def _end(client, representation_id: str) -> None:
    async def work(db):
        rep = await db.get(Representation, representation_id)
        rep.ended_at = client.app.state.clock.now()
        rep.ended_by = rep.represented_id

    db_run(client, work)


def test_a_proxy_ended_mid_session_sees_the_explanation_and_saves_nothing(app):
    """Signed in and acting; then the person ends the proxy (`ended_at` in the database).
    The next GET and the next POST (with the fields of the page shown before) both give the
    plain explanation, and nothing is saved."""
    with TestClient(app, base_url=BASE_URL) as client:
        w = world(client)
        proxy = new_person(client, prefix="Mr")
        rep_id = represent(client, proxy, w.subject, "proxy")
        session, _ = sign_in(client, Persona("ended", proxy, acts_for=w.subject))
        _fresh_copy(client, session.data)
        form_page = client.get("/meddelanden/ny")
        assert form_page.status_code == 200 and w.subject.name in form_page.text
        old_fields = _csrf(form_page.text)
        assert old_fields["subject"] == w.subject.id
        acting = _session_data(client)
        plan = client.get("/plan")
        assert w.plan_text in plan.text
        _end(client, rep_id)
        before = _rows_about(client, w.subject.id)

        # The next GET.
        _fresh_copy(client, acting)
        response = client.get("/plan")
        assert ENDED in response.text
        # The explanation names who ended it (the proxy knows them); nothing else of theirs.
        assert w.plan_text not in response.text
        assert f"{w.subject.given_name} har avslutat din fullmakt." in response.text
        assert "acting_for" not in _session_data(client)

        # The next POST, from the page shown while the right was valid.
        _fresh_copy(client, acting)
        posted = client.post("/meddelanden/ny",
                             data={**old_fields, "unit": "", "subject_line": "Hej",
                                   "body": "Det här får inte sparas."},
                             follow_redirects=False)
        assert posted.status_code == 303
        shown = client.get(posted.headers["location"])
        assert ENDED in shown.text and NOTHING_SAVED in shown.text
        assert w.plan_text not in shown.text
        after = _rows_about(client, w.subject.id)
        assert {t: n for t, n in after.items() if t != "audit_event"} == \
               {t: n for t, n in before.items() if t != "audit_event"}
        assert "Det här får inte sparas." not in shown.text
