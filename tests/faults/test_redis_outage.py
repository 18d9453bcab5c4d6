"""Redis (sessions, login state, rate limits) gone, and back empty.

A private redis-server (tests.faults.servers) holds the app's sessions and is killed
while a person is signed in. While it is gone every page, form and login attempt gets
the plain "the service is not working right now, nothing was saved" page (503): no
500, no trace, and no pretending to know who is signed in. It comes back empty (a
cache that lost its memory): the person is asked to log in again, logs in, and finds
everything they had saved before (it is in the database); the app is never restarted.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from litestar.testing import TestClient
from sqlalchemy import event
from sqlmodel.orm.session import Session as SyncSession

from portal.app import REDIS_TIMEOUT
from tests.conftest import BASE_URL, Page
from tests.consent.helpers import consent_form, sign_in, states_on_page, withdraw_forms
from tests.core.test_error_pages import assert_plain, loopback_app
from tests.factories import new_person, unit_names
from tests.faults.servers import PrivateRedis, requires_postgres

DOWN_H1 = "Tjänsten fungerar inte just nu"
GONE_H1 = "Du är inte inloggad längre"
VC = "se-kalmar-vc"


# The production topology (PostgreSQL and Redis) only: not the SQLite variant.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def redis_server():
    requires_postgres()
    server = PrivateRedis()
    yield server
    server.close()


@pytest.fixture
def client(settings, redis_server):
    app = loopback_app(settings.with_(redis_url=redis_server.url), store=None)
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


def test_redis_gone_then_back_empty_asks_to_log_in_again_and_loses_nothing(client,
                                                                          redis_server):
    person = new_person(client, units=(VC,))
    [vc_name] = unit_names(client, VC)
    sign_in(client, person)
    given = client.post("/samtycke", follow_redirects=False,
                        data={**consent_form(Page(client.get("/samtycke"))),
                              "decision": "give", "unit": ""})
    assert given.status_code == 400  # no unit chosen: the page says so; nothing stored yet
    page = Page(client.get("/samtycke"))
    unit = page.select_one("form#form-field input[name=unit]")["value"]
    given = client.post("/samtycke", data={**consent_form(page), "decision": "give",
                                           "unit": [unit]}, follow_redirects=False)
    assert given.status_code == 303, given.text[:300]
    page = Page(client.get("/samtycke"))
    withdraw = withdraw_forms(page)[0]

    config = json.loads(page.select_one('meta[name="htmx-config"]')["content"])
    redis_server.kill()
    htmx = client.get("/samtycke", headers={"HX-Request": "true"})
    assert_plain(htmx, 503, DOWN_H1)
    assert (htmx.headers["hx-retarget"], htmx.headers["hx-reswap"]) == ("body", "innerHTML")
    assert htmx_swaps(config, 503)  # the page is replaced, not a click that does nothing
    client.cookies.set("sip_lang", "sv_FI")
    finland = client.get("/samtycke")
    del client.cookies["sip_lang"]
    page = assert_plain(finland, 503, DOWN_H1)  # the same plain words in both variants
    assert page.soup.html["lang"] == "sv-FI"
    assert "Ingenting har sparats. Försök igen om en stund." in page.text()
    for response in (
        client.get("/"),
        client.get("/samtycke"),
        client.post("/samtycke", data=withdraw, follow_redirects=False),
        client.get("/auth/login/citizen", follow_redirects=False),
    ):
        page = assert_plain(response, 503, DOWN_H1)
        assert "Ingenting har sparats. Försök igen om en stund." in page.text()
        assert person.given_name not in response.text

    redis_server.start()  # back, and empty: every session is gone
    # The form from before: nothing saved, and a plain way on.
    gone = client.post("/samtycke", data=withdraw, follow_redirects=False)
    page = assert_plain(gone, 403, GONE_H1)
    assert page.select_one('a[href="/auth/login/citizen"]') is not None
    # A page asks for a login again, and after it everything saved before is there.
    assert client.get("/samtycke", follow_redirects=False).headers["location"] == "/"
    sign_in(client, person)
    page = Page(client.get("/samtycke"))
    assert states_on_page(page) == {vc_name: "Ja"}
    withdrawn = client.post("/samtycke", data=withdraw_forms(page)[0], follow_redirects=False)
    assert withdrawn.status_code == 303, withdrawn.text[:300]
    assert states_on_page(Page(client.get("/samtycke"))) == {vc_name: "Nej"}


def htmx_swaps(config: dict, status: int) -> bool:
    """Whether htmx 2 swaps an answer with `status`, by the page's htmx-config: the first
    responseHandling rule whose code (a regular expression) matches decides."""
    for rule in config["responseHandling"]:
        if re.search(rule["code"], str(status)):
            return rule["swap"]
    return False


def test_only_the_outage_page_replaces_the_page_in_htmx(client):
    config = json.loads(Page(client.get("/")).select_one('meta[name="htmx-config"]')["content"])
    assert [status for status in (200, 204, 303, 400, 403, 404, 409, 500, 503)
            if htmx_swaps(config, status)] == [200, 303, 503]


def test_redis_that_stops_answering_gives_the_plain_page_in_seconds(client, redis_server):
    """A hung Redis (the process stopped, its port still open) is not a hung portal."""
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    redis_server.pause()
    try:
        started = time.monotonic()
        response = client.get("/samtycke")
        waited = time.monotonic() - started
    finally:
        redis_server.resume()
    assert_plain(response, 503, DOWN_H1)
    assert waited < 2 * REDIS_TIMEOUT + 1, waited
    # Back, with its memory: the person is still signed in.
    assert Page(client.get("/samtycke")).h1 == "Samtycke"


def test_redis_gone_after_the_work_was_committed_answers_with_what_was_saved(client,
                                                                             redis_server):
    """Redis dies while a consent post is committed (after the session was read, before
    it is written back): the consent is stored, so the answer is its receipt, never
    "nothing was saved"; the next request meets the outage, and after a new login the
    consent is there."""
    person = new_person(client, units=(VC,))
    [vc_name] = unit_names(client, VC)
    sign_in(client, person)
    page = Page(client.get("/samtycke"))
    unit = page.select_one("form#form-field input[name=unit]")["value"]

    def kill_redis(_session) -> None:
        redis_server.kill()

    event.listen(SyncSession, "before_commit", kill_redis, once=True)
    try:
        given = client.post("/samtycke", data={**consent_form(page), "decision": "give",
                                               "unit": [unit]}, follow_redirects=False)
    finally:
        if event.contains(SyncSession, "before_commit", kill_redis):
            event.remove(SyncSession, "before_commit", kill_redis)
    assert redis_server.process is None, "the commit was never reached"
    assert given.status_code == 303, given.text[:300]
    assert given.headers["location"].startswith("/samtycke/kvitto/")
    assert_plain(client.get(given.headers["location"]), 503, DOWN_H1)

    redis_server.start()
    sign_in(client, person)
    assert states_on_page(Page(client.get("/samtycke"))) == {vc_name: "Ja"}


def test_redis_restarted_between_two_requests_costs_nobody_an_error(client, redis_server):
    """A restart (or a failover) closes every idle connection in the app's pool. The next
    command on each is retried once on a new connection, so nobody meets the outage page
    once Redis answers again: a form from before asks for a new login, and the first login
    works (its state is kept, or the person is told; never a login that leads nowhere)."""
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    page = Page(client.get("/samtycke"))
    unit = page.select_one("form#form-field input[name=unit]")["value"]
    redis_server.kill()
    redis_server.start()  # back at once, and empty; no request met it down
    gone = client.post("/samtycke", data={**consent_form(page), "decision": "give",
                                          "unit": [unit]}, follow_redirects=False)
    assert_plain(gone, 403, GONE_H1)
    sign_in(client, person)  # the first login after the restart
    assert Page(client.get("/samtycke")).h1 == "Samtycke"


def test_healthz_says_unavailable_while_redis_is_gone(client, redis_server):
    """A deployment check asks /healthz: with the sessions' store gone nobody can use the
    portal, so the instance is not healthy (the database alone answering is not enough)."""
    assert (client.get("/healthz").status_code, client.get("/healthz").json()) == (200, {"status": "ok"})
    redis_server.kill()
    gone = client.get("/healthz")
    assert (gone.status_code, gone.json()) == (503, {"status": "unavailable"})
    redis_server.start()
    assert client.get("/healthz").status_code == 200
