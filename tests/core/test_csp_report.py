"""POST /csp-rapport: where browsers report what the Content-Security-Policy blocked.

No CSRF token (browsers send none), both report formats, a size limit, a content type,
a rate limit, and one log line per violation that holds the directive and the blocked
resource's scheme and host, and nothing of the page's address, the sample or the query.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.core import csp_report
from portal.core.csp_report import blocked_origin
from portal.core.logging import LOG_FORMAT, SingleLineFormatter
from portal.core.security import CSP
from tests.conftest import login, url
from tests.log_scan import csp_reports

VIOLA_PNR = "19440512-4021"  # looks like what a page address could carry
LEGACY = {"csp-report": {
    "document-uri": f"http://testserver.local/personal/personer/x?pnr={VIOLA_PNR}",
    "referrer": "http://testserver.local/?q=Viola%20Andersson",
    "violated-directive": "script-src-elem",
    "effective-directive": "script-src-elem",
    "original-policy": CSP,
    "blocked-uri": f"https://evil.example:8443/steal.js?pnr={VIOLA_PNR}#x",
    "script-sample": "alert('Viola Andersson')",
    "status-code": 200,
}}
REPORTING_API = [
    {"type": "csp-violation", "age": 10, "url": f"http://testserver.local/?pnr={VIOLA_PNR}",
     "body": {"documentURL": f"http://testserver.local/?pnr={VIOLA_PNR}",
              "effectiveDirective": "style-src-attr", "blockedURL": "inline",
              "sample": "color: red", "disposition": "enforce"}},
    {"type": "csp-violation", "age": 11, "url": "http://testserver.local/",
     "body": {"documentURL": "http://testserver.local/", "effectiveDirective": "img-src",
              "blockedURL": "http://user:secret@tracker.example/p.gif?id=42"}},
    {"type": "deprecation", "body": {"id": "x", "message": "not ours"}},
]


def csp_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "portal.csp"]


def send(client, body, content_type: str = csp_report.CSP_REPORT):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(csp_report.PATH, content=raw, headers={"content-type": content_type})


def test_the_policy_names_the_report_route(app):
    assert "report-uri /csp-rapport" in CSP
    assert url(app, "csp_report") == csp_report.PATH == "/csp-rapport"


def test_a_report_is_accepted_without_a_csrf_token_and_logged_without_the_address(client, caplog):
    caplog.set_level(logging.INFO)
    response = send(client, LEGACY)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert csp_lines(caplog) == ["csp violation: directive=script-src-elem blocked=https://evil.example:8443"]
    everything = " ".join(r.getMessage() for r in caplog.records)
    for leak in (VIOLA_PNR, "steal.js", "Viola", "/personal/personer", "alert"):
        assert leak not in everything


def test_a_signed_in_browser_reports_too(client, caplog):
    caplog.set_level(logging.INFO)
    login(client, "viola")
    assert send(client, LEGACY, "application/csp-report; charset=utf-8").status_code == 204
    assert len(csp_lines(caplog)) == 1


def test_reporting_api_batches_give_one_line_per_csp_violation(client, caplog):
    caplog.set_level(logging.INFO)
    assert send(client, REPORTING_API, csp_report.REPORTS_JSON).status_code == 204
    assert csp_lines(caplog) == ["csp violation: directive=style-src-attr blocked=inline",
                                 "csp violation: directive=img-src blocked=http://tracker.example"]
    assert "secret" not in " ".join(r.getMessage() for r in caplog.records)


def test_a_report_over_the_size_limit_is_refused(client, caplog):
    caplog.set_level(logging.INFO)
    big = {"csp-report": {**LEGACY["csp-report"], "script-sample": "x" * csp_report.REPORT_MAX_BYTES}}
    assert send(client, big).status_code == 413
    assert csp_lines(caplog) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/json",
                                          "application/x-www-form-urlencoded", ""])
def test_another_content_type_is_refused(client, caplog, content_type):
    caplog.set_level(logging.INFO)
    assert send(client, LEGACY, content_type).status_code == 415
    assert csp_lines(caplog) == []


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[]", b'{"csp-report": 1}', b"null"])
def test_a_body_that_is_not_a_report_is_refused(client, caplog, body):
    caplog.set_level(logging.INFO)
    assert send(client, body).status_code == 400
    assert csp_lines(caplog) == []


def test_a_flood_from_one_address_is_cut_off(client, caplog):
    caplog.set_level(logging.INFO)
    statuses = [send(client, LEGACY).status_code for _ in range(csp_report.REPORT_RATE_LIMIT + 2)]
    assert statuses == [204] * csp_report.REPORT_RATE_LIMIT + [429, 429]
    assert len(csp_lines(caplog)) == csp_report.REPORT_RATE_LIMIT


@pytest.mark.parametrize(("given", "logged"), [
    ("inline", "inline"), ("eval", "eval"), ("", ""), (None, ""), (42, ""),
    ("https://cdn.example/x.js?a=1", "https://cdn.example"),
    ("HTTPS://CDN.Example:444/", "https://cdn.example:444"),
    ("data:image/png;base64,AAAA", "data"), ("blob:http://testserver.local/uuid", "blob"),
    ("https://a b/", "other"), ("javascript:alert(1)", "javascript"),
    ("1944-05-12 4021", "other"), ("http://[::1]:8000/x", "http://[::1]:8000"),
])
def test_only_the_scheme_and_host_of_what_was_blocked_are_kept(given, logged):
    assert blocked_origin(given) == logged


def test_the_browser_suite_finds_the_report_lines_the_portal_writes(client, caplog):
    """e2e/conftest.py fails the session on any CSP report in the server's log: the
    lines it looks for are the ones this route writes, formatted as the server does."""
    caplog.set_level(logging.INFO)
    assert send(client, LEGACY).status_code == 204
    formatter = SingleLineFormatter(LOG_FORMAT)
    log = "\n".join(["INFO:     Uvicorn running on http://127.0.0.1:8000",
                     *(formatter.format(r) for r in caplog.records)])
    assert csp_reports(log) == ["directive=script-src-elem blocked=https://evil.example:8443"]
    assert csp_reports(log.replace("portal.csp", "portal.other")) == []


LOGGED = re.compile(r"csp violation: directive=(unknown|[a-z][a-z-]*) blocked=(-|other|[a-z][a-z0-9+.-]*"
                    r"(://[a-z0-9.\[\]:-]+)?)")
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner, max_size=3),
    max_leaves=10)
REPORT_FIELD = st.one_of(JSON_VALUE, st.sampled_from(
    ["inline", "eval", "script-src", "img-src 'self'", "https://x.example/a?b=c", "data:,x",
     "\u202e", "a\r\nb", "javascript:x", "//evil", "http://[::1", "http://a:99999/"]))


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(legacy=st.booleans(), fields=st.dictionaries(
    st.sampled_from(["effective-directive", "violated-directive", "blocked-uri", "effectiveDirective",
                     "blockedURL", "document-uri"]), REPORT_FIELD, max_size=4),
       shape=st.integers(0, 2), junk=st.binary(max_size=200))
def test_no_report_body_makes_a_server_error_or_an_odd_log_line(client, caplog, legacy, fields, shape, junk):
    caplog.set_level(logging.INFO)
    caplog.clear()
    if shape == 0:
        body = junk
    elif legacy:
        body = {"csp-report": fields} if shape == 1 else [fields]
    else:
        body = [{"type": "csp-violation", "body": fields}] if shape == 1 else {"body": fields}
    response = send(client, body, csp_report.CSP_REPORT if legacy else csp_report.REPORTS_JSON)
    assert response.status_code in (204, 400, 429), response.status_code
    for line in csp_lines(caplog):
        assert LOGGED.fullmatch(line), line
