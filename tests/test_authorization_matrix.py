"""The authorization matrix: every route in the app's route table, for every persona.

Each route (path + method, from `app.routes`) has a row saying what each persona
gets. A route without a row fails `test_every_route_has_a_row`, so a new route
cannot ship without someone deciding who may use it.

Personas: anonymous; Viola (citizen); Johan acting for Viola (representative,
proxy with every scope); Gösta acting for Viola (a proxy without the consent
scope: he may read the plan); Svea, whose proxy for Viola has ended (the session
still says she acts for Viola: the next request ends it and shows her own
matters); a guardian of a Swedish child past the age limit (the same); Anna
(staff, Kalmar vårdcentral, which Viola consents to); Maria (staff, Kalmar
socialtjänst, which works with Viola but has no consent); Johanna (staff in
Finland, whose unit does not work with Viola). GET is sent without anything
else; POST with a valid CSRF token, the form's subject and an otherwise empty form.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from tests.conftest import BASE_URL, login

ANON, CITIZEN, REPRESENTATIVE, STAFF = "anonymous", "citizen", "representative", "staff"
NO_SCOPE, ENDED_PROXY, AGED_OUT = "proxy-without-consent-scope", "ended-proxy", "aged-out-guardian"
STAFF_NO_CONSENT, STAFF_ABROAD = "staff-without-consent", "staff-other-country"
PERSONAS = (ANON, CITIZEN, REPRESENTATIVE, NO_SCOPE, ENDED_PROXY, AGED_OUT, STAFF,
            STAFF_NO_CONSENT, STAFF_ABROAD)
CITIZENS = (CITIZEN, REPRESENTATIVE, NO_SCOPE, ENDED_PROXY, AGED_OUT)
STAFFS = (STAFF, STAFF_NO_CONSENT, STAFF_ABROAD)
ACTING_FOR_VIOLA = (REPRESENTATIVE, NO_SCOPE)
LOGIN_AS = {CITIZEN: "viola", REPRESENTATIVE: "johan", NO_SCOPE: "gösta", ENDED_PROXY: "svea",
            STAFF: "anna", STAFF_NO_CONSENT: "maria", STAFF_ABROAD: "johanna"}
SIGNED_IN_AS = {CITIZEN: "Viola Andersson", REPRESENTATIVE: "Johan Andersson",
                NO_SCOPE: "Gösta Andersson", ENDED_PROXY: "Svea Karlsson", STAFF: "Anna Berg",
                STAFF_NO_CONSENT: "Maria Ek", STAFF_ABROAD: "Johanna Lindholm"}
AUTHORIZE = f"{BASE_URL}/dev-idp/authorize?"
END_SESSION = f"{BASE_URL}/dev-idp/end-session?"
NO_ACCESS_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"
CONSENT_SCOPE = "consent"


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


def person_only(signed_in: Expect, *, scope: str | None = None,
                own: Expect | None = None) -> dict[str, Expect]:
    """Citizens get `signed_in`; a proxy without `scope` is refused; those whose right
    ended see their own matters (`own`: they have no plan of their own)."""
    expect = dict.fromkeys(STAFFS, FORBIDDEN) | dict.fromkeys(CITIZENS, signed_in)
    expect[ANON] = HOME
    if scope == CONSENT_SCOPE:
        expect[NO_SCOPE] = FORBIDDEN
    if own is not None:
        expect[ENDED_PROXY] = expect[AGED_OUT] = own
    return expect


def requests_only(signed_in: Expect) -> dict[str, Expect]:
    """Citizens get `signed_in`; Gösta, whose proxy for Viola lacks the `requests` scope, is
    refused; those whose right ended use the pages for themselves."""
    return {**person_only(signed_in), NO_SCOPE: FORBIDDEN}


def own_only(signed_in: Expect) -> dict[str, Expect]:
    """Citizens acting for themselves get `signed_in` (those whose right ended too); a
    representative is refused: only the person changes who acts for them."""
    return {**person_only(signed_in), REPRESENTATIVE: FORBIDDEN, NO_SCOPE: FORBIDDEN}


def staff_only(staff: Expect, *, no_consent: Expect = FORBIDDEN,
               abroad: Expect = FORBIDDEN) -> dict[str, Expect]:
    """Staff of a unit with consent get `staff`; a unit that works with the person
    without consent gets `no_consent`; a unit in another country `abroad`."""
    expect = dict.fromkeys(CITIZENS, FORBIDDEN)
    expect.update({ANON: HOME, STAFF: staff, STAFF_NO_CONSENT: no_consent,
                   STAFF_ABROAD: abroad})
    return expect


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
    ("/livez", "GET"): Row("/livez", same(OK)),
    ("/csp-rapport", "POST"): Row(
        "/csp-rapport", same(Expect(415)),
        note="browsers post CSP reports as JSON without a token; a form post is the wrong type "
             "(tests/core/test_csp_report.py)"),
    ("/auth/login/{kind:str}", "GET"): Row("/auth/login/citizen", same(Expect(303, AUTHORIZE))),
    ("/auth/callback/{kind:str}", "GET"): Row(
        "/auth/callback/citizen", {**same(HOME), ANON: BAD},
        note="without a pending login: a plain failure page, or, when signed in, back to the "
             "start page still signed in (a stray link must not log anyone out)"),
    ("/auth/logout", "POST"): Row("/auth/logout", same(Expect(303, END_SESSION)),
                                  ends_session=True),
    ("/utloggad", "GET"): Row("/utloggad", same(OK)),
    ("/session-slut", "GET"): Row(
        "/session-slut", {**same(HOME), ANON: OK},
        note="'Du har loggats ut' ends a session only when the portal's own timer sent the "
             "browser there (same-origin) or it is idle; a session in use: the start page "
             "(tests/auth/test_session_ended_page_ends_it.py)"),
    ("/session/forlang", "POST"): Row("/session/forlang", same(HOME)),
    ("/vem", "GET"): Row("/vem", person_only(OK)),
    ("/vem", "POST"): Row("/vem", person_only(HOME), note="an empty choice means: myself"),
    ("/samtycke", "GET"): Row("/samtycke", person_only(OK, scope=CONSENT_SCOPE)),
    ("/samtycke", "POST"): Row("/samtycke", person_only(BAD, scope=CONSENT_SCOPE),
                               note="nothing chosen: form errors"),
    ("/samtycke/bekrafta", "GET"): Row("/samtycke/bekrafta", person_only(
        Expect(303, "/samtycke"), scope=CONSENT_SCOPE)),
    ("/samtycke/kvitto/{act_id:str}", "GET"): Row("/samtycke/kvitto/AAAAAAAAAAAAAAAAAAAAAA",
                                                  person_only(NOT_FOUND, scope=CONSENT_SCOPE)),
    ("/samtycke/historik", "GET"): Row("/samtycke/historik",
                                       person_only(OK, scope=CONSENT_SCOPE)),
    ("/samtycke/text/{wording_id:str}", "GET"): Row("/samtycke/text/AAAAAAAAAAAAAAAAAAAAAA",
                                                    person_only(NOT_FOUND, scope=CONSENT_SCOPE)),
    ("/personal/personer", "GET"): Row("/personal/personer",
                                       staff_only(OK, no_consent=OK, abroad=OK)),
    ("/personal/personer/{person_id:str}", "GET"): Row(
        "/personal/personer/{viola}", staff_only(OK),
        note="only with consent; Johanna's unit does not work with Viola: refused as if she "
             "did not exist"),
    ("/personal/personer/{person_id:str}/samtycke", "GET"): Row(
        "/personal/personer/{viola}/samtycke", staff_only(OK, no_consent=OK),
        note="without consent: the unit's own status and how to ask, nothing else"),
    ("/personal/personer/{person_id:str}/samtycke", "POST"): Row(
        "/personal/personer/{viola}/samtycke", staff_only(BAD, no_consent=BAD),
        note="a unit without consent may record consent given orally or on paper"),
    # Plans. The rows assume Viola has a published plan with a follow-up date and has
    # consented for Anna's unit (`viola_has_a_plan` below makes sure of it).
    ("/plan", "GET"): Row("/plan", person_only(OK)),
    ("/plan/versioner", "GET"): Row("/plan/versioner", person_only(OK, own=NOT_FOUND)),
    ("/plan/{plan_id:str}/version/{number:int}", "GET"): Row(
        "/plan/AAAAAAAAAAAAAAAAAAAAAA/version/1", person_only(NOT_FOUND),
        note="a made-up plan looks the same as someone else's"),
    ("/plan/tidigare", "GET"): Row("/plan/tidigare", person_only(OK)),
    ("/plan/kalender.ics", "GET"): Row("/plan/kalender.ics", person_only(OK, own=NOT_FOUND)),
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
    # Questions to a contact person. Gösta (NO_SCOPE) has the messages scope. The thread
    # rows use a made-up id: it looks the same as someone else's thread (tests/messages).
    ("/meddelanden", "GET"): Row("/meddelanden", person_only(OK)),
    ("/meddelanden/ny", "GET"): Row("/meddelanden/ny", person_only(OK)),
    ("/meddelanden/ny", "POST"): Row("/meddelanden/ny", person_only(BAD),
                                     note="nothing written: form errors"),
    ("/meddelanden/{thread_id:str}", "GET"): Row("/meddelanden/AAAAAAAAAAAAAAAAAAAAAA",
                                                 person_only(NOT_FOUND)),
    ("/meddelanden/{thread_id:str}", "POST"): Row("/meddelanden/AAAAAAAAAAAAAAAAAAAAAA",
                                                  person_only(NOT_FOUND)),
    ("/personal/meddelanden/{thread_id:str}", "GET"): Row(
        "/personal/meddelanden/AAAAAAAAAAAAAAAAAAAAAA", staff_only(FORBIDDEN),
        note="only staff of the thread's unit; the same 403 whether it exists or not"),
    ("/personal/meddelanden/{thread_id:str}", "POST"): Row(
        "/personal/meddelanden/AAAAAAAAAAAAAAAAAAAAAA", staff_only(FORBIDDEN)),
    # Notice settings: always the signed-in person's own, whoever they act for.
    ("/installningar", "GET"): Row("/installningar", person_only(OK)),
    ("/installningar", "POST"): Row("/installningar", person_only(Expect(409)),
                                    note="no revision in the form: a stale form, nothing saved"),
    # Vem har tittat: the person's access log, and a representative's with the log:read
    # scope (Johan has it; Gösta not: told what his right covers).
    ("/logg", "GET"): Row("/logg", {**person_only(OK), NO_SCOPE: FORBIDDEN},
                          note="those whose right ended see their own log"),
    ("/personal/lix", "POST"): Row("/personal/lix", staff_only(NOT_FOUND, no_consent=NOT_FOUND,
                                                               abroad=NOT_FOUND),
                                   note="no section: nothing to measure"),
    # Be om samordning and Dina ärenden (the `requests` scope: Gösta has it not).
    ("/arenden", "GET"): Row("/arenden", requests_only(OK)),
    ("/arenden/ny", "GET"): Row("/arenden/ny", requests_only(OK)),
    ("/arenden/ny", "POST"): Row("/arenden/ny", requests_only(BAD), note="nobody chosen"),
    ("/arenden/ny/vad", "GET"): Row("/arenden/ny/vad", requests_only(OK)),
    ("/arenden/ny/vad", "POST"): Row("/arenden/ny/vad", requests_only(BAD),
                                     note="nothing written: form errors, nothing saved"),
    ("/arenden/ny/vilka", "GET"): Row("/arenden/ny/vilka", requests_only(OK)),
    ("/arenden/ny/vilka", "POST"): Row("/arenden/ny/vilka", requests_only(BAD)),
    ("/arenden/ny/kontakt", "GET"): Row("/arenden/ny/kontakt", requests_only(OK)),
    ("/arenden/ny/kontakt", "POST"): Row("/arenden/ny/kontakt", requests_only(BAD)),
    ("/arenden/ny/samtycke", "GET"): Row("/arenden/ny/samtycke", requests_only(OK)),
    ("/arenden/ny/samtycke", "POST"): Row(
        "/arenden/ny/samtycke", {**requests_only(Expect(303)), ENDED_PROXY: BAD, AGED_OUT: BAD},
        note="Viola has consented: nothing to ask, on to the next step; those who use the "
             "page for themselves have not: form errors"),
    ("/arenden/ny/kontrollera", "GET"): Row(
        "/arenden/ny/kontrollera", requests_only(Expect(303)),
        note="no complete draft: back to the first question that needs an answer"),
    ("/arenden/ny/kontrollera", "POST"): Row(
        "/arenden/ny/kontrollera", requests_only(Expect(303, "/arenden/ny")),
        note="no draft named: nothing sent"),
    ("/arenden/{request_id:str}/kvitto", "GET"): Row(
        "/arenden/AAAAAAAAAAAAAAAAAAAAAA/kvitto", requests_only(NOT_FOUND),
        note="a made-up request looks the same as someone else's"),
    ("/arenden/{request_id:str}", "GET"): Row("/arenden/AAAAAAAAAAAAAAAAAAAAAA",
                                              requests_only(NOT_FOUND)),
    # The contact persons' inbox and the staff side of requests (issue 10). A request is
    # visible to staff of the units it is addressed to, consent or not; a made-up id looks
    # the same as a request addressed to another unit.
    ("/personal/inkorg", "GET"): Row("/personal/inkorg", staff_only(OK, no_consent=OK, abroad=OK),
                                     note="each unit sees its own inbox"),
    ("/personal/arenden/{request_id:str}", "GET"): Row(
        "/personal/arenden/AAAAAAAAAAAAAAAAAAAAAA",
        staff_only(NOT_FOUND, no_consent=NOT_FOUND, abroad=NOT_FOUND)),
    **{("/personal/arenden/{request_id:str}/" + action, "POST"): Row(
        "/personal/arenden/AAAAAAAAAAAAAAAAAAAAAA/" + action,
        staff_only(NOT_FOUND, no_consent=NOT_FOUND, abroad=NOT_FOUND))
       for action in ("tilldela", "anteckning", "mote", "plan-gjord", "avsluta", "oppna")},
    ("/personal/personer/{person_id:str}/arenden/ny", "GET"): Row(
        "/personal/personer/{viola}/arenden/ny", staff_only(OK, no_consent=OK),
        note="staff who met the person may register a request without consent: it is how "
             "coordination starts"),
    ("/personal/personer/{person_id:str}/arenden/ny", "POST"): Row(
        "/personal/personer/{viola}/arenden/ny", staff_only(BAD, no_consent=BAD),
        note="an empty form: errors, nothing sent"),
    ("/personal/moten/{meeting_id:str}/kalender.ics", "GET"): Row(
        "/personal/moten/AAAAAAAAAAAAAAAAAAAAAA/kalender.ics",
        staff_only(NOT_FOUND, no_consent=NOT_FOUND, abroad=NOT_FOUND)),
    ("/arenden/moten/{meeting_id:str}/kalender.ics", "GET"): Row(
        "/arenden/moten/AAAAAAAAAAAAAAAAAAAAAA/kalender.ics",
        {**person_only(NOT_FOUND), NO_SCOPE: FORBIDDEN},
        note="the person, or a representative with the requests scope; another person's "
             "meeting looks the same as a made-up one"),
    # Mina uppgifter (GDPR article 15): the person, or a representative whose right covers
    # every scope (Gösta lacks consent: refused); made on request, audited.
    ("/mina-uppgifter", "GET"): Row("/mina-uppgifter", {**person_only(OK), NO_SCOPE: FORBIDDEN}),
    ("/mina-uppgifter/dokument", "GET"): Row("/mina-uppgifter/dokument",
                                             {**person_only(OK), NO_SCOPE: FORBIDDEN}),
    ("/mina-uppgifter/fhir.json", "GET"): Row("/mina-uppgifter/fhir.json",
                                              {**person_only(OK), NO_SCOPE: FORBIDDEN}),
    # Vem kan se och göra saker åt dig (portal.people.representatives): a representative
    # reads what they may do for the person; only the person invites and ends. Made-up
    # ids look the same as someone else's invitation or proxy.
    ("/ombud", "GET"): Row("/ombud", person_only(OK)),
    ("/ombud/bjud-in", "GET"): Row("/ombud/bjud-in", own_only(OK)),
    ("/ombud/bjud-in", "POST"): Row("/ombud/bjud-in", own_only(BAD),
                                    note="nothing typed: form errors, nothing saved"),
    ("/ombud/bjud-in/bekrafta", "GET"): Row("/ombud/bjud-in/bekrafta",
                                            own_only(Expect(303, "/ombud/bjud-in")),
                                            note="nothing to confirm: back to the form"),
    ("/ombud/bjud-in/bekrafta", "POST"): Row("/ombud/bjud-in/bekrafta",
                                             own_only(Expect(303, "/ombud/bjud-in")),
                                             note="nothing to send: back to the form"),
    ("/ombud/inbjudningar/{invitation_id:str}/ta-tillbaka", "GET"): Row(
        "/ombud/inbjudningar/AAAAAAAAAAAAAAAAAAAAAA/ta-tillbaka", own_only(NOT_FOUND)),
    ("/ombud/inbjudningar/{invitation_id:str}/ta-tillbaka", "POST"): Row(
        "/ombud/inbjudningar/AAAAAAAAAAAAAAAAAAAAAA/ta-tillbaka", own_only(NOT_FOUND)),
    ("/ombud/fullmakter/{representation_id:str}/avsluta", "GET"): Row(
        "/ombud/fullmakter/AAAAAAAAAAAAAAAAAAAAAA/avsluta", own_only(NOT_FOUND)),
    ("/ombud/fullmakter/{representation_id:str}/avsluta", "POST"): Row(
        "/ombud/fullmakter/AAAAAAAAAAAAAAAAAAAAAA/avsluta", own_only(NOT_FOUND)),
    ("/ombud/inbjudningar/{invitation_id:str}", "GET"): Row(
        "/ombud/inbjudningar/AAAAAAAAAAAAAAAAAAAAAA", person_only(NOT_FOUND),
        note="only the invitee, matched on their own number, whoever they act for"),
    ("/ombud/inbjudningar/{invitation_id:str}", "POST"): Row(
        "/ombud/inbjudningar/AAAAAAAAAAAAAAAAAAAAAA", person_only(NOT_FOUND)),
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


# The FHIR API (issue 13): staff systems with bearer tokens, not browser sessions. Each
# route has an ApiRow: what each API persona gets (test_api_authorization_matrix), and
# every browser persona gets 401 (a session cookie is not an access token).
NO_TOKEN, WRONG_SCOPE, CONSENTED = "no-token", "wrong-scope", "client-with-consent"
RELATED, UNRELATED = "client-of-a-unit-without-consent", "client-of-another-unit"
API_PERSONAS = (NO_TOKEN, WRONG_SCOPE, CONSENTED, RELATED, UNRELATED)
# persona -> the unit its client acts for (Viola consents to Kalmar vårdcentral; the
# socialtjänst works with her without consent; the Finnish unit does not know her)
API_UNIT = {WRONG_SCOPE: "se-kalmar-vc", CONSENTED: "se-kalmar-vc", RELATED: "se-kalmar-soc",
            UNRELATED: "fi-vasa-hs"}
UNAUTHORISED = Expect(401)
VIOLA_PATIENT = "{patient}"  # Viola's personnummer, as system|value


@dataclass(frozen=True)
class ApiRow:
    url: str  # "{patient}" filled in with Viola's identifier (as a search parameter)
    scope: str  # the scope the route needs
    expect: dict[str, Expect]
    body: dict | str | None = None  # for a POST: the JSON sent (PLAN_BUNDLE: a plan for Viola)
    form: dict | None = None  # for a POST: the form sent ("{patient}" filled in)
    note: str = field(default="", compare=False)


def api(consented: Expect = OK, *, related: Expect = FORBIDDEN) -> dict[str, Expect]:
    """No token 401, a token without the scope 403, the unit with consent `consented`, a
    unit that works with the person without consent `related`, another unit 403."""
    return {NO_TOKEN: UNAUTHORISED, WRONG_SCOPE: FORBIDDEN, CONSENTED: consented,
            RELATED: related, UNRELATED: FORBIDDEN}


API: dict[tuple[str, str], ApiRow] = {
    ("/fhir/R4/Consent", "GET"): ApiRow(
        "/fhir/R4/Consent?patient={patient}", "system/Consent.read", api(related=OK),
        note="a unit that works with the person learns its own state, also a withdrawal"),
    ("/fhir/R4/CarePlan", "GET"): ApiRow(
        "/fhir/R4/CarePlan?patient={patient}", "system/CarePlan.read", api()),
    ("/fhir/R4", "POST"): ApiRow(
        "/fhir/R4", "system/CarePlan.write",
        {**api(Expect(201)), UNRELATED: Expect(422)}, body="plan-bundle",
        note="a plan for Viola written by a staff member of the client's unit (Anna, or Maria "
             "of the socialtjänst): 201 with consent, 403 without; another unit's client "
             "cannot name Anna as the author (422, business rule)"),
    ("/fhir/R4/Consent/_search", "POST"): ApiRow(
        "/fhir/R4/Consent/_search", "system/Consent.read", api(related=OK),
        form={"patient": "{patient}"}, note="the same search, the identifier in the body"),
    ("/fhir/R4/CarePlan/_search", "POST"): ApiRow(
        "/fhir/R4/CarePlan/_search", "system/CarePlan.read", api(),
        form={"patient": "{patient}"}),
}
API_BROWSER: dict[tuple[str, str], Row] = {
    key: Row(row.url, same(UNAUTHORISED)) for key, row in API.items()}

# The FHIR API's open routes (no token needed): every persona, browser or not, gets the
# same answer; what a token may do is tested in tests/fhir/.
FHIR_OPEN: dict[tuple[str, str], Row] = {
    ("/fhir/R4/metadata", "GET"): Row("/fhir/R4/metadata", same(OK)),
    ("/fhir/R4/.well-known/smart-configuration", "GET"): Row(
        "/fhir/R4/.well-known/smart-configuration", same(OK)),
    ("/fhir/R4/token", "POST"): Row(
        "/fhir/R4/token", same(BAD),
        note="SMART Backend Services token endpoint: a form without a client assertion is "
             "invalid_request (tests/fhir/test_smart_token.py)"),
}

ALL_ROWS = {**ROUTES, **STATIC, **DEV_IDP, **API_BROWSER, **FHIR_OPEN}


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
        assert not path.startswith(("/static/", "/dev-idp/", "/fhir/"))
    api_routes = {(path, method) for path, method in served if path.startswith("/fhir/")}
    assert api_routes == set(API) | set(FHIR_OPEN), \
        "every FHIR API route needs an ApiRow, or a FHIR_OPEN row if it needs no token"


def test_the_matrix_would_catch_a_new_route(app):
    """The coverage check is not vacuous: a route missing from the table is noticed."""
    served = route_table(app)
    assert ("/samtycke", "POST") in served
    assert served - (set(ALL_ROWS) - {("/samtycke", "POST")}) == {("/samtycke", "POST")}


def _csrf(html: str) -> dict[str, str]:
    """The hidden fields every form carries: the CSRF token and, for a citizen, whose form."""
    soup = BeautifulSoup(html, "html.parser")
    node = soup.select_one('input[name="csrf_token"]')
    assert node is not None, "no CSRF token on the page"
    fields = {"csrf_token": node["value"]}
    subject = soup.select_one('input[name="subject"]')
    if subject is not None:
        fields["subject"] = subject["value"]
    return fields


def _set_session(client: TestClient, **changes) -> None:
    store, key = client.app.state.store, f"session:{client.cookies.get('sip_session')}"

    async def go():
        data = json.loads(await store.get(key))
        data.update(changes)
        await store.set(key, json.dumps(data), expires_in=client.app.state.settings.idle_timeout)

    client.blocking_portal.call(go)


# (app, persona) -> (session data, form fields): each persona logs in through the
# real flow once per app; every row then starts from a fresh copy of that session.
_SNAPSHOTS: dict[tuple[int, str], tuple[dict, dict[str, str]]] = {}


def _session_data(client: TestClient) -> dict:
    store, key = client.app.state.store, f"session:{client.cookies.get('sip_session')}"
    return json.loads(client.blocking_portal.call(store.get, key))


def _fresh_copy(client: TestClient, data: dict) -> None:
    """A new browser session (new id, new cookie) holding a copy of `data`."""
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    copy = {**data, "_created": now, "_seen": now}
    store = client.app.state.store
    client.blocking_portal.call(store.set, f"session:{session_id}", json.dumps(copy), 3600)
    client.cookies.clear()
    client.cookies.set("sip_session", session_id, domain="testserver.local", path="/")


def become(client: TestClient, persona: str, demo_ids: dict[str, str]) -> dict[str, str]:
    """Start a fresh browser session as `persona`; return the hidden fields of its forms."""
    snapshot = _SNAPSHOTS.get((id(client.app), persona))
    if snapshot is not None:
        _fresh_copy(client, snapshot[0])
        return dict(snapshot[1])
    fields = _log_in_as(client, persona, demo_ids)
    data = _session_data(client)
    data.pop("flashes", None)
    if persona in (ENDED_PROXY, AGED_OUT):
        # Every row meets the right ending on its own request.
        data["acting_for"] = demo_ids["viola" if persona == ENDED_PROXY else "teen"]
    _SNAPSHOTS[(id(client.app), persona)] = (data, fields)
    _fresh_copy(client, data)
    return dict(fields)


def _log_in_as(client: TestClient, persona: str, demo_ids: dict[str, str]) -> dict[str, str]:
    client.cookies.clear()
    if persona == ANON:
        # An anonymous visitor gets a session (and a token) on the way to logging in.
        page = client.get("/auth/login/citizen")
        assert page.status_code == 200
        return _csrf(page.text)
    assert login(client, LOGIN_AS[persona]).status_code == 303
    if persona in ACTING_FOR_VIOLA:
        token = _csrf(client.get("/").text)
        chosen = client.post("/vem", data={**token, "person": demo_ids["viola"]},
                             follow_redirects=False)
        assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    elif persona in (ENDED_PROXY, AGED_OUT):
        # The session still says whom they act for, as it did before the right ended.
        _set_session(client, acting_for=demo_ids["viola" if persona == ENDED_PROXY else "teen"])
        ended = client.get("/")
        assert "Du kan inte längre använda tjänsten för den personen." in ended.text
    start = client.get("/")
    assert f"Inloggad: {SIGNED_IN_AS[persona]}" in start.text
    if persona in ACTING_FOR_VIOLA:
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
        if persona in ACTING_FOR_VIOLA:
            assert banner is not None and "Viola Andersson" in banner.get_text(), where
        else:
            assert banner is None, where
    h1 = " ".join(soup.h1.get_text(" ").split()) if soup.h1 else ""
    if response.status_code == 403:
        # A representative whose right does not cover the page is told what it does cover.
        allowed = (NO_ACCESS_H1, "Det här kan du inte göra för Viola") if persona in ACTING_FOR_VIOLA \
            else (NO_ACCESS_H1,)
        assert h1 in allowed, where
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


def _viola_patient() -> str:
    """Viola's personnummer as a FHIR search token, system|value."""
    from portal.fhir.identifiers import SE_PERSONNUMMER
    from portal.people.demo import PEOPLE

    return f"{SE_PERSONNUMMER}|{PEOPLE['viola'][3]}"


_TEENS: dict[str, str] = {}  # database URL -> the teenager made there


@pytest.fixture
def ids(app, demo_ids) -> dict[str, str]:
    """The demo ids, and a Swedish teenager (14, past the guardian age limit of 13) whose
    guardian is signed in as the aged-out persona."""
    import asyncio
    import secrets
    from datetime import date, timedelta

    from portal.people.models import Person, Representation
    from portal.people.national_id import swedish_with_check_digit

    made = _TEENS.get(app.state.settings.database_url)
    if made is not None:
        return {**demo_ids, "teen": made, "viola_patient": _viola_patient()}

    async def work() -> dict[str, str]:
        async with app.state.sessionmaker() as db:
            born = date.today() - timedelta(days=14 * 365 + 30)
            people = []
            for prefix, day in (("Matristonaring", born), ("Matrisforalder", date(1980, 3, 3))):
                number = swedish_with_check_digit(day.strftime("%y%m%d") + f"{secrets.randbelow(800) + 100:03d}",
                                                  str(day.year)[:2])
                person = Person(national_id=number, given_name=prefix + secrets.token_hex(3),
                                family_name="Provsson", birth_date=day, country="SE")
                db.add(person)
                people.append(person)
            await db.flush()
            teen, guardian = people
            db.add(Representation(representative_id=guardian.id, represented_id=teen.id,
                                  kind="guardian", scope="plan:read consent", valid_from=born,
                                  source="population_register"))
            await db.commit()
            LOGIN_AS[AGED_OUT] = guardian.given_name.lower()
            SIGNED_IN_AS[AGED_OUT] = guardian.name
            _TEENS[app.state.settings.database_url] = teen.id
            return {**demo_ids, "teen": teen.id, "viola_patient": _viola_patient()}

    return asyncio.run(work())


@pytest.fixture
def viola_has_a_plan(app):
    """Viola consents for Kalmar vårdcentral (not for Socialtjänsten, so Maria's unit
    works with her without consent) and has a published plan with a follow-up."""
    import asyncio

    from tests.factories import SOC, viola_with_plan

    async def work():
        async with app.state.sessionmaker() as db:
            await viola_with_plan(db, withdraw_codes=(SOC,))
            await db.commit()

    asyncio.run(work())


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.usefixtures("viola_has_a_plan")
def test_authorization_matrix(app, ids, persona):
    demo_ids = ids
    failures = []
    with TestClient(app, base_url=BASE_URL) as client:
        for (path, method), row in ALL_ROWS.items():
            url = row.url.format(viola=demo_ids["viola"], elsa=demo_ids["elsa"],
                                 patient=ids["viola_patient"])
            where = f"{persona} {method} {url}"
            fields = become(client, persona, demo_ids)
            if method == "POST":
                response = client.post(url, data=fields, follow_redirects=False)
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
def test_post_without_a_csrf_token_is_refused_everywhere(app, ids, persona):
    demo_ids = ids
    """Every unsafe route, for every persona: no token, no action (except the token
    endpoints, which OAuth clients call without a browser session, the FHIR API, called
    with bearer tokens and never with the session cookie, and the CSP report, which
    browsers send without one and which changes nothing but the log)."""
    failures = []
    with TestClient(app, base_url=BASE_URL) as client:
        for (path, method), row in ALL_ROWS.items():
            if method != "POST" or path in ("/dev-idp/token", "/csp-rapport") \
                    or path.startswith("/fhir/"):
                continue
            url = row.url.format(viola=demo_ids["viola"], elsa=demo_ids["elsa"],
                                 patient=ids["viola_patient"])
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


def test_options_answers_without_content_on_every_path(app, ids):
    with TestClient(app, base_url=BASE_URL) as client:
        for row in ALL_ROWS.values():
            url = row.url.format(viola=ids["viola"], elsa=ids["elsa"],
                                 patient=ids["viola_patient"])
            response = client.options(url)
            assert response.status_code == 204, (url, response.status_code)
            assert response.content == b""


def _api_answers(app, ids: dict[str, str], persona: str, row: ApiRow, client: TestClient):
    from portal.fhir.clients import SCOPES
    from tests.fhir.helpers import bearer, mint, register

    headers = {}
    if persona != NO_TOKEN:
        system = register(app.state.settings.database_url, [API_UNIT[persona]])
        scopes = [s for s in SCOPES if s != row.scope] if persona == WRONG_SCOPE else [row.scope]
        headers = bearer(mint(client, system, scopes))
    url = row.url.format(patient=ids["viola_patient"])
    if row.body == "plan-bundle":
        from tests.fhir.plan_bundles import ANNA, FHIR, MARIA, body, plan_bundle

        bundle = plan_bundle(ids["viola_patient"].split("|", 1)[1],
                             author=MARIA if persona == RELATED else ANNA)
        return client.post(url, headers={**headers, **FHIR}, content=body(bundle))
    if row.form is not None:
        form = {key: value.format(patient=ids["viola_patient"]) for key, value in row.form.items()}
        return client.post(url, headers=headers, data=form)
    return client.request("GET" if row.body is None else "POST", url, headers=headers,
                          json=row.body)


@pytest.mark.parametrize("persona", API_PERSONAS)
@pytest.mark.usefixtures("viola_has_a_plan")
def test_api_authorization_matrix(app, ids, persona):
    """Every FHIR API route, for each kind of caller: no token 401, a token without the
    route's scope 403, the client of a unit with Viola's consent 200, of a unit without
    it (working with her, or not) 403, except where the row says otherwise. Every answer
    that is not 200 is an OperationOutcome."""
    failures = []
    with TestClient(app, base_url=BASE_URL) as client:
        for (path, method), row in API.items():
            response = _api_answers(app, ids, persona, row, client)
            where = f"{persona} {method} {path}"
            try:
                row.expect[persona].check(response, where)
                assert response.headers["content-type"].startswith("application/fhir+json"), where
                kind = response.json()["resourceType"]
                assert kind == ("OperationOutcome" if response.status_code >= 400 else "Bundle"), \
                    f"{where}: {kind}"
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)
