"""The page that says "Du har loggats ut" (/session-slut) ends the session.

session-timeout.js sends an idle tab there when `idle_timeout` has passed in the browser;
the server ends an idle session only after `idle_timeout + session_seen_precision`
(portal.auth.sessions). Found in a trial (browser): the GET of /session-slut arrived
while the session was still alive, counted as activity and restarted the idle clock; the
next person at the computer pressed Back and read the plan.
"""

from __future__ import annotations

import time

from tests.auth.test_sessions import COOKIE, restore, stored
from tests.conftest import Page, login
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def test_after_the_logged_out_page_the_session_is_gone(client, app, settings) -> None:
    login(client, "viola")
    assert client.get("/plan").status_code == 200
    session_id = client.cookies.get(COOKIE)
    # The browser's idle clock has run out (idle_timeout), the server's not quite yet.
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - settings.idle_timeout - 5
    restore(client, app, session_id, data)

    ended = Page(client.get("/session-slut"))
    assert ended.h1 == "Du har loggats ut"

    after = client.get("/plan", follow_redirects=False)
    assert after.status_code != 200, "the plan is shown after 'Du har loggats ut'"


def test_a_session_in_use_is_not_ended_by_a_link_from_elsewhere(client) -> None:
    """A link on another site (or typed): the start page, still signed in."""
    login(client, "viola")
    assert client.get("/plan").status_code == 200
    for site in ("cross-site", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        sent = client.get("/session-slut", headers=headers, follow_redirects=False)
        assert (sent.status_code, sent.headers["location"]) == (303, "/"), site
    assert client.get("/plan", follow_redirects=False).status_code == 200


def test_the_portals_own_timer_ends_the_session_whatever_the_servers_clock_says(client) -> None:
    """session-timeout.js counts in the browser; its navigation is same-origin."""
    login(client, "viola")
    assert client.get("/plan").status_code == 200
    ended = client.get("/session-slut", headers={"Sec-Fetch-Site": "same-origin"})
    assert Page(ended).h1 == "Du har loggats ut"
    assert client.get("/plan", follow_redirects=False).status_code != 200


def test_the_session_is_gone_and_the_page_says_nobody_is_signed_in(client, app, settings) -> None:
    login(client, "viola")
    session_id = client.cookies.get(COOKIE)
    data = stored(client, app, session_id)
    data["_seen"] = time.time() - settings.idle_timeout - 5
    restore(client, app, session_id, data)
    ended = Page(client.get("/session-slut"))
    assert "Inloggad" not in ended.text("header")
    assert stored(client, app, session_id) is None
