"""The warning before the idle timeout (WCAG 2.2.1), with Playwright's fake clock."""

from __future__ import annotations

import re

from conftest import check, shot
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
    check(page, "session-warning")

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
