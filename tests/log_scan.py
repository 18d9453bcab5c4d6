"""What must never be in a log line, and a scanner that finds it.

Used three ways: by the session-wide capture of the unit and HTTP suite
(tests/conftest.py, `_every_log_line_is_scanned`), by the browser suite on the portal
server's own log (e2e/conftest.py), and by tests/core/test_no_personal_data_in_logs.py
for chosen journeys. A hit names where the line came from and what kind of secret it
holds, and shows the secret only cut short (`redact`), so that the failure report does
not itself spread it.

What is looked for:
- the demo people's national ids in every way they are written (with and without the
  century, with "-" or "+", the Finnish one in lower case and without its sign), their
  full names ("Viola Andersson"), their e-mail addresses, and the demo staff's names;
- JWT-shaped tokens (three base64url parts: also the FHIR API's client assertions);
- a credential after "Bearer " (an Authorization header written out);
- the secrets the portal handed out during the run (`Harvest`): session ids (the
  cookie's value), CSRF tokens, login states, nonces and PKCE verifiers, and the
  development provider's authorization codes, read from the session store as they are
  written; and the FHIR API's access tokens, which the store keeps only as SHA-256
  ("fhir-token:<hex>", portal.fhir.tokens): a run of the token's length whose hash is
  one of them is a hit.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from portal.people.demo import PEOPLE, STAFF

# A line as portal.core.logging writes it: time, level, logger, message.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ([\w.]+) ")
CSP_REPORT_LINE = re.compile(r" portal\.csp csp violation: (.*)$")
JWT_SHAPED = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")
# The portal's secrets are token_urlsafe(32) (43 characters) or longer verifiers: any
# run of 20+ base64url characters in a line is looked up among them.
TOKEN_SHAPED = re.compile(r"[A-Za-z0-9_-]{20,}")
BEARER = re.compile(r"\bbearer\s+[A-Za-z0-9._~+/-]{20,}", re.IGNORECASE)
FHIR_TOKEN_KEY = "fhir-token:"
# Secrets known only by their SHA-256 are kept in `Harvest.secrets` under this prefix.
HASHED = "sha256:"


def national_id_forms(number: str, country: str) -> set[str]:
    """Every way `number` (a personnummer "YYYYMMDDNNNN" or a Finnish henkilötunnus
    "DDMMYYCZZZQ") is commonly written."""
    if country == "FI":
        return {number, number.lower(), number[:6] + number[7:]}
    return {number, f"{number[:8]}-{number[8:]}", number[2:], f"{number[2:8]}-{number[8:]}",
            f"{number[2:8]}+{number[8:]}"}


def _demo_personal_data() -> dict[str, str]:
    """secret -> what it is (said in a failure instead of the secret)."""
    found: dict[str, str] = {}
    for key, (given, family, _born, number, country, email) in PEOPLE.items():
        for form in national_id_forms(number, country):
            found[form] = f"national id of {key}"
        found[f"{given} {family}"] = f"full name of {key}"
        if email:
            found[email] = f"e-mail address of {key}"
    for employee, given, family, *_ in STAFF:
        found[f"{given} {family}"] = f"full name of staff member {employee}"
    return found


PERSONAL_DATA = _demo_personal_data()


def redact(secret: str) -> str:
    """Enough of `secret` to recognise it, never all of it: "1948…(13 chars)"."""
    return f"{secret[:4]}…({len(secret)} chars)"


@dataclass(frozen=True)
class Hit:
    where: str  # the test (or file) whose log it was
    logger: str
    kind: str  # "national id of viola", "session id", "JWT-shaped token" …
    shown: str  # the secret, redacted

    def __str__(self) -> str:
        return f"{self.where}: logger {self.logger!r} wrote a {self.kind} ({self.shown})"


class Harvest:
    """The secrets handed out during a run, as they are written to the session store.

    `saw(key, value)` is called with every key and value written to a store; thread
    safe (the test client's app runs in another thread)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # secret -> kind
        self._lock = threading.Lock()

    def add(self, secret: object, kind: str) -> None:
        if isinstance(secret, str) and len(secret) >= 20:
            with self._lock:
                self.secrets[secret] = kind

    def saw(self, key: str, value: object) -> None:
        if key.startswith("devidp:code:"):
            self.add(key.removeprefix("devidp:code:"), "authorization code")
            return
        if key.startswith(FHIR_TOKEN_KEY):
            self.add(HASHED + key.removeprefix(FHIR_TOKEN_KEY), "FHIR access token")
            return
        if not key.startswith("session:"):
            return
        self.add(key.removeprefix("session:"), "session id")
        try:
            data = json.loads(value if isinstance(value, str | bytes) else "")
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        self.add(data.get("csrf"), "CSRF token")
        pending = data.get("oidc_pending")
        if isinstance(pending, dict):
            for state, attempt in pending.items():
                self.add(state, "login state")
                if isinstance(attempt, dict):
                    self.add(attempt.get("nonce"), "login nonce")
                    self.add(attempt.get("verifier"), "PKCE verifier")


def hits_in(line: str, *, where: str, logger: str,
            secrets: dict[str, str] | None = None) -> list[Hit]:
    """What `line` holds that no log line may hold (the demo people's data, a
    JWT-shaped token, any of `secrets`: secret -> kind). Empty when it is clean."""
    # One hit per kind: "194805149822" also holds the short form "4805149822".
    kinds = {kind: secret for secret, kind in sorted(PERSONAL_DATA.items(), key=lambda s: len(s[0]))
             if secret in line}
    found = [Hit(where, logger, kind, redact(secret)) for kind, secret in kinds.items()]
    found += [Hit(where, logger, "JWT-shaped token", redact(m.group()))
              for m in JWT_SHAPED.finditer(line)]
    found += [Hit(where, logger, "bearer token", redact(m.group()))
              for m in BEARER.finditer(line)]
    if secrets:
        for match in TOKEN_SHAPED.finditer(line):
            # A secret may sit inside a longer run (a key "session:<id>" or a URL part).
            run = match.group()
            for secret, kind in _secrets_within(run, secrets):
                found.append(Hit(where, logger, kind, redact(secret)))
    return found


def _known(piece: str, secrets: dict[str, str]) -> str | None:
    """The kind of secret `piece` is, by value or (a FHIR access token) by its hash."""
    if piece in secrets:
        return secrets[piece]
    if len(piece) == 43:
        return secrets.get(HASHED + hashlib.sha256(piece.encode()).hexdigest())
    return None


def _secrets_within(run: str, secrets: dict[str, str]) -> Iterable[tuple[str, str]]:
    if (kind := _known(run, secrets)) is not None:
        yield run, kind
        return
    if len(run) > 43:  # a longer run: look for a token_urlsafe(32) inside it
        for start in range(len(run) - 42):
            piece = run[start:start + 43]
            if (kind := _known(piece, secrets)) is not None:
                yield piece, kind
                return


def scan(lines: Iterable[tuple[str, str, str]], secrets: dict[str, str] | None = None) -> list[Hit]:
    """Every hit in `lines`, each (where, logger, text)."""
    found: list[Hit] = []
    for where, logger, text in lines:
        found += hits_in(text, where=where, logger=logger, secrets=secrets)
    return found


def report(hits: list[Hit], limit: int = 30) -> str:
    """A failure message listing the hits (the first `limit`), secrets redacted."""
    lines = [f"{len(hits)} piece(s) of personal data or secrets in log lines:"]
    lines += [f"  {hit}" for hit in hits[:limit]]
    if len(hits) > limit:
        lines.append(f"  … and {len(hits) - limit} more")
    return "\n".join(lines)


def log_lines(log: str, where: str) -> list[tuple[str, str, str]]:
    """A process's log output as (where, logger, line) for `scan`; a line that is not
    the portal's (a server's start-up message) has the logger "server output"."""
    lines = []
    for line in log.splitlines():
        match = LOG_LINE.match(line)
        lines.append((where, match.group(1) if match else "server output", line))
    return lines


def csp_reports(log: str) -> list[str]:
    """The Content-Security-Policy violations a portal's log output holds
    (portal.core.csp_report logs one line each): "directive=… blocked=…" per report."""
    return [m.group(1) for line in log.splitlines() if (m := CSP_REPORT_LINE.search(line))]
