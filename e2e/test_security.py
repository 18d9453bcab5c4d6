"""The real Content-Security-Policy (every context keeps it): sent, enforced, reported."""

from __future__ import annotations

import re

from conftest import allow_console, clear_console, console_errors, open_menu
from playwright.sync_api import Page, Route, expect

FINGERPRINT = re.compile(r"\.[0-9a-f]{12}(\.js)$")
CSP_WORDS = re.compile(r"Content Security Policy|Content-Security-Policy", re.IGNORECASE)


def test_strict_csp_is_enforced_and_own_scripts_run(new_page) -> None:
    page: Page = new_page()  # every context keeps the real policy (conftest.py)
    scripts: dict[str, int] = {}
    # Keyed by the plain name: the pages link fingerprinted names (portal.core.assets).
    page.on("response", lambda r: scripts.__setitem__(
        FINGERPRINT.sub(r"\1", r.url.split("/static/", 1)[1]), r.status)
        if "/static/" in r.url and r.url.endswith(".js") else None)

    response = page.goto("/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    assert page.evaluate("htmx.config.allowEval") is False, "the htmx-config meta was not applied"
    assert page.evaluate("htmx.config.selfRequestsOnly") is True

    # Log in and reach pages with the menu, the session script and htmx forms.
    page.get_by_role("link", name="Logga in", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Johan Andersson\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Johan!")
    page.get_by_role("button", name=re.compile(r"^Viola Andersson\b")).click()
    expect(page.get_by_role("region", name="Du använder tjänsten för någon annan")).to_be_visible()
    open_menu(page)
    page.goto("/vem")
    assert page.evaluate("typeof htmx") == "object"
    for name in ("js/portal.js", "js/session-timeout.js"):
        assert scripts.get(name) == 200, f"{name} did not load: {scripts}"
    assert any(n.startswith("vendor/htmx") and s == 200 for n, s in scripts.items()), scripts
    # session-timeout.js ran: it turned the countdown's live region off.
    assert page.locator("#session-countdown").get_attribute("aria-live") == "off"
    assert not console_errors(page), console_errors(page)

    # And the policy really bites: an inline script is refused and reported, in the
    # console and to the report-uri. That report is answered here, so that the server's
    # log stays free of reports (the session fails on any, conftest.py).
    allow_console(page, r"Content Security Policy")
    reports: list[tuple[str, dict]] = []

    def keep_report(route: Route) -> None:
        reports.append((route.request.headers.get("content-type", ""), route.request.post_data_json))
        route.fulfill(status=204)

    page.route("**/csp-rapport", keep_report)
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.head.appendChild(s);
    }""")
    page.wait_for_timeout(100)
    assert page.evaluate("window.__inlineRan === true") is False, "an inline script ran"
    assert any(CSP_WORDS.search(e) for e in console_errors(page)), (
        f"no CSP violation reported for the inline script: {console_errors(page)}")
    for _ in range(50):
        if reports:
            break
        page.wait_for_timeout(100)
    assert reports, "the browser sent no report to the policy's report-uri"
    content_type, body = reports[0]
    assert content_type.startswith("application/csp-report"), content_type
    assert body["csp-report"]["effective-directive"].startswith("script-src"), body
    clear_console(page)
