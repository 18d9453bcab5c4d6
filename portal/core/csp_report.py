"""Where browsers report what the Content-Security-Policy blocked: POST /csp-rapport.

The policy's `report-uri` names this route (portal.core.security). Browsers post a
report without a CSRF token and without asking anyone, so the route is exempt from
CSRF, takes small bodies only (REPORT_MAX_BYTES), a limited number per client address
and minute (REPORT_RATE_LIMIT), and logs one line per violation with only the
directive and the blocked resource's scheme and host: a report also carries the
page's full address, a sample of the blocked code and the referrer, any of which can
hold an id or a name, so none of those are logged.

Two formats are read: the `report-uri` one (`application/csp-report`, one object
under "csp-report", hyphenated keys) and the Reporting API's (`application/reports+
json`, a list of reports of type "csp-violation" with camelCase keys), so the policy
can move to `report-to` without changing this route.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from litestar import Request, Response, post
from litestar.di import NamedDependency

from portal.auth.accounts import RateLimiter

log = logging.getLogger("portal.csp")

PATH = "/csp-rapport"
REPORT_MAX_BYTES = 16 * 1024
REPORT_RATE_LIMIT = 60  # reports per client address and minute
MAX_VIOLATIONS_PER_REPORT = 20  # a Reporting API batch is a list; log at most this many
CSP_REPORT = "application/csp-report"
REPORTS_JSON = "application/reports+json"
# What browsers put in blocked-uri instead of an address (CSP3 "violation resource").
KEYWORDS = {"inline", "eval", "wasm-eval", "self", "data", "blob", "filesystem",
            "trusted-types-policy", "trusted-types-sink"}
DIRECTIVE = re.compile(r"[a-z][a-z-]{0,39}")
SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,19}")


def blocked_origin(value: object) -> str:
    """What was blocked, reduced to what may be logged.

    `value` is a report's blocked-uri/blockedURL (any JSON value). Returns a CSP
    keyword as is ("inline", "eval" …), `scheme://host[:port]` for an address with a
    host (path, query, fragment and any user:password@ dropped), the bare scheme for
    one without (`data`, `blob`), "" when nothing was given, and "other" for anything
    else. Never raises."""
    if not isinstance(value, str) or not value:
        return ""
    text = value.strip().lower()[:2048]
    if text in KEYWORDS:
        return text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "other"
    if not SCHEME.fullmatch(parts.scheme or ""):
        return "other"
    if not host:
        return parts.scheme
    if not re.fullmatch(r"[a-z0-9.:\[\]-]{1,255}", host):
        return "other"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def directive_of(value: object) -> str:
    """The violated directive's name ("script-src-elem"), without its source list
    (old browsers send the whole directive); "unknown" when it is not a name."""
    if not isinstance(value, str):
        return "unknown"
    name = value.strip().split(" ", 1)[0].lower()
    return name if DIRECTIVE.fullmatch(name) else "unknown"


def violations(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The (directive, blocked origin) pairs in a report body of `content_type`.

    Raises ValueError for a body that is not a report of that type (not JSON, not
    the expected shape)."""
    data = json.loads(body)
    if content_type == CSP_REPORT:
        if not isinstance(data, dict) or not isinstance(data.get("csp-report"), dict):
            raise ValueError("not a csp-report")
        report = data["csp-report"]
        directive = report.get("effective-directive") or report.get("violated-directive")
        return [(directive_of(directive), blocked_origin(report.get("blocked-uri")))]
    if not isinstance(data, list):
        raise ValueError("not a list of reports")
    found = []
    for item in data[:MAX_VIOLATIONS_PER_REPORT]:
        if not isinstance(item, dict) or item.get("type") != "csp-violation":
            continue
        report = item.get("body")
        if not isinstance(report, dict):
            raise ValueError("a report without a body")
        found.append((directive_of(report.get("effectiveDirective")),
                      blocked_origin(report.get("blockedURL"))))
    return found


@post(PATH, name="csp_report", opt={"csrf_exempt": True},
      request_max_body_size=REPORT_MAX_BYTES, cache_control=None)
async def csp_report(request: Request, csp_rate_limiter: NamedDependency[RateLimiter]) -> Response:
    """A browser's report of a CSP violation: 204 once logged; 415 for another content
    type, 400 for a body that is not a report, 413 (Litestar) over REPORT_MAX_BYTES,
    429 over the rate limit (nothing logged then)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in (CSP_REPORT, REPORTS_JSON):
        return Response(content=None, status_code=415)
    client = request.client.host if request.client else "unknown"
    if not await csp_rate_limiter.allow(f"csp:{client}"):
        return Response(content=None, status_code=429)
    try:
        found = violations(content_type, await request.body())
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return Response(content=None, status_code=400)
    for directive, blocked in found:
        log.warning("csp violation: directive=%s blocked=%s", directive, blocked or "-")
    return Response(content=None, status_code=204)


route_handlers = [csp_report]
