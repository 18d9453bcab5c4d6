"""Plan journeys: a contact person writes and publishes the plan, the person reads it on a
phone (changes since the last visit, versions, calendar file, print), in both variants.

The database is shared by every e2e test in a run, so each journey makes sure of its own
starting point: consent is given through the person's own consent page only when the
staff member's unit is not yet covered, an open plan from an earlier journey is reused
(one is created when there is none), and every text a journey writes carries a stamp so
that its assertions only look at its own acts.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from conftest import allow_console, check, check_both, html_lang, open_menu, shot
from playwright.sync_api import Page, expect
from test_consent_journeys import (
    FI_HS,
    SOC,
    VC,
    log_in,
    open_consent,
    search_units,
    state_row,
    unit_box,
)

from portal.core.clock import Clock
from portal.plans.readability import analyse


def today_in(country: str) -> date:
    """Today in a person's own zone: what the page shows, whatever the server's zone."""
    return Clock().at_request().today_in(country)

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")
FI_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
SECTION_ORDER = ["Det här är viktigt för dig", "Det här kan du göra själv",
                 "Det här behöver du hjälp med", "Vem gör vad", "Din samordnare",
                 "Nästa uppföljning"]
CHANGED = "Nytt sedan du tittade sist"
SAVED = "Ändringen är sparad i utkastet."


def stamp() -> str:
    return f"{datetime.now():%H%M%S%f}"


def sv_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def fi_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


# ---------------------------------------------------------------- consent, if needed

def consent_in_force(page: Page, unit: str) -> bool:
    tag = state_row(page, unit).locator(".tag")
    return tag.count() == 1 and tag.inner_text().strip() == "Ja"


def give_consent_if_needed(page: Page, person: str, units: list[str], *,
                           lang: str | None = None) -> None:
    """Log the person in; they say yes, on the consent page, to the units not yet covered.

    The person stays logged in (the journeys go on reading the plan in the same page)."""
    log_in(page, person, lang=lang)
    open_consent(page)
    missing = [u for u in units if not consent_in_force(page, u)]
    if missing:
        for unit in missing:
            if unit_box(page, unit).count() == 0:
                search_units(page, unit)  # not near the person: found by a search
            unit_box(page, unit).check()
        page.get_by_role("button", name="Ja, jag samtycker").click()
        expect(page.get_by_role("heading", name="Klart. Ditt samtycke är sparat.")).to_be_visible()
        check(page, f"plan-consent-receipt-{person.split()[0].lower()}")
        open_consent(page)
    for unit in units:
        assert consent_in_force(page, unit), f"{person}: no consent in force for {unit}"


# ---------------------------------------------------------------- the staff side

def open_person_as_staff(page: Page, person: str) -> bool:
    """Personer → the person; False when the unit has no consent (no "Öppna" link)."""
    open_menu(page).get_by_role("link", name="Personer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personer")
    link = page.get_by_role("link", name=f"Öppna {person}")
    if link.count() == 0:
        return False
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(person)
    return True


def open_editor(page: Page, person: str, *, checks: bool = False) -> None:
    """From the person page: "Planen"; creates the plan if none is open."""
    page.get_by_role("link", name="Planen", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plan för {person}")
    create = page.get_by_role("button", name="Skapa plan")
    if create.count():
        if checks:
            check_both(page, "plan-editor-none")
        create.click()
        expect(page.get_by_role("button", name="Publicera planen")).to_be_visible()
    expect(page.get_by_role("button", name="Publicera planen")).to_be_visible()


def staff_in_editor(new_page, staff: str, person: str, *, lang: str, units: list[str],
                    person_lang: str | None = None, checks: bool = False) -> Page:
    """Log `staff` in and open `person`'s plan; if the unit lacks consent, the person gives it
    first in a browser of their own."""
    page: Page = new_page()
    log_in(page, staff, staff=True, lang=lang)
    if not open_person_as_staff(page, person):
        give_consent_if_needed(new_page(), person, units, lang=person_lang)
        assert open_person_as_staff(page, person), f"{staff} still cannot open {person}"
    if checks:
        check_both(page, f"plan-staff-person-{person.split()[0].lower()}")
    open_editor(page, person, checks=checks)
    return page


def section(page: Page, anchor: str):
    return page.locator(f"section#{anchor}")


def lix_value(page: Page, anchor: str):
    return page.locator(f"#lix-{anchor} .lix__value")


def write_text(page: Page, anchor: str, text: str) -> None:
    """Fill a text section, wait for its LIX box to show the right value, save it."""
    area = section(page, anchor).locator("textarea")
    area.fill(text)
    expect(lix_value(page, anchor)).to_have_text(str(analyse(text).lix))
    section(page, anchor).get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_text(SAVED)).to_be_visible()
    expect(area).to_have_value(text)


def set_follow_up(page: Page, day: date, clock: str, place: str) -> None:
    form = section(page, "follow_up").locator("form").first
    form.get_by_label("Datum för uppföljning").fill(day.isoformat())
    form.get_by_label("Klockslag").fill(clock)
    form.get_by_label("Plats").fill(place)
    form.get_by_role("button", name="Spara uppföljningen").click()
    expect(page.get_by_text(SAVED)).to_be_visible()


def set_dates(page: Page, start: date, end: date, evaluation: date) -> None:
    form = page.locator("form#dates")
    form.get_by_label("Planen börjar").fill(start.isoformat())
    form.get_by_label("Planen slutar").fill(end.isoformat())
    form.get_by_label("Utvärdering").fill(evaluation.isoformat())
    form.get_by_role("button", name="Spara datumen").click()
    expect(page.get_by_text(SAVED)).to_be_visible()


def publish(page: Page) -> int:
    page.get_by_role("button", name="Publicera planen").click()
    expect(page.get_by_text("Planen är publicerad. Personen kan läsa den nu.")).to_be_visible()
    number = int(re.search(r"[?&]publicerad=(\d+)", page.url).group(1))
    expect(page.locator("p.lead").first).to_contain_text(f"Publicerad version {number}.")
    return number


def main_h2s(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("main h2").all_inner_texts()]


def plan_section(page: Page, title: str):
    return page.locator("section.plan-section").filter(
        has=page.get_by_role("heading", level=2, name=re.compile(rf"^{re.escape(title)}")))


# ---------------------------------------------------------------- the journeys

def test_contact_person_writes_violas_plan_and_viola_reads_it(new_page) -> None:
    mark = stamp()
    today = date.today()
    follow_up = today + timedelta(days=30)
    viola: Page = new_page()
    assert viola.viewport_size == {"width": 390, "height": 844}
    give_consent_if_needed(viola, "Viola Andersson", [VC, SOC])

    anna = staff_in_editor(new_page, "Anna Berg", "Viola Andersson", lang="sv", units=[VC, SOC],
                           checks=True)
    # "Det här är viktigt för dig", typed slowly: the LIX box follows through htmx.
    area = section(anna, "important").locator("textarea")
    area.fill("")
    expect(anna.locator("#lix-important p.hint")).to_contain_text("Här ser du hur lätt texten")
    first = "Jag vill bo kvar hemma."
    second = " Trädgården och promenaderna med hunden betyder väldigt mycket för mig."
    area.press_sequentially(first, delay=15)
    expect(lix_value(anna, "important")).to_have_text(str(analyse(first).lix))
    before = lix_value(anna, "important").inner_text()
    area.press_sequentially(second, delay=15)
    expect(lix_value(anna, "important")).not_to_have_text(before)
    expect(lix_value(anna, "important")).to_have_text(str(analyse(first + second).lix))
    check_both(anna, "plan-editor-lix")  # the variant switch reloads: the typed text is gone
    important = f"{first}{second}"
    write_text(anna, "important", important)
    write_text(anna, "self_can", f"Jag kan laga frukost. Jag kan gå till affären. ({mark})")
    write_text(anna, "need_help", f"Jag behöver hjälp att duscha. Och med tvätten. ({mark})")

    actions = section(anna, "actions")
    what = f"Hemtjänst hjälper till med dusch två gånger i veckan ({mark})."
    actions.get_by_label("Vad ska göras?").fill(what)
    actions.get_by_label("Ansvarig verksamhet").select_option(label=SOC)
    actions.get_by_label("Ansvarig person (om ni vet)").fill("Maria Ek")
    actions.get_by_label("Från", exact=True).fill(today.isoformat())
    actions.get_by_role("button", name="Lägg till insatsen").click()
    expect(anna.get_by_text(SAVED)).to_be_visible()
    expect(section(anna, "actions").locator(".card").filter(has_text=what)).to_have_count(1)

    coordinator = section(anna, "coordinator").get_by_label("Vem är samordnare?")
    anna_option = [t for t in coordinator.locator("option").all_inner_texts()
                   if t.startswith("Anna Berg")]
    assert anna_option, coordinator.locator("option").all_inner_texts()
    coordinator.select_option(label=anna_option[0])
    section(anna, "coordinator").get_by_role("button", name="Spara", exact=True).click()
    expect(anna.get_by_text(SAVED)).to_be_visible()

    contacts = section(anna, "contacts")
    contact = f"Karin Ström {mark}"
    contacts.get_by_label("Namn").first.fill(contact)
    contacts.get_by_label("Roll och verksamhet").fill("Biståndshandläggare, socialtjänsten")
    contacts.get_by_label("Telefon").fill("0480-450 00")
    contacts.get_by_label("När går det att nå hen?").fill("Vardagar 8–10")
    contacts.get_by_role("button", name="Lägg till kontakten").click()
    expect(anna.get_by_text(SAVED)).to_be_visible()

    # Saved without a date: the error link takes Anna to the date input itself, which says
    # it is in error and which message describes it (a link to a wrapper left focus on <body>).
    allow_console(anna, r"status of 400")
    form = section(anna, "follow_up").locator("form").first
    form.get_by_label("Datum för uppföljning").fill("")
    form.get_by_role("button", name="Spara uppföljningen").click()
    summary = anna.locator(".error-summary")
    expect(summary).to_be_focused()
    date_input = anna.locator("#follow_up-date")
    expect(date_input).to_have_attribute("aria-invalid", "true")
    expect(date_input).to_have_attribute("aria-describedby", "follow_up-date-error")
    expect(anna.locator("#follow_up-date-error")).to_contain_text("Skriv ett datum.")
    check(anna, "plan-editor-follow-up-error")
    summary.get_by_role("link", name="Skriv ett datum.").click()
    expect(date_input).to_be_focused()

    set_follow_up(anna, follow_up, "10:00", "Hemma hos dig")
    set_dates(anna, today, today + timedelta(days=365), today + timedelta(days=180))
    # The language switch keeps the address but not the #fragment: go there plainly.
    anna.goto(anna.url.split("#", 1)[0])
    check_both(anna, "plan-editor-filled")

    anna.get_by_role("link", name="Förhandsvisa som personen ser planen").click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("Förhandsvisning: så ser personen planen")
    expect(anna.locator(".plan-quote")).to_have_text(important)
    assert html_lang(anna) == "sv"
    check(anna, "plan-preview-viola")
    anna.get_by_role("link", name="Tillbaka till redigeringen").click()
    number = publish(anna)
    check(anna, "plan-editor-published")

    # Viola, on her phone, in Swedish (Sweden).
    viola.goto("/")
    card = viola.locator(".card").filter(has=viola.get_by_role("heading", name="Din plan"))
    weekday_date = f"{follow_up.day} {MONTHS[follow_up.month - 1]}"
    expect(card).to_contain_text(re.compile(
        rf"Nästa uppföljning: \S+ {weekday_date} kl\. 10\.00, Hemma hos dig\."))
    check_both(viola, "plan-start-viola")
    card.get_by_role("link", name="Läs din plan").click()
    expect(viola).to_have_url(re.compile(r"/plan$"))
    expect(viola.get_by_role("heading", level=1)).to_have_text("Din plan")
    expect(viola.get_by_text(f"Publicerad {sv_date(today_in('SE'))} av Anna Berg.")).to_be_visible()
    h2s = main_h2s(viola)
    assert h2s[:len(SECTION_ORDER)] == SECTION_ORDER, h2s
    expect(viola.locator(".plan-quote")).to_have_text(important)
    expect(plan_section(viola, "Vem gör vad").locator(".card").filter(has_text=what)).to_contain_text(
        SOC)
    expect(plan_section(viola, "Din samordnare")).to_contain_text("Anna Berg")
    call = viola.get_by_role("link", name="Ring 0480-450 00")
    expect(call).to_have_attribute("href", "tel:048045000")
    expect(plan_section(viola, "Nästa uppföljning").locator("p.lead")).to_have_text(
        re.compile(rf"^\S+ {sv_date(follow_up)} kl\. 10\.00, Hemma hos dig$"))
    # Sweden: dates in words, never as d.M.yyyy.
    assert not FI_DATE.search(viola.locator("main").inner_text())
    check_both(viola, "plan-viola")

    with viola.expect_download() as download_info:
        viola.get_by_role("link", name="Lägg till i kalendern").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics"), download.suggested_filename
    ics = Path(download.path()).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in ics and "BEGIN:VEVENT" in ics, ics
    assert f"DTSTART;TZID=Europe/Stockholm:{follow_up:%Y%m%d}T100000" in ics, ics
    assert "LOCATION:Hemma hos dig" in ics, ics
    # One meeting, one UID, whatever the version: a phone updates the event it has.
    uid = re.search(r"^UID:(.+)$", ics, re.M).group(1)
    assert uid.startswith("follow-up-") and f"v{number}" not in uid, uid

    viola.emulate_media(media="print")
    for selector in (".site-nav", ".site-footer"):
        display = viola.evaluate(
            "s => getComputedStyle(document.querySelector(s)).display", selector)
        assert display == "none", f"{selector} is printed (display {display})"
    expect(viola.locator(".plan-quote")).to_be_visible()
    # The phone numbers are on paper too (the coordinator's is a button on screen).
    expect(plan_section(viola, "Din samordnare").locator('a.btn[href^="tel:"]')).to_be_visible()
    expect(call).to_be_visible()
    expect(viola.get_by_role("link", name="Lägg till i kalendern")).to_be_hidden()
    shot(viola, "plan-viola-print")
    viola.emulate_media(media="screen")


def test_changed_since_last_visit_after_a_second_version(new_page) -> None:
    mark = stamp()
    viola: Page = new_page()
    give_consent_if_needed(viola, "Viola Andersson", [VC])
    anna = staff_in_editor(new_page, "Anna Berg", "Viola Andersson", lang="sv", units=[VC])
    # Version N: whatever the draft holds now, so that Viola has seen all of it.
    seen = publish(anna)
    viola.goto("/plan")
    expect(viola.get_by_role("heading", level=1)).to_have_text("Din plan")
    old_help = plan_section(viola, "Det här behöver du hjälp med").locator(
        "p").first.inner_text()

    new_help = f"Jag behöver hjälp med att handla mat. Och att betala räkningar. ({mark})"
    write_text(anna, "need_help", new_help)
    assert publish(anna) == seen + 1

    viola.goto("/plan")
    expect(viola.get_by_text("Planen har ändrats sedan du tittade sist. Det nya är markerat.")
           ).to_be_visible()
    marks = viola.locator("main").get_by_text(CHANGED, exact=True)
    expect(marks).to_have_count(1)
    changed = viola.locator("section.plan-section--changed")
    expect(changed).to_have_count(1)
    expect(changed.get_by_role("heading", level=2)).to_have_text(
        f"Det här behöver du hjälp med {CHANGED}")
    expect(changed).to_contain_text(new_help)
    check(viola, "plan-viola-changed")

    viola.reload()
    expect(viola.get_by_role("heading", level=1)).to_have_text("Din plan")
    expect(viola.locator("main").get_by_text(CHANGED)).to_have_count(0)
    expect(viola.locator("section.plan-section--changed")).to_have_count(0)
    expect(viola.get_by_text("Planen har ändrats sedan du tittade sist.")).to_have_count(0)
    check_both(viola, "plan-viola-after-reload")

    viola.get_by_role("link", name="Tidigare versioner").click()
    expect(viola.get_by_role("heading", level=1)).to_have_text("Tidigare versioner av planen")
    links = viola.locator("main ul.link-list a")
    expect(links.nth(0)).to_have_text(re.compile(rf"^Version {seen + 1}, "))
    expect(links.nth(1)).to_have_text(re.compile(rf"^Version {seen}, "))
    expect(viola.locator("main ul.link-list li").nth(0)).to_contain_text("Gäller nu")
    check_both(viola, "plan-versions-viola")
    links.nth(1).click()
    expect(viola.get_by_role("heading", level=1)).to_have_text(f"Planen, version {seen}")
    expect(viola.get_by_text("Det här är en äldre version.")).to_be_visible()
    old = plan_section(viola, "Det här behöver du hjälp med")
    expect(old).to_contain_text(old_help)
    expect(old).not_to_contain_text(new_help)
    expect(viola.get_by_role("link", name="Lägg till i kalendern")).to_have_count(0)
    check_both(viola, "plan-viola-old-version")


def test_finnish_person_reads_her_plan_in_finland_swedish(new_page) -> None:
    mark = stamp()
    follow_up = date.today() + timedelta(days=21)
    elsa: Page = new_page()
    give_consent_if_needed(elsa, "Elsa Holmström", [FI_HS], lang="sv-FI")
    assert html_lang(elsa) == "sv-FI"

    johanna = staff_in_editor(new_page, "Johanna Lindholm", "Elsa Holmström", lang="sv-FI",
                              units=[FI_HS], person_lang="sv-FI")
    important = f"Jag vill klara mig själv hemma. Jag vill träffa mina vänner. ({mark})"
    write_text(johanna, "important", important)
    set_follow_up(johanna, follow_up, "14:30", "Hälsostationen")
    set_dates(johanna, date.today(), date.today() + timedelta(days=365),
              date.today() + timedelta(days=90))
    check(johanna, "plan-editor-elsa")
    publish(johanna)

    elsa.goto("/")
    assert html_lang(elsa) == "sv-FI"
    card = elsa.locator(".card").filter(has=elsa.get_by_role("heading", name="Din plan"))
    expect(card).to_contain_text(f"{fi_date(follow_up)} kl. 14.30, Hälsostationen.")
    check(elsa, "plan-start-elsa")
    card.get_by_role("link", name="Läs din plan").click()
    expect(elsa.get_by_role("heading", level=1)).to_have_text("Din plan")
    assert html_lang(elsa) == "sv-FI"
    expect(elsa.locator(".plan-quote")).to_have_text(important)
    # Elsa's own date (Helsinki), which is not the server's near midnight.
    expect(elsa.get_by_text(f"Publicerad {fi_date(today_in('FI'))} av Johanna Lindholm.")
           ).to_be_visible()
    lead = plan_section(elsa, "Nästa uppföljning").locator("p.lead")
    expect(lead).to_have_text(re.compile(rf"^\S+ {re.escape(fi_date(follow_up))} kl\. 14\.30, "
                                         r"Hälsostationen$"))
    assert FI_DATE.search(lead.inner_text())
    text = elsa.locator("main").inner_text()
    assert not re.search(rf"\b\d{{1,2}} ({'|'.join(MONTHS)})\b", text), text
    assert "14:30" not in text
    check_both(elsa, "plan-elsa")


def test_staff_preview_uses_the_persons_variant(new_page) -> None:
    johanna = staff_in_editor(new_page, "Johanna Lindholm", "Elsa Holmström", lang="sv",
                              units=[FI_HS], person_lang="sv-FI")
    assert html_lang(johanna) == "sv"
    johanna.get_by_role("link", name="Förhandsvisa som personen ser planen").click()
    expect(johanna.get_by_role("heading", level=1)).to_have_text(
        "Förhandsvisning: så ser personen planen")
    assert html_lang(johanna) == "sv-FI"
    check(johanna, "plan-preview-elsa")
    johanna.get_by_role("link", name="Tillbaka till redigeringen").click()
    expect(johanna.get_by_role("heading", level=1)).to_have_text("Plan för Elsa Holmström")
    assert html_lang(johanna) == "sv"
