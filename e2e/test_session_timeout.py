"""The warning before the idle timeout (WCAG 2.2.1), with Playwright's fake clock."""

from __future__ import annotations

import re

from conftest import allow_console, check, open_menu, shot
from playwright.sync_api import Page, expect


def test_idle_warning_dialog(phone: Page) -> None:
    page = phone
    # Before the first page, so session-timeout.js reads the fake clock. The
    # server keeps real time: its 20 minutes do not pass during the test.
    page.clock.install()
    page.goto("/")
    page.get_by_role("link", name="Logga in", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Viola Andersson\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Viola!")
    # The heading is there before the deferred script has read the clock: wait for it,
    # or a busy machine starts the idle time after the fast-forward.
    page.wait_for_load_state("load")

    dialog = page.get_by_role("dialog", name="Vill du fortsätta?")
    expect(dialog).to_be_hidden()
    page.clock.fast_forward("17:00")
    expect(dialog).to_be_hidden()

    page.clock.fast_forward("01:30")  # 18:30 idle: 1:30 left
    expect(dialog).to_be_visible()
    continue_button = dialog.get_by_role("button", name="Ja, fortsätt")
    expect(continue_button).to_be_focused()
    expect(page.locator("#session-countdown")).to_have_text(re.compile(r"^1:[0-3]\d$"))
    # The dialog says why and how long; the live region is quiet until a moment.
    described = dialog.get_attribute("aria-describedby").split()
    assert "session-dialog-time" in described and "session-dialog-text" in described
    announce = page.locator("#session-announce")
    expect(announce).to_have_text("")
    check(page, "session-warning")
    page.clock.fast_forward("00:05")
    expect(announce).to_have_text("")  # a second passing is not news
    page.clock.fast_forward("00:30")  # under a minute left
    expect(announce).to_have_text("Du har 1 minut kvar.")
    page.clock.fast_forward("00:31")
    expect(announce).to_have_text("Du har 30 sekunder kvar.")

    with page.expect_response(lambda r: r.url.endswith("/session/forlang")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    expect(dialog).to_be_hidden()

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Viola!")
    expect(page.get_by_text("Inloggad: Viola Andersson")).to_be_visible()
    page.wait_for_load_state("load")

    page.clock.fast_forward("18:30")
    expect(dialog).to_be_visible()
    page.clock.fast_forward("02:00")  # past 20 minutes without answering
    expect(page).to_have_url(re.compile(r"/session-slut$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har loggats ut")
    shot(page, "session-ended-after-warning")


def _log_in_as_viola(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Logga in", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Viola Andersson\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Viola!")


def test_logging_out_in_one_tab_ends_every_tab(new_context) -> None:
    context = new_context()
    first = context.new_page()
    _log_in_as_viola(first)
    second = context.new_page()
    second.goto("/vem")
    expect(second.get_by_role("heading", level=1)).to_have_text("Byt person")
    third = context.new_page()
    third.goto("/samtycke")

    menu = open_menu(first)
    menu.get_by_role("button", name="Logga ut").click()
    expect(first).to_have_url(re.compile(r"/utloggad$"))
    # The other tabs leave the person's pages at once, without a click.
    for other in (second, third):
        expect(other).to_have_url(re.compile(r"/utloggad$"))
        expect(other.get_by_role("heading", level=1)).to_have_text("Du är utloggad")
        expect(other.get_by_text("Inloggad: Viola Andersson")).to_have_count(0)
    check(second, "logged-out-in-another-tab")


def test_a_later_login_is_not_ended_by_an_earlier_one(new_context) -> None:
    """A tab of an old login that reports its end must not end the new login."""
    context = new_context()
    page = context.new_page()
    _log_in_as_viola(page)
    old_tag = page.locator("body").get_attribute("data-session-tag")
    context.clear_cookies()
    _log_in_as_viola(page)
    other = context.new_page()
    other.goto("/vem")
    page.evaluate("""(tag) => {
        new BroadcastChannel("sip-portal").postMessage({type: "ended", tag: tag, reason: "logout"});
        localStorage.setItem("sip-portal:ended", JSON.stringify({type: "ended", tag: tag, at: Date.now()}));
    }""", old_tag)
    other.wait_for_timeout(300)
    expect(other).to_have_url(re.compile(r"/vem$"))
    expect(other.get_by_text("Inloggad: Viola Andersson")).to_be_visible()


def test_continue_from_a_session_that_has_ended_goes_to_the_logged_out_page(phone: Page) -> None:
    page = phone
    page.clock.install()
    _log_in_as_viola(page)
    # The session ends elsewhere (another browser window logged out, the cookie is gone).
    page.context.clear_cookies()
    page.clock.fast_forward("18:30")
    dialog = page.get_by_role("dialog", name="Vill du fortsätta?")
    expect(dialog).to_be_visible()
    allow_console(page, r"401 \(Unauthorized\)")
    dialog.get_by_role("button", name="Ja, fortsätt").click()
    expect(page).to_have_url(re.compile(r"/utloggad$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är utloggad")
    expect(dialog).to_have_count(0)
