"""Browser journeys against the real server, with Playwright and axe-core.

One server per test session: a subprocess running `python -m portal serve`
on a free port, with its own SQLite database, session folder and development
signing key in a temporary folder (`migrate` and `demo` run first). One
Chromium per session (Debian's /usr/bin/chromium, or Playwright's own on a
laptop without it), and a fresh context per test: a phone, 390x844, sv-SE.

Helpers for the tests:
    axe_check(page)        axe-core, WCAG 2.0/2.1/2.2 A+AA and best practice: no violations
    shot(page, name)       full-page screenshot to e2e/artifacts/<html lang>/<name>.png
    check(page, name)      both of the above, plus: no console errors so far
    check_both(page, name) check() in the current language variant, switch with the
                           footer link to the other one, check() there, switch back

Notices: the server sends its outbox to a real SMTP server in the test session
(aiosmtpd on 127.0.0.1, the `mailbox` fixture); `mailbox.wait_for(address)` waits
until mail to that address has arrived.

Console errors and uncaught page errors fail the test: `check()` asserts there are
none so far, and every page is checked again when its test ends. `allow_console(page,
regex)` excuses an expected one (a 404 page logs "Failed to load resource ... 404"); a
Content-Security-Policy violation is excused only by a pattern that names it
(test_security.py provokes one on purpose).

The contexts keep the real Content-Security-Policy: every page of every journey runs
under it. axe-core is evaluated through the DevTools protocol (`page.evaluate` of its
source), which the page's CSP does not govern, so it needs no bypass and no inline
script. The policy's report-uri (POST /csp-rapport) logs each violation the browser
reports; at the end of the session the portal server's log must hold no CSP report,
and no demo person's id, name or address, no JWT-shaped token and no session id a
browser context was given (tests/log_scan.py).
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.log_scan import csp_reports, log_lines, report, scan
from tests.processes import Mailbox, Server, free_port, healthy, portal_env, run_command, start_portal

ROOT = Path(__file__).resolve().parent.parent

ARTIFACTS = ROOT / "e2e" / "artifacts"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Playwright waits at most this long for anything: a hung page fails fast.
ACTION_TIMEOUT_MS = 10_000

VARIANTS = {"sv": "Svenska (Sverige)", "sv-FI": "Svenska (Finland)"}
SESSION_COOKIES = {"sip_session", "__Host-sip"}  # portal.auth.sessions.cookie_name
CSP_MESSAGE = re.compile(r"Content[ -]Security[ -]Policy", re.IGNORECASE)


# ---------------------------------------------------------------- the server

# The server processes and the SMTP server live in tests/processes.py (shared with the
# tests that run several instances); the names below are the ones the journeys import.
_free_port = free_port
_server_env = portal_env
_run = run_command
_healthy = healthy


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the journeys' portal sends its notices to."""
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture(scope="session")
def portal_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[Server]:
    """The real server, migrated and with the demo people, for the whole session.

    The journeys start from the people alone (consent from scratch, plans written in
    the test); test_first_run.py starts its own server with the stories. Once it has
    stopped, its log is checked (`assert_clean_server_log`)."""
    for server in start_portal(tmp_path_factory.mktemp("portal-e2e"), ["--people-only"], mailbox):
        yield server
    assert_clean_server_log(server, "the journeys' portal server")


# Session cookies the browser contexts were given (collected as each context closes).
SESSION_IDS: dict[str, str] = {}


def assert_clean_server_log(server: Server, name: str) -> None:
    """Fail when the server's log holds a CSP report from a browser, or personal data or
    a secret (tests/log_scan.py); secrets are shown cut short."""
    log = server.output()
    reported = csp_reports(log)
    assert not reported, (f"{name} logged {len(reported)} Content-Security-Policy "
                          "violation(s) reported by the browser:\n  " + "\n  ".join(reported[:20]))
    hits = scan(log_lines(log, f"{name} ({server.log_path})"), SESSION_IDS)
    assert not hits, report(hits)


@pytest.fixture(scope="session")
def base_url(portal_server: Server) -> str:
    return portal_server.url


@pytest.fixture(autouse=True)
def _server_stays_up(portal_server: Server) -> Iterator[None]:
    """Fail at once, with the server's output, if the server is gone."""
    portal_server.assert_running()
    yield
    portal_server.assert_running()


# ---------------------------------------------------------------- the browser

@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    options: dict = {"args": CHROMIUM_ARGS}
    if CHROMIUM.exists():
        options["executable_path"] = str(CHROMIUM)
    # else: Playwright's own Chromium (`playwright install chromium`), for laptops.
    browser = playwright_instance.chromium.launch(**options)
    yield browser
    browser.close()


class Console:
    """Console errors and uncaught exceptions, per page."""

    def __init__(self) -> None:
        self.errors: dict[Page, list[str]] = {}
        self.allowed: dict[Page, list[re.Pattern[str]]] = {}

    def watch(self, page: Page) -> None:
        self.errors[page] = []
        self.allowed[page] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "assert"):
                source = message.location.get("url") or ""
                where = f" ({source})" if source and source != page.url else ""
                self.errors[page].append(f"console.{message.type} at {page.url}: {message.text}{where}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors[page].append(
            f"uncaught {error.name} at {page.url}: {error.message}"))

    def unexpected(self, page: Page) -> list[str]:
        """The errors no allow_console() pattern excuses; a CSP violation only by a
        pattern that names the policy, never by a general one ("status of 400")."""
        allowed = self.allowed.get(page, [])
        return [e for e in self.errors.get(page, [])
                if not any(p.search(e) and (not CSP_MESSAGE.search(e) or CSP_MESSAGE.search(p.pattern))
                           for p in allowed)]

    def assert_clean(self, page: Page) -> None:
        errors = self.unexpected(page)
        assert not errors, "errors in the browser console:\n  " + "\n  ".join(errors)


_console = Console()


def allow_console(page: Page, pattern: str) -> None:
    """Excuse console errors matching `pattern` on this page (e.g. the 404 itself)."""
    _console.allowed.setdefault(page, []).append(re.compile(pattern))


def clear_console(page: Page) -> None:
    _console.errors[page] = []


def console_errors(page: Page) -> list[str]:
    return list(_console.errors.get(page, []))


@pytest.fixture
def new_context(browser: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """Make a context: a phone in Swedish unless told otherwise; closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        settings = {
            "base_url": base_url,
            "viewport": PHONE,
            "locale": "sv-SE",
            "service_workers": "block",
        }
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.on("page", _console.watch)
        contexts.append(context)
        return context

    yield make
    problems = []
    for context in contexts:
        for cookie in context.cookies():
            if cookie["name"] in SESSION_COOKIES and len(cookie["value"]) >= 20:
                SESSION_IDS[cookie["value"]] = "session id"
        for page in context.pages:
            problems += _console.unexpected(page)
            _console.errors.pop(page, None)
            _console.allowed.pop(page, None)
        context.close()
    assert not problems, "errors in the browser console:\n  " + "\n  ".join(problems)


@pytest.fixture
def new_page(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """A page in a new context (same options as new_context)."""

    def make(**options) -> Page:
        return new_context(**options).new_page()

    return make


@pytest.fixture
def phone(new_page: Callable[..., Page]) -> Page:
    """A fresh phone-sized page (390x844, sv-SE) with the console watched."""
    return new_page()


# ---------------------------------------------------------------- checks

def html_lang(page: Page) -> str:
    """The page's lang, read once a navigation a click started has settled (the
    locator waits and retries; evaluating mid-navigation can see no document)."""
    page.wait_for_load_state("domcontentloaded")
    return page.locator("html").get_attribute("lang") or ""


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text()


def axe_check(page: Page) -> None:
    """Run axe-core on the page; fail with rule, impact, targets and help per violation."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS.relative_to(ROOT)} is missing: run `npm ci` (or `make browser`)",
                    pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol: not governed by the page's CSP (a script tag is).
        page.evaluate(_axe_source())
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    if result:
        lines = [f"axe found {len(result)} violation(s) on {page.url} (lang {html_lang(page)}):"]
        for v in result:
            lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['url']})")
            for node in v["nodes"][:10]:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"    {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


def shot(page: Page, name: str) -> Path:
    """Full-page screenshot, e2e/artifacts/<html lang>/<name>.png (gitignored)."""
    path = ARTIFACTS / (html_lang(page) or "unknown") / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def check(page: Page, name: str) -> None:
    """Console clean so far, axe clean, screenshot taken."""
    page.wait_for_load_state("load")
    _console.assert_clean(page)
    shot(page, name)
    axe_check(page)


def switch_variant(page: Page, lang: str) -> None:
    """Choose a language variant with the footer link; waits for the page to come back."""
    label = VARIANTS[lang]
    with page.expect_navigation():
        page.locator("footer").get_by_role("link", name=label, exact=True).click()
    assert html_lang(page) == lang, f"after choosing {label}: html lang is {html_lang(page)!r}"


def check_both(page: Page, name: str) -> None:
    """check() this page in its variant, then in the other one, then switch back."""
    here = html_lang(page)
    other = "sv-FI" if here == "sv" else "sv"
    path = page.url
    check(page, name)
    switch_variant(page, other)
    assert page.url == path, f"the language switch lost the address: {path} -> {page.url}"
    check(page, name)
    switch_variant(page, here)
    assert page.url == path


def pytest_sessionstart(session: pytest.Session) -> None:
    # Screenshots are from this run only: cleared once, by the xdist controller (or the
    # only process), not by each worker after others have started writing.
    if hasattr(session.config, "workerinput"):
        return
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)


def open_menu(page: Page):
    """Open the header's "Meny" (a <details>) and return its navigation."""
    menu = page.get_by_role("navigation", name="Huvudmeny")
    page.locator("summary", has_text="Meny").click()
    # The <nav> itself has no height (its list is positioned): look at an item.
    expect(menu.get_by_role("link").first).to_be_visible()
    return menu
