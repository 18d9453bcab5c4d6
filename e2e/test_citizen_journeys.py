"""People log in, choose whom they use the service for, switch language and log out."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from conftest import ROOT, check, check_both, html_lang, open_menu, shot, switch_variant
from playwright.sync_api import Page, expect

SV_FI_CATALOG = ROOT / "locales" / "sv_FI" / "LC_MESSAGES" / "messages.po"


def start_citizen_login(page: Page) -> None:
    """Anonymous start page -> "Logga in" -> the identity provider's list of people."""
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen till SIP-portalen")
    page.get_by_role("link", name="Logga in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Välj vem du vill logga in som")


def choose_identity(page: Page, name: str) -> None:
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page).to_have_url(re.compile(r"/$"))


def choose_person(page: Page, name: str) -> None:
    choices = page.get_by_role("region", name="Vem vill du använda tjänsten för?")
    choices.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page).to_have_url(re.compile(r"/$"))


def acting_banner(page: Page):
    return page.get_by_role("region", name="Du använder tjänsten för någon annan")


def finland_swedish_wordings(page: Page) -> list[str]:
    """Finland-Swedish texts (sv_FI msgstr that differ from Sweden's) shown on the page."""
    if not SV_FI_CATALOG.exists():
        return []
    with Path(SV_FI_CATALOG).open("rb") as handle:
        catalog = read_po(handle, locale="sv_FI")
    text = " ".join(page.locator("body").inner_text().split())
    found = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy or isinstance(message.id, tuple):
            continue
        wording = " ".join(str(message.string).split())
        if wording != message.id and "%(" not in wording and wording in text:
            found.append(wording)
    return found


def log_out(page: Page) -> None:
    menu = open_menu(page)
    menu.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/utloggad$"))


def test_son_logs_in_and_acts_for_viola(phone: Page) -> None:
    page = phone
    page.goto("/")
    check_both(page, "start-anonymous")
    start_citizen_login(page)
    # The language switch keeps the login request (the query string) intact.
    check_both(page, "provider-citizen")
    choose_identity(page, "Johan Andersson")

    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Johan!")
    expect(page.get_by_role("heading", name="Vem vill du använda tjänsten för?")).to_be_visible()
    check_both(page, "start-johan-choose")

    choose_person(page, "Viola Andersson")
    banner = acting_banner(page)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Du använder tjänsten för: Viola Andersson")
    expect(banner.get_by_role("link", name="Byt person")).to_be_visible()
    box = banner.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    check_both(page, "start-johan-acting-for-viola")

    # The banner is on every page, also the information pages.
    page.locator("footer").get_by_role("link", name="Kontakt").click()
    expect(acting_banner(page)).to_contain_text("Viola Andersson")
    check(page, "contact-acting-for-viola")
    page.goto("/")

    switch_variant(page, "sv-FI")
    assert html_lang(page) == "sv-FI"
    expect(page.locator("footer").get_by_role("link", name="Svenska (Finland)")).to_have_attribute(
        "aria-current", "true")
    expect(acting_banner(page)).to_contain_text("Viola Andersson")
    wordings = finland_swedish_wordings(page)
    shot(page, "start-johan-acting-for-viola-after-switch")

    log_out(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är utloggad")
    assert html_lang(page) == "sv-FI", "the chosen language is kept after logging out"
    check_both(page, "logged-out")

    # Last, so that everything else above is still checked while the catalog is missing.
    assert wordings, (
        "no Finland-Swedish wording on the start page in sv-FI "
        f"({'no catalog at ' + str(SV_FI_CATALOG.relative_to(ROOT)) if not SV_FI_CATALOG.exists() else 'catalog has no differing text shown here'})"
    )


def test_guardian_sees_child(phone: Page) -> None:
    page = phone
    start_citizen_login(page)
    choose_identity(page, "Amina Hassan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Amina!")
    choices = page.get_by_role("region", name="Vem vill du använda tjänsten för?")
    expect(choices.get_by_role("button", name=re.compile(r"^Ylva Hassan"))).to_contain_text(
        "Du är vårdnadshavare.")
    check_both(page, "start-amina-choose")

    choose_person(page, "Ylva Hassan")
    expect(acting_banner(page)).to_contain_text("Du använder tjänsten för: Ylva Hassan")
    expect(page.get_by_text("Nu ser du uppgifter om Ylva Hassan.")).to_be_visible()
    check_both(page, "start-amina-acting-for-ylva")

    acting_banner(page).get_by_role("link", name="Byt person").click()
    expect(page).to_have_url(re.compile(r"/vem$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Byt person")
    check_both(page, "choose-person-amina")
    page.get_by_role("button", name=re.compile(r"^Amina Hassan \(du själv\)")).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(acting_banner(page)).to_have_count(0)


def test_finnish_person_reads_in_finland_swedish(phone: Page) -> None:
    page = phone
    page.goto("/")
    switch_variant(page, "sv-FI")
    check(page, "start-anonymous-chosen")
    page.get_by_role("link", name="Logga in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?.*ui_locales=sv-FI"))
    assert html_lang(page) == "sv-FI"
    check(page, "provider-citizen")
    choose_identity(page, "Elsa Holmström")

    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Elsa!")
    assert html_lang(page) == "sv-FI", "the language chosen before login is kept after it"
    expect(page.locator("footer").get_by_role("link", name="Svenska (Finland)")).to_have_attribute(
        "aria-current", "true")
    check(page, "start-elsa")

    page.locator("footer").get_by_role("link", name="Tillgänglighet").click()
    expect(page).to_have_url(re.compile(r"/tillganglighet$"))
    assert html_lang(page) == "sv-FI"
    check(page, "accessibility-elsa")
    log_out(page)
    assert html_lang(page) == "sv-FI"


def _focus_is_visible(page: Page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        const shadow = style.boxShadow && style.boxShadow !== 'none';
        const r = el.getBoundingClientRect();
        return {text: (el.innerText || el.textContent || '').trim(), tag: el.tagName,
                visible: outline || shadow, outline: style.outlineStyle + ' ' + style.outlineWidth,
                shadow: style.boxShadow, width: r.width, height: r.height,
                onScreen: r.width > 1 && r.height > 1};
    }""")


def _tab_to(page: Page, text: str, limit: int = 40) -> None:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focus_is_visible(page)
        seen.append(focused["text"][:40])
        assert focused["visible"] and focused["onScreen"], f"focus is not visible: {focused}"
        if focused["text"].startswith(text):
            return
    raise AssertionError(f"{text!r} was not reached with Tab; focus went through {seen}")


def test_keyboard_only_login(phone: Page) -> None:
    page = phone
    page.goto("/")
    page.keyboard.press("Tab")
    skip = _focus_is_visible(page)
    assert skip["text"] == "Hoppa till innehållet", skip
    assert skip["visible"] and skip["onScreen"] and skip["height"] >= 44, (
        f"the skip link must be visible when focused: {skip}")
    shot(page, "keyboard-skip-link")

    _tab_to(page, "Logga in")
    shot(page, "keyboard-login-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?"))

    _tab_to(page, "Viola Andersson")
    shot(page, "keyboard-provider-viola-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Viola!")

    # The menu opens with Space and its items are reachable with Tab.
    _tab_to(page, "Meny")
    page.keyboard.press("Space")
    expect(page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Start")).to_be_visible()
    _tab_to(page, "Start")
    shot(page, "keyboard-menu-open")
