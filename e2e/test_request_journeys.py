"""Be om samordning on a phone: Johan asks for coordination for his mother Viola.

Each page is checked with axe and photographed in both language variants."""

from __future__ import annotations

import re

from conftest import allow_console, check_both
from playwright.sync_api import Page, expect
from test_consent_journeys import log_in


def test_johan_asks_for_coordination_for_viola(phone: Page) -> None:
    page = phone
    log_in(page, "Johan Andersson")
    page.goto("/arenden/ny")
    check_both(page, "request-1-for-whom")
    page.get_by_label("Viola Andersson").check()
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vad är svårt för Viola just nu?")
    check_both(page, "request-2-what-is-hard")
    page.get_by_label("Vad är svårt för Viola just nu?").fill(
        "Mamma ringer mig varje natt. Hon glömmer sina mediciner.")
    page.get_by_role("button", name="Fortsätt").click()
    check_both(page, "request-3-which-units")
    page.get_by_label(re.compile(r"^Kalmar vårdcentral")).check()
    page.get_by_role("button", name="Fortsätt").click()
    allow_console(page, "status of 400")  # the error page answers 400, as it should
    page.get_by_role("button", name="Fortsätt").click()  # nothing chosen: the error summary
    expect(page).to_have_title(re.compile(r"^Fel: "))
    check_both(page, "request-4-contact-error")
    page.get_by_label("Ring mig").check()
    page.get_by_label("Telefonnummer").fill("070-123 45 67")
    page.get_by_role("button", name="Fortsätt").click()
    check_both(page, "request-5-consent")
    if page.get_by_label("Senare går bra").count():
        page.get_by_label("Senare går bra").check()
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    check_both(page, "request-6-check")
    page.get_by_role("button", name="Skicka").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack! Vi har tagit emot din begäran.")
    expect(page.locator("main")).to_contain_text("Du får svar senast")
    check_both(page, "request-7-receipt")
    page.get_by_role("link", name="Till alla ärenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Violas ärenden")
    check_both(page, "request-8-my-requests")
    page.locator(".request-list a").first.click()
    expect(page.locator("main")).to_contain_text("Skickat av Johan Andersson för Viola Andersson")
    check_both(page, "request-9-detail")
