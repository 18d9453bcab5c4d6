"""The session-wide log scan (tests/conftest.py, tests/log_scan.py) can fail: it finds a
demo person's id in every written form, names, addresses, tokens and the secrets handed
out in this very run, and it really sees the lines this test writes."""

from __future__ import annotations

import logging

import pytest

from portal.auth.sessions import cookie_name
from portal.people.demo import PEOPLE
from tests.conftest import APP_LOG_LEVELS, app_log_level, login
from tests.log_scan import PERSONAL_DATA, hits_in, national_id_forms, report, scan

VIOLA_NUMBER = PEOPLE["viola"][3]
LINE = "2026-11-30 06:00:00,000 WARNING portal.consent {}"


@pytest.mark.parametrize("form", sorted(national_id_forms(VIOLA_NUMBER, "SE")))
def test_a_forged_line_with_a_demo_personnummer_is_a_hit(form):
    hits = hits_in(LINE.format(f"saved for {form}"), where="t", logger="portal.consent")
    assert [hit.kind for hit in hits] == ["national id of viola"]
    assert form not in str(hits[0]) and "t: logger 'portal.consent'" in str(hits[0])


def test_a_finnish_id_lower_case_and_without_its_sign_is_a_hit():
    number, country = next((p[3], p[4]) for p in PEOPLE.values() if p[4] == "FI")
    for form in national_id_forms(number, country):
        assert hits_in(LINE.format(form), where="t", logger="x"), form


@pytest.mark.parametrize(("text", "kind"), [
    ("for Viola Andersson", "full name of viola"),
    ("to viola.andersson@example.se", "e-mail address of viola"),
    ("by Anna Berg", "full name of staff member SE2321000016-A1B2"),
    ("token eyJhbGciOiJSUzI1NiJ9abc.eyJzdWIiOiIxMjM0NTY3ODkw.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
     "JWT-shaped token"),
    ("headers Authorization: Bearer q3Zk0_Jd8mH2xY7pL4wR9tV1sN6bC5aE0fG3hK2jM8n", "bearer token"),
])
def test_names_addresses_and_tokens_are_hits(text, kind):
    assert kind in [hit.kind for hit in hits_in(LINE.format(text), where="t", logger="x")]


def test_a_line_without_personal_data_is_clean():
    assert PERSONAL_DATA
    clean = LINE.format("notice Zx3kQ0 (email) not sent (attempt 2): ConnectionRefusedError")
    assert hits_in(clean, where="t", logger="x", secrets={"a" * 43: "session id"}) == []


def test_the_run_capture_sees_this_test_and_knows_the_secrets_it_was_given(
        client, _every_log_line_is_scanned, request):
    capture, harvest = _every_log_line_is_scanned
    login(client, "viola")
    session_id = client.cookies.get(cookie_name(client.app.state.settings))
    assert harvest.secrets.get(session_id) == "session id"
    assert "authorization code" in harvest.secrets.values()
    assert "CSRF token" in harvest.secrets.values()

    logging.getLogger("litestar.test").warning("a litestar line")  # it does not propagate
    assert capture.lines[-1][1:] == ("litestar.test", capture.lines[-1][2])
    assert capture.lines[-1][2].endswith(" WARNING litestar.test a litestar line")
    logging.getLogger("portal.test").warning("a line\r\nwith a break")
    where, logger, text = capture.lines[-1]
    assert where == request.node.nodeid
    assert logger == "portal.test"
    assert text.endswith(" WARNING portal.test a line\\r\\nwith a break")  # the portal's formatter

    # A line with the session id (alone, or inside a longer run) fails the scan; the
    # failure says what and where, never the whole id.
    for leaked in (f"session {session_id}", f"key session:{session_id}x"):
        hits = scan([(where, logger, LINE.format(leaked))], harvest.secrets)
        assert [hit.kind for hit in hits] == ["session id"]
        assert session_id not in report(hits) and request.node.nodeid in report(hits)


def test_the_scan_reads_each_logger_at_the_level_the_app_runs_it_at(client):
    """APP_LOG_LEVELS (tests/conftest.py) is what a built app really sets: the scan is
    neither quieter than the app's log nor louder."""
    assert client.app is not None
    for name in ("portal", "portal.auth", "litestar"):
        assert logging.getLogger(name).getEffectiveLevel() == app_log_level(name) == logging.INFO, name
    for name in ("httpx", "httpcore", "authlib", "sqlalchemy", "aiosqlite", "psycopg"):
        assert logging.getLogger(name).getEffectiveLevel() == app_log_level(name) == logging.WARNING
    assert set(APP_LOG_LEVELS) == {"portal", "litestar"}


def test_an_issued_fhir_access_token_is_a_hit_though_the_store_keeps_only_its_hash(
        client, database_url, _every_log_line_is_scanned):
    from tests.fhir.helpers import register
    from tests.fhir.smart import get_token

    _, harvest = _every_log_line_is_scanned
    system = register(database_url, ["se-kalmar-vc"], scopes=["system/Consent.read"])
    token = get_token(client, system, ["system/Consent.read"])
    assert token not in harvest.secrets  # only its hash was written
    for leaked in (f"token {token} refused", f"key=x{token}y"):
        hits = scan([("t", "portal.fhir", LINE.format(leaked))], harvest.secrets)
        assert [hit.kind for hit in hits] == ["FHIR access token"], leaked
        assert token not in report(hits)
