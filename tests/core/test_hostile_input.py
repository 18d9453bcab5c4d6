"""Hostile input on every route: whatever is sent, the answer is never a 5xx.

Every (path, method) in the app's route table (`app.routes`, the same table as
the authorization matrix) is driven by Hypothesis as each persona (anonymous,
Viola, Johan acting for Viola, Anna of Kalmar vårdcentral) with generated
values for every path parameter, for the query parameters the portal reads
(and random ones), and, for POST, for the fields of the forms the pages show
for that route (and random ones), always with a valid CSRF token. The forms are
found by a crawl per persona that follows links from START_PAGES;
test_every_form_is_found names the POST routes it does not reach, and why. Values are
either ones the pages offer (ids, choices, the current revision …) or hostile:
any Unicode with NUL and right-to-left marks, very long text, huge and
negative numbers, odd dates and times.

The module has its own database (demo people, Viola consenting for Anna's
unit and a published plan with a follow-up), since the forms really save: no
other test sees what it writes. Sessions are restored from a snapshot before
every example, so a logout, a person switch or a language choice in one
example does not change the persona of the next. About 40 examples per route;
it runs on SQLite and, with PORTAL_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlmodel import select

from portal.auth.dev_idp import AUTH_PARAMS
from portal.auth.sessions import cookie_name
from portal.config import Settings
from portal.core.migrate import upgrade
from portal.people.demo import load_demo
from portal.plans.forms import SECTION_NAMES
from tests.conftest import BASE_URL, PG_ENV, _postgres_database, build_app, login, run_db
from tests.test_authorization_matrix import ALL_ROWS

ANON, CITIZEN, REPRESENTATIVE, STAFF = "anonymous", "citizen", "representative", "staff"
PERSONAS = (ANON, CITIZEN, REPRESENTATIVE, STAFF)
ROUTES = sorted(ALL_ROWS)  # checked against app.routes in test_every_route_is_driven
EXAMPLES = 40
FRESH = object()  # "the value this field has on its page right now" (revision, keys)

QUERY_NAMES = ("ordning", "next", "revision", "publicerad", "reauth", "code", "state", "iss",
               "error", "id_token_hint", "post_logout_redirect_uri", *AUTH_PARAMS)
EXTRA_FIELDS = ("revision", "seen_seq", "idempotency_key", "subject", "person", "item", "date",
                "time", "start", "end", "evaluation", "text", "section", "next", "reason",
                "grant_type", "code", "redirect_uri", "code_verifier", "client_id",
                "client_secret", "who", "action", *AUTH_PARAMS)

# --- generated values -----------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=("Cs",))  # any code point a browser can send
SPECIAL = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "ÅÄÖåäö",
    "١٢٣", "𝟙𝟚", "０", "%00", "../../etc/passwd", "/\\evil.example", "//evil.example",
    "<script>", "' OR 1=1 --", "\r\nSet-Cookie: x=y", "A" * 5000, "€" * 3000, "true", "false",
    "-1", "0", "1", "2147483647", "2147483648", "9223372036854775808",
    "999999999999999999999999999999", "1e309", "NaN", "0001-01-01", "9999-12-31",
    "2026-02-30", "2026-13-01", "20261123", "2026-W47-1", "+2026-11-23", "24:00", "23:60",
    "14:30:00", "14.30", "25:99", "99999-01-01",
])
TEXT = st.one_of(SPECIAL, st.text(ANY_CHAR, max_size=40), st.text(ANY_CHAR, min_size=200,
                                                                  max_size=600))
NUMBER = st.one_of(st.integers(), st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63, 10**30]))
DATES = st.one_of(st.dates(), st.dates(date(1990, 1, 1), date(2110, 1, 1))).map(date.isoformat)
TIMES = st.times().map(lambda t: t.strftime((t.microsecond % 2 and "%H:%M:%S") or "%H:%M"))
HOSTILE = st.one_of(TEXT, NUMBER.map(str), DATES, TIMES)
NAME = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1,
               max_size=12)


EDGE_INTS = st.sampled_from([0, -1, 2**31, 2**63, 10**20, 10**30]).map(str)
# Tried for every path parameter, as every persona, before the generated examples.
EDGES = ("a\x00b", "A" * 300, "\u202e\u05e9", " ", "0", "-1", str(2**63), str(10**30))


def _path_value(data, name: str, kind: str, good: list[str]) -> str:
    """A value for a path parameter of Litestar type `kind` (str, int, path): three
    times in four one that exists (when there is one), else a hostile one: an edge
    number, a known troublemaker (NUL, RTL, very long …) or anything."""
    if good and data.draw(st.integers(0, 3), label=f"good {name}"):
        return data.draw(st.sampled_from(good), label=name)
    which = data.draw(st.integers(0, 2), label=f"hostile {name}")
    strategy = [EDGE_INTS, SPECIAL, NUMBER.map(str) if kind == "int" else TEXT][which]
    return data.draw(strategy, label=name)


# --- the module's own database, app and personas --------------------------------------


@pytest.fixture(scope="module")
def hostile_url(database_url, tmp_path_factory):
    """A fresh, migrated database of the same kind as `database_url`, with the demo people."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'portal.db'}"
        upgrade(url)
        run_db(url, load_demo)
        yield url
        return
    for url in _postgres_database(os.environ[PG_ENV]):
        upgrade(url)
        run_db(url, load_demo)
        yield url


@pytest.fixture(scope="module")
def app(hostile_url, dev_key_file):
    return build_app(Settings(base_url=BASE_URL, database_url=hostile_url, session_dir=":memory:",
                              allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                              login_rate_limit=10**6))


@dataclass
class Form:
    page: str  # the URL of the page that shows it
    action: str = ""  # the path it is sent to
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values offered


@dataclass
class World:
    client: TestClient
    cookie: str
    sessions: dict[str, tuple[str, dict]]  # persona -> (session id, session data)
    known: dict[str, list[str]]  # path parameter name -> good values
    forms: dict[tuple[str, str], list[tuple[str, Form]]]  # route -> [(persona, form)]


async def _viola_has_a_plan(db) -> dict[str, list[str]]:
    """Viola consents for Kalmar vårdcentral and has an open, published plan with a
    follow-up (made again if an example withdrew or closed them); return good values
    for path parameters (ids that exist)."""
    from portal.consent.models import ConsentAct
    from portal.people.models import Person
    from tests.factories import viola_with_plan

    viola, plan = await viola_with_plan(db)
    people = [p.id for p in (await db.exec(select(Person))).all()]
    acts = (await db.exec(select(ConsentAct))).all()
    return {"person_id": [viola.id, *people[:5]], "plan_id": [plan.id],
            "act_id": [a.id for a in acts[:5]],
            "wording_id": [a.wording_id for a in acts if a.wording_id][:5],
            "number": ["1", "2"], "section": list(SECTION_NAMES), "kind": ["citizen", "staff"],
            "code": ["sv", "sv-FI", "sv_FI", "fi"],
            "file_path": ["css/portal.css", "js/portal.js", "css/../css/portal.css"]}


async def _in_app_db(app, work):
    async with app.state.sessionmaker() as db:
        result = await work(db)
        await db.commit()  # services only flush: the request's policy commits
        return result


def _route_pattern(template: str) -> re.Pattern:
    """A regex for the path template, with a named group per parameter."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join(f"(?P<{p[1:].split(':')[0]}>[^/]+)" if p.startswith("{")
                              else re.escape(p) for p in parts) + "$")


def _read_forms(html: str, page: str) -> list[tuple[str, str, Form]]:
    """(method, action path, form) for every form on the page."""
    found = []
    for node in BeautifulSoup(html, "html.parser").find_all("form"):
        action = urlsplit(node.get("action") or page).path
        form = Form(page, action)
        for field_node in node.find_all(["input", "select", "textarea", "button"]):
            name = field_node.get("name")
            if not name:
                continue
            values = form.fields.setdefault(name, [])
            if field_node.name == "select":
                values += [o.get("value", o.get_text()) for o in field_node.find_all("option")]
            elif field_node.name == "textarea":
                values.append(field_node.get_text())
            elif field_node.get("value") is not None:
                values.append(field_node["value"])
        found.append(((node.get("method") or "get").upper(), action, form))
    return found


def _become(client: TestClient, persona: str, viola_id: str) -> None:
    client.cookies.clear()
    if persona == ANON:
        assert client.get("/auth/login/citizen").status_code == 200  # a session, a token
        return
    who = {CITIZEN: "viola", STAFF: "anna", REPRESENTATIVE: "johan"}[persona]
    assert login(client, who).status_code == 303
    if persona == REPRESENTATIVE:
        token = BeautifulSoup(client.get("/").text, "html.parser").select_one(
            'input[name="csrf_token"]')["value"]
        chosen = client.post("/vem", data={"csrf_token": token, "person": viola_id},
                             follow_redirects=False)
        assert chosen.status_code == 303


@pytest.fixture(scope="module")
def world(app) -> World:
    store = app.state.store
    name = cookie_name(app.state.settings)
    patterns = {route: _route_pattern(route[0]) for route in ROUTES}
    with TestClient(app, base_url=BASE_URL) as client:
        known = client.blocking_portal.call(_in_app_db, app, _viola_has_a_plan)
        viola = known["person_id"][0]
        sessions: dict[str, tuple[str, dict]] = {}
        forms: dict[tuple[str, str], list[tuple[str, Form]]] = {}
        for persona in PERSONAS:
            _become(client, persona, viola)
            for page, html in _crawl(client, [*START_PAGES, f"/personal/personer/{viola}"]):
                for method, action, form in _read_forms(html, page):
                    for route, pattern in patterns.items():
                        if route[1] == method and pattern.match(action):
                            forms.setdefault(route, []).append((persona, form))
            sid = client.cookies.get(name)
            raw = client.blocking_portal.call(store.get, f"session:{sid}")
            sessions[persona] = (sid, json.loads(raw))
        yield World(client, name, sessions, known, forms)


# Where each persona's crawl starts; it follows the links from there (_crawl).
START_PAGES = ("/", "/vem", "/samtycke", "/samtycke/historik", "/plan", "/plan/versioner",
               "/arenden", "/arenden/ny", "/meddelanden", "/meddelanden/ny", "/installningar",
               "/ombud", "/ombud/bjud-in", "/logg", "/mina-uppgifter", "/personal/personer",
               "/personal/inkorg", "/personal/lix", "/auth/login/citizen", "/auth/login/staff")
# Links not followed: they log in or out, switch the language or leave the portal's pages.
NOT_FOLLOWED = ("/auth/", "/sprak/", "/dev-idp/", "/static/", "/session-slut", "/utloggad")
CRAWL_LIMIT = 120  # pages per persona


def _crawl(client: TestClient, start: list[str]) -> list[tuple[str, str]]:
    """(page URL, HTML) of the pages reachable by links from `start`, breadth first, at
    most CRAWL_LIMIT; only 200 HTML answers are kept and followed. Start pages are
    fetched even when under NOT_FOLLOWED (the login pages show the provider's forms)."""
    queue, seen, pages = list(start), set(start), []
    while queue and len(pages) < CRAWL_LIMIT:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            continue
        final = urlsplit(str(response.url))
        page = final.path + (f"?{final.query}" if final.query else "")
        pages.append((page, response.text))
        for link in BeautifulSoup(response.text, "html.parser").find_all("a", href=True):
            target = urlsplit(link["href"])
            if target.netloc not in ("", "testserver.local") or not target.path.startswith("/"):
                continue
            if target.path.startswith(NOT_FOLLOWED) or target.path in seen:
                continue
            seen.add(target.path)
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


def _restore(world: World, persona: str) -> dict:
    """Put the persona's session back as it was after login; return its data."""
    sid, data = world.sessions[persona]
    data = {**data, "_seen": time.time()}
    world.client.cookies.clear()
    world.client.cookies.set(world.cookie, sid)
    world.client.blocking_portal.call(world.client.app.state.store.set, f"session:{sid}",
                                      json.dumps(data), 3600)
    return data


def _fresh_value(world: World, form: Form, name: str) -> str | None:
    """The value the field has on its page now (a revision or key that moved on)."""
    response = world.client.get(form.page)
    for _, action, now in _read_forms(response.text, form.page):
        if action == form.action and now.fields.get(name):
            return now.fields[name][0]
    return None


# --- the tests ------------------------------------------------------------------------


def test_every_route_is_driven(app):
    served = {(route.path, method) for route in app.routes for method in route.methods
              if method != "OPTIONS"}
    assert served == set(ROUTES)


def test_a_new_route_would_not_be_driven_unnoticed(app):
    """test_every_route_is_driven is not vacuous: a route missing from ROUTES is noticed."""
    served = {(route.path, method) for route in app.routes for method in route.methods
              if method != "OPTIONS"}
    assert ("/ombud/bjud-in", "POST") in served
    assert served - (set(ROUTES) - {("/ombud/bjud-in", "POST")}) == {("/ombud/bjud-in", "POST")}


# POST routes that no page shows a form for, and why; all others are driven with the
# fields of a real form (test_every_form_is_found).
NO_FORM = {
    ("/dev-idp/token", "POST"): "OAuth clients post it (the portal's own login), no page",
    ("/csp-rapport", "POST"): "browsers post JSON reports to it (tests/core/test_csp_report.py)",
    ("/fhir/R4/token", "POST"): "staff systems post SMART token requests (tests/fhir/), no page",
    ("/fhir/R4/Consent/_search", "POST"): "staff systems search with a bearer token, no page "
                                          "(tests/fhir/test_read.py)",
    ("/fhir/R4/CarePlan/_search", "POST"): "staff systems search with a bearer token, no page "
                                           "(tests/fhir/test_read.py)",
    ("/fhir/R4", "POST"): "staff systems post FHIR transaction Bundles with a bearer token "
                          "(tests/fhir/test_publish.py), no page",
}


# Known gaps: POST routes whose form the crawls do not reach yet, so they are driven with
# generated fields only (and the path edges). The list may only shrink: a route here
# whose form is found fails test_every_form_is_found until it is removed.
_WIZARD = "a later step of a wizard: its form is shown only after the previous step's POST"
NOT_REACHED = {
    ("/arenden/ny/vad", "POST"): _WIZARD,
    ("/arenden/ny/vilka", "POST"): _WIZARD,
    ("/arenden/ny/samtycke", "POST"): _WIZARD,
    ("/arenden/ny/kontakt", "POST"): _WIZARD,
    ("/arenden/ny/kontrollera", "POST"): _WIZARD,
    ("/ombud/bjud-in/bekrafta", "POST"): _WIZARD,
    ("/ombud/inbjudningar/{invitation_id:str}", "POST"): "needs an open invitation to the persona",
    ("/ombud/inbjudningar/{invitation_id:str}/ta-tillbaka", "POST"): "needs an open invitation "
                                                                     "from the persona",
    ("/personal/arenden/{request_id:str}/oppna", "POST"): "needs a closed request",
    ("/personal/meddelanden/{thread_id:str}", "POST"): "needs a thread the staff persona answers",
    ("/personal/personer/{person_id:str}/plan", "POST"): "the new-plan form shows only for a "
                                                         "person without a plan",
    ("/personal/lix", "POST"): "posted by htmx from a field of the plan editor, not by a form",
}


def test_every_form_is_found(world):
    """Every POST route is driven with the fields of a form a page really shows (found by
    the personas' crawls), so the examples get past field checks into the service; the
    exceptions are named, with the reason, in NO_FORM and NOT_REACHED."""
    posts = {route for route in ROUTES if route[1] == "POST"}
    assert set(NO_FORM) | set(NOT_REACHED) <= posts, "a route named here is gone from the app"
    without = sorted(posts - set(world.forms) - set(NO_FORM) - set(NOT_REACHED))
    assert not without, f"POST routes whose form no persona's crawl found: {without}"
    now_found = sorted(set(NOT_REACHED) & set(world.forms))
    assert not now_found, f"found now, remove from NOT_REACHED: {now_found}"


@pytest.mark.parametrize(("path", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_no_input_makes_a_server_error(world, path, method):
    params = re.findall(r"\{(\w+):(\w+)\}", path)
    forms = world.forms.get((path, method), [])
    with_forms = sorted({who for who, _ in forms})
    extra_names = sorted(set(EXTRA_FIELDS) - {name for _, form in forms for name in form.fields})
    pattern = _route_pattern(path)
    good: dict[str, list[str]] = {name: [] for name, _ in params}
    for _, form in forms:  # the ids and sections the pages send this route
        for name, value in pattern.match(form.action).groupdict().items():
            good[name] += [value] * 3

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def drive(data):
        # Mostly someone who is shown the form, with its own action, so that it gets far.
        mostly = with_forms and data.draw(st.integers(0, 3), label="shown the form")
        persona = data.draw(st.sampled_from(with_forms if mostly else PERSONAS), label="persona")
        known = world.client.blocking_portal.call(_in_app_db, world.client.app,
                                                  _viola_has_a_plan)
        session = _restore(world, persona)
        form = Form(path)
        if method == "POST" and forms:
            mine = [form for who, form in forms if who == persona] or [f for _, f in forms]
            form = data.draw(st.sampled_from(mine), label="form")
        as_sent = pattern.match(form.action).groupdict() if form.action else {}
        url = path
        for name, kind in params:
            if name in as_sent and data.draw(st.integers(0, 3), label=f"as sent {name}"):
                value = as_sent[name]
            else:
                value = _path_value(data, name, kind, good[name] + known.get(name, []))
            encoded = quote(value, safe="/") if kind == "path" else quote(value, safe="")
            url = url.replace(f"{{{name}:{kind}}}", encoded)
        query = data.draw(st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), NAME),
                                             st.one_of(HOSTILE, st.sampled_from(
                                                 ["datum", "enhet", "true", "1", "/kontakt"]))),
                                   max_size=4), label="query")
        if query:  # each value cut at 1000 characters: httpx refuses URLs over 64 kB
            url += "?" + urlencode([(k[:1000], v[:1000]) for k, v in query])
        headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
        kwargs: dict = {"headers": headers, "follow_redirects": False}
        if method == "POST":
            body: dict[str, object] = {}
            for name in [*form.fields, *extra_names]:
                # The form's own fields mostly; other names now and then.
                if not data.draw(st.integers(0, 9), label=f"send {name}") < (
                        8 if name in form.fields else 1):
                    continue
                offered = sorted({v for v in form.fields.get(name, []) if v})
                usual = st.sampled_from([*offered, FRESH]) if offered else HOSTILE
                shape = data.draw(st.integers(0, 5), label=f"shape of {name}")
                value = data.draw(HOSTILE if shape == 0 else st.lists(
                    st.one_of(usual, HOSTILE), min_size=2, max_size=3) if shape == 1 else usual,
                    label=name)
                if isinstance(value, list):
                    value = [_fresh_value(world, form, name) or "" if v is FRESH else v
                             for v in value]
                elif value is FRESH:
                    value = _fresh_value(world, form, name) or ""
                body[name] = value
            for name, value in data.draw(st.dictionaries(NAME, HOSTILE, max_size=3),
                                         label="random fields").items():
                body.setdefault(name, value)
            body["csrf_token"] = session.get("csrf", "")
            kwargs["data"] = body
            if data.draw(st.booleans(), label="multipart"):
                kwargs["files"] = {"upload": ("a.txt", b"\x00\xff", "application/octet-stream")}
        response = world.client.request(method, url, **kwargs)
        assert response.status_code < 500, (
            f"{persona} {method} {url[:300]!r} -> {response.status_code}")

    def send(persona: str, url: str):
        data = {"csrf_token": _restore(world, persona).get("csrf", "")}
        response = world.client.request(method, url, follow_redirects=False,
                                        **({"data": data} if method == "POST" else {}))
        assert response.status_code < 500, f"{persona} {method} {url[:300]!r} -> {response.status_code}"

    # Every edge in every path parameter (the others as the pages send them).
    known = world.client.blocking_portal.call(_in_app_db, world.client.app, _viola_has_a_plan)
    for name, _kind in params:
        for edge in EDGES:
            url = path
            for other, other_kind in params:
                value = edge if other == name else (good[other] + known.get(other, ["x"]))[0]
                url = url.replace(f"{{{other}:{other_kind}}}", quote(value, safe=""))
            for persona in PERSONAS:
                send(persona, url)
    drive()
