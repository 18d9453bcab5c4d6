"""Consent journeys: guardians one after the other, give and withdraw, staff recording an
oral consent, a double click, and the whole thing without JavaScript.

The server's database is shared by every e2e test in a run, so each journey uses its
own person where it can, starts by withdrawing whatever is in force if it needs a known
starting point (that withdrawal is its own act), and asserts the state after its own
acts, never the absence of other tests' acts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import (
    allow_console,
    check,
    check_both,
    html_lang,
    open_menu,
    shot,
    switch_variant,
)
from playwright.sync_api import Locator, Page, expect

VC = "Kalmar vårdcentral"
SOC = "Socialtjänsten i Kalmar kommun"
AVD12 = "Avdelning 12, Länssjukhuset Kalmar"
HAB = "Barn- och ungdomshabiliteringen Kalmar"
FI_HS = "Hälsostationen i Vasa"
FI_SOC = "Socialvården i Vasa"
FI_AVD3 = "Avdelning 3, Vasa centralsjukhus"

MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november"
          "|december")
# "23 november 2026 kl. 14.30" (Sweden) and "23.11.2026 kl. 14.30" (Finland).
WHEN = {
    "sv": re.compile(rf"^\d{{1,2}} ({MONTHS}) \d{{4}} kl\. \d{{2}}\.\d{{2}}$"),
    "sv-FI": re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4} kl\. \d{2}\.\d{2}$"),
}


# ---------------------------------------------------------------- logging in and out

def log_in(page: Page, name: str, *, staff: bool = False, lang: str | None = None) -> None:
    """From the anonymous start page through the test identity provider, as `name`."""
    page.goto("/")
    if lang:
        # Chosen, not only shown: unchosen, the variant follows the person's country.
        switch_variant(page, lang)
    link = "Logga in som personal" if staff else "Logga in"
    page.get_by_role("link", name=link, exact=True).click()
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?"))
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hej {name.split()[0]}!")


def choose_person(page: Page, name: str) -> None:
    choices = page.get_by_role("region", name="Vem vill du använda tjänsten för?")
    choices.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page.get_by_role("region", name="Du använder tjänsten för någon annan")).to_contain_text(
        f"Du använder tjänsten för: {name}")


def log_out(page: Page) -> None:
    open_menu(page).get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/utloggad$"))


# ---------------------------------------------------------------- the consent page

def open_consent(page: Page) -> None:
    open_menu(page).get_by_role("link", name="Samtycke", exact=True).click()
    expect(page).to_have_url(re.compile(r"/samtycke$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Samtycke")


def state_section(page: Page) -> Locator:
    return page.get_by_role("region", name="Det här gäller nu")


def state_row(page: Page, unit: str) -> Locator:
    return state_section(page).locator("li.summary-list__row").filter(
        has=page.locator(".summary-list__key").get_by_text(unit, exact=True))


def expect_status(page: Page, unit: str, status: str) -> None:
    expect(state_row(page, unit).locator(".tag")).to_have_text(status)


def units_with_status(page: Page, status: str) -> list[str]:
    rows = state_section(page).locator("li.summary-list__row")
    return [rows.nth(i).locator(".summary-list__key").inner_text().strip()
            for i in range(rows.count())
            if rows.nth(i).locator(".tag").inner_text().strip() == status]


def unit_box(page: Page, unit: str) -> Locator:
    """The unit's box in the consent form: near the person, or among other units found."""
    return page.locator("form#form-field").get_by_role(
        "checkbox", name=re.compile(rf"^{re.escape(unit)} –"))


def search_units(page: Page, text: str, *, enter: bool = False) -> None:
    """Lägg till en annan verksamhet: open the disclosure (if closed) and search for `text`,
    with the "Sök" button or, `enter`, the Enter key in the field (with JavaScript htmx
    swaps the matches in; without, the consent form is posted and the page comes again)."""
    more = page.locator("details#more-units")
    if more.get_attribute("open") is None:
        more.locator("summary", has_text="Lägg till en annan verksamhet").click()
    field = page.get_by_role("searchbox", name="Sök verksamhet")
    field.fill(text)
    if enter:
        field.press("Enter")
    else:
        page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.locator("#unit-matches [role=status]")).to_contain_text(f"”{text}”")


def tick_exactly(page: Page, units: list[str], proposed: list[str]) -> None:
    """Tick `units` and make sure every other proposed unit is unticked."""
    for unit in proposed:
        box = unit_box(page, unit)
        if unit in units:
            box.check()
        else:
            box.uncheck()
    for unit in units:
        expect(unit_box(page, unit)).to_be_checked()


def withdraw_everything(page: Page) -> int:
    """A known starting point: withdraw whatever is in force or waiting. Returns the acts."""
    acts = 0
    buttons = state_section(page).get_by_role("button", name=re.compile(r"^Ta tillbaka – "))
    while buttons.count():
        buttons.first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kvittens")
        acts += 1
        page.goto("/samtycke")
    return acts


def receipt_value(page: Page, key: str) -> Locator:
    row = page.locator(".summary-list__row").filter(
        has=page.locator("dt").get_by_text(key, exact=True))
    return row.locator("dd")


def expect_receipt(page: Page, headline: str, units: list[str]) -> None:
    expect(page).to_have_url(re.compile(r"/samtycke/kvitto/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kvittens")
    expect(page.get_by_role("heading", name=headline)).to_be_visible()
    listed = receipt_value(page, "Detta gäller").locator("li")
    expect(listed).to_have_count(len(units))
    assert sorted(t.strip() for t in listed.all_inner_texts()) == sorted(units), listed.all_inner_texts()


def assert_when_format(page: Page) -> None:
    when = receipt_value(page, "När").inner_text().strip()
    lang = html_lang(page)
    assert WHEN[lang].match(when), f"receipt time in {lang}: {when!r} does not match {WHEN[lang].pattern}"


def history_items(page: Page) -> Locator:
    return page.locator("ol.timeline > li.timeline__item").filter(
        has=page.locator(".timeline__title"))


def open_history(page: Page) -> None:
    page.get_by_role("link", name="Se alla tidigare svar").click()
    expect(page).to_have_url(re.compile(r"/samtycke/historik$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidigare svar om samtycke")


# ---------------------------------------------------------------- the journeys

def test_ylvas_guardians_consent_one_after_the_other(phone: Page) -> None:
    page = phone
    chosen = [VC, HAB]
    log_in(page, "Amina Hassan")
    choose_person(page, "Ylva Hassan")
    open_consent(page)
    expect(page.get_by_text("Barnet har två vårdnadshavare.")).to_be_visible()
    withdraw_everything(page)
    check_both(page, "consent-ylva-amina")

    tick_exactly(page, chosen, proposed=[VC, SOC, HAB])
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", chosen)
    expect(receipt_value(page, "Av vem")).to_have_text("Amina Hassan för Ylva Hassan")
    expect(page.get_by_text(re.compile(
        r"Ylvas andra vårdnadshavare behöver också svara innan samordningen kan börja"))).to_be_visible()
    check_both(page, "consent-receipt-amina-waiting")

    open_consent(page)
    for unit in chosen:
        expect_status(page, unit, "Väntar på svar")
        expect(state_row(page, unit)).to_contain_text("Väntar på svar från Yusuf Hassan.")
    # Waiting units can still be withdrawn, one by one or all at once.
    expect(state_section(page).get_by_role("button", name=f"Ta tillbaka – {VC}")).to_be_visible()
    expect(state_section(page).get_by_role("button", name="Ta tillbaka för alla")).to_be_visible()
    check_both(page, "consent-ylva-waiting")
    log_out(page)

    log_in(page, "Yusuf Hassan")
    choose_person(page, "Ylva Hassan")
    open_consent(page)
    for unit in chosen:
        # Yusuf is told it is his answer that is missing, not "waiting for Yusuf".
        expect(state_row(page, unit)).to_contain_text("Väntar på ditt svar.")
        expect(state_row(page, unit)).not_to_contain_text("Väntar på svar från")
    tick_exactly(page, chosen, proposed=[VC, SOC, HAB])
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", chosen)
    expect(receipt_value(page, "Av vem")).to_have_text("Yusuf Hassan för Ylva Hassan")
    expect(page.get_by_text(re.compile(r"andra vårdnadshavare behöver också svara"))).to_have_count(0)
    check(page, "consent-receipt-yusuf")

    open_consent(page)
    for unit in chosen:
        expect_status(page, unit, "Ja")
        expect(state_row(page, unit)).not_to_contain_text("Väntar på svar från")
    # Both yeses are in force: they are no longer offered in the form.
    for unit in chosen:
        expect(unit_box(page, unit)).to_have_count(0)
    check_both(page, "consent-ylva-both-yes")


def test_viola_gives_consent_for_two_units_and_later_withdraws_one(phone: Page) -> None:
    page = phone
    assert page.viewport_size == {"width": 390, "height": 844}
    log_in(page, "Viola Andersson")
    open_consent(page)
    withdraw_everything(page)
    expect(page.get_by_role("heading", name="Vad betyder det?")).to_be_visible()
    expect(page.get_by_text("Du kan ändra dig när du vill.")).to_be_visible()
    for unit in (VC, SOC, AVD12):
        expect(unit_box(page, unit)).not_to_be_checked()  # consent is an active choice
    # Other units of the country are found on request (a search), unticked.
    expect(unit_box(page, HAB)).to_have_count(0)
    search_units(page, "zz", enter=True)  # nothing ticked yet: no console error either
    expect(page.locator("#unit-matches [role=status]")).to_contain_text(
        "Ingen annan verksamhet hittades för ”zz”.")
    check(page, "consent-viola-search-nothing-ticked")
    unit_box(page, VC).check()
    search_units(page, "habilitering kalmar")  # every word, in any order
    expect(page.locator("#unit-matches [role=status]")).to_have_text(
        "1 verksamhet hittades för ”habilitering kalmar”.")
    expect(unit_box(page, HAB)).to_be_visible()
    expect(unit_box(page, HAB)).not_to_be_checked()
    expect(unit_box(page, VC)).to_be_checked()  # htmx swapped only the matches
    # A unit ticked among the matches stays, ticked, through the next search.
    unit_box(page, HAB).check()
    search_units(page, "Vasa")
    expect(unit_box(page, HAB)).to_be_checked()
    expect(unit_box(page, VC)).to_be_checked()
    unit_box(page, HAB).uncheck()
    check_both(page, "consent-viola")

    tick_exactly(page, [VC, SOC], proposed=[VC, SOC, AVD12])
    expect(unit_box(page, AVD12)).not_to_be_checked()
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", [VC, SOC])
    expect(receipt_value(page, "Vad")).to_have_text("Ja till att verksamheterna samarbetar")
    expect(receipt_value(page, "Av vem")).to_have_text("Viola Andersson")
    expect(page.get_by_role("button", name="Skriv ut")).to_be_visible()
    assert_when_format(page)
    check(page, "consent-receipt-viola-give")
    switch_variant(page, "sv-FI")
    assert_when_format(page)
    check(page, "consent-receipt-viola-give")
    switch_variant(page, "sv")

    open_consent(page)
    expect_status(page, VC, "Ja")
    expect_status(page, SOC, "Ja")
    state_section(page).get_by_role("button", name=f"Ta tillbaka – {SOC}").click()
    expect_receipt(page, "Klart. Samtycket är borttaget.", [SOC])
    expect(receipt_value(page, "Vad")).to_have_text("Samtycket togs tillbaka")
    assert_when_format(page)
    check_both(page, "consent-receipt-viola-withdraw")

    open_consent(page)
    assert units_with_status(page, "Ja") == [VC]
    expect_status(page, SOC, "Nej")
    # The withdrawn unit is offered again in the form; the one in force is not.
    expect(unit_box(page, SOC)).to_be_visible()
    expect(unit_box(page, VC)).to_have_count(0)
    check_both(page, "consent-viola-after-withdraw")

    open_history(page)
    items = history_items(page)
    expect(items.nth(0).locator(".timeline__title")).to_have_text("Tog tillbaka samtycket")
    expect(items.nth(0)).to_contain_text(f"Gäller: {SOC}")
    expect(items.nth(0)).to_contain_text("Svarat av Viola Andersson – I SIP-portalen")
    expect(items.nth(1).locator(".timeline__title")).to_have_text("Ja till samarbete")
    expect(items.nth(1)).to_contain_text(f"Gäller: {VC}, {SOC}")
    for i in (0, 1):
        when = items.nth(i).locator("p.hint").inner_text().strip()
        assert WHEN["sv"].match(when), when
    check_both(page, "consent-history-viola")


def open_staff_consent(page: Page, person: str) -> None:
    open_menu(page).get_by_role("link", name="Personer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personer")
    page.get_by_role("link", name=f"Samtycke för {person}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Samtycke för {person}")


def test_contact_person_records_oral_consent(phone: Page) -> None:
    page = phone
    log_in(page, "Johanna Lindholm", staff=True, lang="sv-FI")
    expect(page.get_by_text(FI_HS).first).to_be_visible()
    open_menu(page).get_by_role("link", name="Personer").click()
    expect(page).to_have_url(re.compile(r"/personal/personer$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Personer")
    elsa_card = page.locator("li.card").filter(has=page.get_by_role("heading", name="Elsa Holmström"))
    expect(elsa_card).to_contain_text("Samtycke för din enhet:")
    check_both(page, "staff-persons-johanna")

    elsa_card.get_by_role("link", name="Samtycke för Elsa Holmström").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Samtycke för Elsa Holmström")
    expect(page.get_by_role("heading", name="Registrera ett besked")).to_be_visible()
    check_both(page, "staff-consent-elsa")

    # Sent empty: one error summary, linked to the fields, focused.
    allow_console(page, r"status of 400")
    page.get_by_role("button", name="Spara beskedet").click()
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading", name="Det finns ett fel")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fel: Samtycke för Elsa Holmström"))
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # Each link goes to the field's first input (the first radio of a group), which is
    # marked invalid and described by its message.
    for field in ("decision", "given_by", "method", "note"):
        first = page.locator(f'form#form-field [name="{field}"]').first
        assert f"#{first.get_attribute('id')}" in hrefs, f"no error link to {field}: {hrefs}"
    for href in hrefs:
        expect(page.locator(href)).to_have_count(1)
        expect(page.locator(href)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#note")).to_have_attribute("aria-describedby", "note-hint note-error")
    expect(page.locator("#note-error")).to_be_visible()
    check(page, "staff-consent-elsa-errors")
    # A link takes the reader into the field.
    summary.get_by_role("link", name="Skriv hur och var beskedet lämnades.").click()
    expect(page).to_have_url(re.compile(r"#note$"))
    expect(page.locator("#note")).to_be_focused()

    # Today, time left out ("om du vet"): accepted at any time of day, also before noon.
    today = datetime.now(ZoneInfo("Europe/Helsinki")).date()
    note = f"Elsa sa ja vid hembesöket, e2e {datetime.now():%H%M%S%f}."
    page.get_by_role("radio", name="Ja till samarbete").check()
    page.get_by_role("group", name="Vilka verksamheter gäller det?").get_by_role(
        "checkbox", name=FI_HS, exact=True).check()
    page.get_by_role("group", name="Vem lämnade beskedet?").get_by_role(
        "radio", name="Elsa Holmström").check()
    page.get_by_role("radio", name="Muntligt").check()
    page.get_by_label("Datum").fill(today.isoformat())
    page.get_by_label("Klockslag (om du vet)").fill("")
    page.get_by_label("Anteckning").fill(note)
    page.get_by_role("button", name="Spara beskedet").click()
    expect(page).to_have_url(re.compile(r"/personal/personer/[^/]+/samtycke$"))
    expect(page.get_by_text("Beskedet är sparat.")).to_be_visible()
    expect(page.locator(".error-summary")).to_have_count(0)
    expect_status(page, FI_HS, "Ja")
    entry = history_items(page).filter(has_text=note)
    expect(entry).to_have_count(1)
    expect(entry.locator(".timeline__title")).to_have_text("Ja till samarbete")
    expect(entry).to_contain_text("Registrerat av personal: Johanna Lindholm, Hälsostationen i Vasa.")
    check(page, "staff-consent-elsa-saved")
    # The language switch keeps the address but not the #historik fragment: go there plainly.
    page.goto(page.url.split("#", 1)[0])
    check_both(page, "staff-consent-elsa-after")
    log_out(page)

    log_in(page, "Elsa Holmström", lang="sv-FI")
    assert html_lang(page) == "sv-FI"
    open_consent(page)
    expect_status(page, FI_HS, "Ja")
    open_history(page)
    entry = history_items(page).filter(has_text=note)
    expect(entry).to_have_count(1)
    expect(entry.locator(".timeline__title")).to_have_text("Ja till samarbete")
    expect(entry).to_contain_text(f"Gäller: {FI_HS}")
    expect(entry).to_contain_text("Registrerat av personal: Johanna Lindholm, Hälsostationen i Vasa.")
    expect(entry).to_contain_text("Beskedet lämnades av Elsa Holmström.")
    expect(entry).to_contain_text(f"Muntligt till personal: {note}")
    when = entry.locator("p.hint").inner_text().strip()
    assert WHEN["sv-FI"].match(when), when
    assert when.startswith(f"{today.day}.{today.month}.{today.year} kl. "), when
    check_both(page, "consent-history-elsa")


def test_the_time_staff_enter_is_the_time_shown(phone: Page) -> None:
    """09.15 entered for a person in Finland is 09.15 in the history (stored in UTC)."""
    page = phone
    log_in(page, "Johanna Lindholm", staff=True, lang="sv-FI")
    open_staff_consent(page, "Elsa Holmström")
    day = datetime.now(ZoneInfo("Europe/Helsinki")).date() - timedelta(days=1)
    note = f"Blankett inlämnad i receptionen, e2e {datetime.now():%H%M%S%f}."
    page.get_by_role("radio", name="Ja till samarbete").check()
    page.get_by_role("group", name="Vilka verksamheter gäller det?").get_by_role(
        "checkbox", name=FI_SOC, exact=True).check()
    page.get_by_role("group", name="Vem lämnade beskedet?").get_by_role(
        "radio", name="Elsa Holmström").check()
    page.get_by_role("radio", name="På papper").check()
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Klockslag (om du vet)").fill("09:15")
    page.get_by_label("Anteckning").fill(note)
    page.get_by_role("button", name="Spara beskedet").click()
    expect(page.get_by_text("Beskedet är sparat.")).to_be_visible()
    entry = history_items(page).filter(has_text=note)
    expect(entry.locator("p.hint")).to_have_text(f"{day.day}.{day.month}.{day.year} kl. 09.15")
    expect(entry).to_contain_text(f"På papper till personal: {note}")


def _count_history(page: Page) -> int:
    page.goto("/samtycke/historik")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidigare svar om samtycke")
    return history_items(page).count()


def _double_click_consent(page: Page, name: str) -> None:
    page.goto("/samtycke")
    withdraw_everything(page)
    before = _count_history(page)
    page.goto("/samtycke")
    tick_exactly(page, [VC], proposed=[VC, SOC])
    page.get_by_role("button", name="Ja, jag samtycker").dblclick()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", [VC])
    shot(page, f"consent-receipt-double-click-{name}")
    after = _count_history(page)
    assert after == before + 1, f"{name}: {after - before} new acts after a double click"
    expect(history_items(page).nth(0).locator(".timeline__title")).to_have_text("Ja till samarbete")
    page.goto("/samtycke")
    expect_status(page, VC, "Ja")


def test_double_click_on_consent_stores_one_act(new_page) -> None:
    # With JavaScript: the form disables its buttons after the first submit.
    page: Page = new_page()
    log_in(page, "Peter Lind")
    _double_click_consent(page, "with-js")
    # Without it, both posts reach the server; the form's idempotency key makes them one.
    page = new_page(java_script_enabled=False)
    log_in(page, "Peter Lind")
    _double_click_consent(page, "without-js")


def test_consent_works_without_javascript(new_page) -> None:
    page: Page = new_page(java_script_enabled=False)
    log_in(page, "Bertil Sjöberg", lang="sv-FI")
    open_consent(page)  # the menu is a <details>: it opens without JavaScript
    withdraw_everything(page)

    # Nothing ticked: a plain error, from the server.
    allow_console(page, r"status of 400")
    tick_exactly(page, [], proposed=[FI_HS, FI_SOC])
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Välj minst en verksamhet, eller välj Jag vill tänka på det.")
    expect(page).to_have_title(re.compile(r"^Fel: Samtycke"))
    shot(page, "consent-bertil-nojs-error")

    # The search for other units works without JavaScript too (the page is loaded again).
    search_units(page, "zz")
    expect(page.locator("#unit-matches [role=status]")).to_contain_text(
        "Ingen annan verksamhet hittades för ”zz”.")
    search_units(page, "Kalmar")  # another country's units are never offered
    expect(page.locator("#unit-matches [role=status]")).to_contain_text("Ingen annan verksamhet")
    search_units(page, "Avdelning 3")
    expect(unit_box(page, FI_AVD3)).to_be_visible()
    expect(unit_box(page, FI_AVD3)).not_to_be_checked()
    shot(page, "consent-bertil-nojs-search")
    # What was ticked stays ticked through the next search (the consent form is posted,
    # nothing is decided), whether by the button or by Enter in the field.
    unit_box(page, FI_AVD3).check()
    unit_box(page, FI_HS).check()
    search_units(page, "Vasa centralsjukhus", enter=True)
    expect(unit_box(page, FI_AVD3)).to_be_checked()
    expect(unit_box(page, FI_HS)).to_be_checked()
    expect(page.locator(".error-summary")).to_have_count(0)
    search_units(page, "zz")
    expect(unit_box(page, FI_AVD3)).to_be_checked()
    expect(unit_box(page, FI_HS)).to_be_checked()
    unit_box(page, FI_AVD3).uncheck()
    tick_exactly(page, [FI_HS, FI_SOC], proposed=[FI_HS, FI_SOC])
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", [FI_HS, FI_SOC])
    assert_when_format(page)
    # "Skriv ut" needs JavaScript, so it stays hidden without it.
    expect(page.get_by_role("button", name="Skriv ut")).to_have_count(0)
    shot(page, "consent-receipt-bertil-nojs")

    open_consent(page)
    expect_status(page, FI_HS, "Ja")
    expect_status(page, FI_SOC, "Ja")
    state_section(page).get_by_role("button", name=f"Ta tillbaka – {FI_SOC}").click()
    expect_receipt(page, "Klart. Samtycket är borttaget.", [FI_SOC])
    shot(page, "consent-receipt-bertil-nojs-withdraw")

    open_consent(page)
    assert units_with_status(page, "Ja") == [FI_HS]
    expect_status(page, FI_SOC, "Nej")
    shot(page, "consent-bertil-nojs-after")
    open_history(page)
    expect(history_items(page).nth(0).locator(".timeline__title")).to_have_text("Tog tillbaka samtycket")
    expect(history_items(page).nth(1).locator(".timeline__title")).to_have_text("Ja till samarbete")
