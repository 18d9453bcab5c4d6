"""Marina chooses how she hears from the portal: the settings page on a phone, in both
variants, with a mistake first and then a saved change (axe and screenshots)."""

from __future__ import annotations

import re

from conftest import allow_console, check, check_both, open_menu
from playwright.sync_api import Page, expect
from test_consent_journeys import log_in


def test_marina_changes_her_notice_settings_on_a_phone(phone: Page) -> None:
    page = phone
    log_in(page, "Marina Lindqvist")
    open_menu(page).get_by_role("link", name="Inställningar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inställningar")
    expect(page.get_by_label("E-postadress")).to_have_value("marina.lindqvist@example.fi")
    check_both(page, "notice-settings")

    allow_console(page, r"status of 400")  # the form with a mistake comes back as a 400
    page.get_by_label("E-postadress").fill("marina på nätet")
    page.get_by_label("Mobilnummer").fill("040 174 0612")
    page.get_by_role("button", name="Spara").click()
    expect(page).to_have_title(re.compile(r"^Fel: Inställningar"))
    expect(page.get_by_role("heading", name="Det finns ett fel")).to_be_visible()
    expect(page.get_by_label("Mobilnummer")).to_have_value("040 174 0612")  # what she typed
    check(page, "notice-settings-error")

    page.get_by_role("link", name=re.compile("Skriv e-postadressen som")).click()
    expect(page.get_by_label("E-postadress")).to_be_focused()
    page.get_by_label("E-postadress").fill("marina.lindqvist@example.org")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Dina inställningar är sparade.")).to_be_visible()
    expect(page.get_by_label("E-postadress")).to_have_value("marina.lindqvist@example.org")
    expect(page.get_by_label("Mobilnummer")).to_have_value("040 1740612")
    check(page, "notice-settings-saved")
