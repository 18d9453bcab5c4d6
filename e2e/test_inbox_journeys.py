"""The contact persons' inbox on a phone: Anna registers a request for Peter, whom she spoke
to on the phone, takes it, books the coordination meeting and finds it in her inbox."""

from __future__ import annotations

import re
from datetime import date, timedelta

from conftest import allow_console, check, check_both, open_menu, shot
from playwright.sync_api import Page, expect


def log_in_as_staff(page: Page, name: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Logga in som personal").click()
    page.get_by_role("button", name=re.compile(rf"^{name}\b")).click()
    expect(page).to_have_url(re.compile(r"/$"))


def fill_in_meeting(page: Page, *, days_ahead: int, at: str, place: str) -> None:
    """Fill in "Boka samordningsmöte" on a request page: the first weekday `days_ahead` days
    from today, at `at`, in `place`, with Anna Berg taking part (not sent)."""
    day = date.today() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Klockslag").fill(at)
    page.get_by_label("Plats").fill(place)
    page.get_by_label(re.compile(r"^Anna Berg, Sjuksköterska")).check()


def test_anna_registers_a_request_for_peter_assigns_it_and_books_the_meeting(phone: Page) -> None:
    page = phone
    log_in_as_staff(page, "Anna Berg")
    expect(page.get_by_role("heading", name="Inkorg")).to_be_visible()
    open_menu(page).get_by_role("link", name="Inkorg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inkorg")
    check_both(page, "inbox-anna")

    # From the list of people: Peter called and needs coordinated help.
    page.goto("/personal/personer")
    page.get_by_role("link", name="Registrera en begäran om samordning för Peter Lind").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Registrera en begäran om samordning för Peter Lind")
    allow_console(page, r"status of 400")
    page.get_by_role("button", name="Skicka begäran").click()
    expect(page).to_have_title(re.compile(r"^Fel: "))
    expect(page.get_by_role("heading", name="Det finns ett fel")).to_be_visible()
    check(page, "register-request-errors")
    page.get_by_label("Per telefon").check()
    page.get_by_label("Vad är svårt för personen just nu?").fill(
        "Jag har inget hem. Jag har skulder. Jag glömmer saker sedan stroken.")
    page.get_by_label("Socialtjänsten i Kalmar kommun").check()
    page.get_by_role("button", name="Skicka begäran").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Ärende [A-Z0-9]{4}-[A-Z0-9]{4}$"))
    expect(page.get_by_text("Begäran är registrerad.")).to_be_visible()
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Ärende ")

    # Take it, then book the meeting.
    page.get_by_label("Vem ska handlägga ärendet?").select_option(label="Anna Berg (du)")
    page.get_by_role("button", name="Spara handläggare").click()
    expect(page.get_by_text("Anna Berg handlägger ärendet.")).to_be_visible()
    fill_in_meeting(page, days_ahead=14, at="10:00", place="Kalmar vårdcentral, rum 3")
    # Peter has not consented to social services yet: Maria cannot be invited, and Anna is told why.
    expect(page.get_by_label(re.compile(r"^Maria Ek, Biståndshandläggare"))).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Personen har inte samtyckt till att .*Socialtjänsten i Kalmar kommun"))).to_be_visible()
    page.get_by_role("button", name="Boka mötet").click()
    expect(page.get_by_text("Mötet är bokat.")).to_be_visible()
    expect(page.get_by_text("Ett samordningsmöte är bokat.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Lägg till i kalendern").click()
    body = download.value.path().read_text()
    assert "BEGIN:VEVENT" in body and "TZID=Europe/Stockholm:" in body and "Peter" not in body
    check_both(page, "staff-request")

    # In the inbox: Anna's, waiting for the meeting with Peter.
    page.goto("/personal/inkorg?visa=mine")
    row = page.locator("#inbox-list .card", has_text=reference)
    expect(row).to_contain_text("Peter Lind")
    expect(row).to_contain_text("Möte bokat")
    shot(page, "inbox-mine")
    page.goto("/personal/inkorg?visa=waiting")
    expect(page.locator("#inbox-list .card", has_text=reference)).to_have_count(1)
    check(page, "inbox-waiting")
