"""Staff log in through the staff login."""

from __future__ import annotations

import re

from conftest import check, check_both, open_menu, shot
from playwright.sync_api import Page, expect


def test_contact_person_logs_in(phone: Page) -> None:
    page = phone
    page.goto("/")
    page.get_by_role("link", name="Logga in som personal").click()
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?"))
    expect(page.get_by_role("heading", name="Personal i Sverige")).to_be_visible()
    check(page, "provider-staff")

    page.get_by_role("button", name=re.compile(r"^Anna Berg\b")).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna!")
    expect(page.get_by_text("Kalmar vårdcentral").first).to_be_visible()
    # Staff do not act for anyone: no choice list, no banner, no "Byt person".
    expect(page.get_by_role("heading", name="Vem vill du använda tjänsten för?")).to_have_count(0)
    expect(page.get_by_role("region", name="Du använder tjänsten för någon annan")).to_have_count(0)
    check_both(page, "start-staff-anna")
    menu = open_menu(page)
    expect(menu.get_by_role("link", name="Byt person")).to_have_count(0)
    shot(page, "start-staff-anna-menu")
    menu.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/utloggad$"))
