"""Questions to a contact person, on a phone: Peter (no relatives acting) asks Kalmar
vårdcentral a question, Anna Berg opens it and answers, and Peter sees her answer with
her name and role, and that his question was read. axe and screenshots in both variants."""

from __future__ import annotations

import re

from conftest import allow_console, check, check_both, open_menu
from playwright.sync_api import Page, expect

VC = "Kalmar vårdcentral"


def log_in(page: Page, name: str, *, staff: bool = False) -> None:
    page.goto("/")
    page.get_by_role("link", name="Logga in som personal" if staff else "Logga in",
                     exact=True).click()
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hej {name.split()[0]}!")


def log_out(page: Page) -> None:
    open_menu(page).get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/utloggad$"))


def test_peter_asks_a_question_and_anna_answers(phone: Page) -> None:
    page = phone
    log_in(page, "Peter Lind")
    open_menu(page).get_by_role("link", name="Meddelanden", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meddelanden")
    page.get_by_role("link", name="Skriv en ny fråga").click()
    expect(page.get_by_text("Om det är bråttom: ring 1177. Vid fara för liv: ring 112.")).to_be_visible()
    allow_console(page, r"status of 400")  # the form with errors is a 400 page
    page.get_by_role("button", name="Skicka frågan").click()  # nothing filled in
    expect(page).to_have_title(re.compile(r"^Fel: "))
    expect(page.get_by_role("heading", name="Det finns ett fel")).to_be_visible()
    check_both(page, "message-new-errors")
    page.get_by_label(re.compile(rf"^{VC}")).check()
    page.get_by_label("Vad gäller frågan?").fill("Min medicin")
    page.get_by_label("Din fråga").fill("Kan jag ta medicinen med mat? <b>Tack</b>")
    page.get_by_role("button", name="Skicka frågan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Min medicin")
    expect(page.get_by_text("Din fråga är skickad.")).to_be_visible()
    expect(page.get_by_text("Kan jag ta medicinen med mat? <b>Tack</b>")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Du får svar senast"))).to_be_visible()
    check_both(page, "message-thread-sent")
    thread_url = page.url
    log_out(page)

    log_in(page, "Anna Berg", staff=True)
    page.goto(thread_url.replace("/meddelanden/", "/personal/meddelanden/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Min medicin")
    page.get_by_label("Svara personen").fill("Ja, ta den med frukosten.")
    page.get_by_role("button", name="Skicka svaret").click()
    expect(page.get_by_text("Svaret är skickat. Personen får en avisering.")).to_be_visible()
    check(page, "message-staff-thread")
    log_out(page)

    log_in(page, "Peter Lind")
    open_menu(page).get_by_role("link", name="Meddelanden", exact=True).click()
    expect(page.get_by_text("Nytt svar").first).to_be_visible()
    check_both(page, "message-list")
    page.get_by_role("link", name="Min medicin").first.click()
    expect(page.get_by_text("Anna Berg, sjuksköterska, Kalmar vårdcentral")).to_be_visible()
    expect(page.get_by_text("Läst", exact=True)).to_be_visible()
    check_both(page, "message-thread-answered")
