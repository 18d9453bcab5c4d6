"""The whole of issue 10 on phones, in one story, with the notices arriving by real SMTP:

Johan asks for coordination for his mother Viola. Anna Berg at Kalmar vårdcentral takes
the request; Johan sees who handles it and asks a question about it; Anna answers and books
the coordination meeting; Johan sees each step, the meeting can go in his calendar, and
the notices (to Viola and to Johan, who follows her) arrive without a name or a text in
them. Viola's plan has a follow-up that slipped: it is in Anna's inbox and Anna is told.

Each main page is checked with axe and photographed in both language variants.
"""

from __future__ import annotations

import re
import time

from conftest import Mailbox, Server, check, check_both, open_menu
from playwright.sync_api import Page, expect
from test_consent_journeys import log_in
from test_inbox_journeys import fill_in_meeting, log_in_as_staff

JOHAN_MAIL = "johan.andersson@example.com"
VIOLA_MAIL = "viola.andersson@example.se"
ANNA_MAIL = "anna.berg@example.se"
# What a notice must never carry (../shared/SECURITY.md): names, units, national ids, text.
NEVER_IN_A_NOTICE = ("Viola", "Andersson", "Johan", "Anna", "Berg", "Kalmar", "vårdcentral",
                     "19480514", "mediciner", "Gösta")

# A version of Viola's plan published ten days ago with a follow-up three days ago that
# nobody followed up: time passing, which no page can make.
SLIPPED_FOLLOW_UP = """
import asyncio
from datetime import UTC, datetime, timedelta
from sqlmodel import select
from portal.config import get_settings
from portal.core.db import make_async_engine, make_sessionmaker
from portal.people.models import Person, StaffMember
from portal.plans import content as plan_content, services as plans
from portal.plans.models import PlanVersion

async def main():
    engine = make_async_engine(get_settings().database_url)
    async with make_sessionmaker(engine)() as db:
        viola = (await db.exec(select(Person).where(Person.given_name == "Viola"))).one()
        anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()
        plan = await plans.open_plan(db, viola.id) or await plans.create_plan(db, viola, anna)
        now = datetime.now(UTC)
        content = plan_content.load(plan.draft)
        content.update(coordinator_id=anna.id, follow_up={
            "date": (now - timedelta(days=3)).date().isoformat(), "time": "10:00",
            "place": "hemma hos dig", "id": "e2e-slipped"})
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision, content)
        plan.current_version += 1
        plan.status = "active"
        plan.draft_revision += 1
        db.add(plan)
        published_at = now - timedelta(days=10)
        db.add(PlanVersion(plan_id=plan.id, number=plan.current_version, content=plan.draft,
                           published_by=anna.id, published_at=published_at))
        # What plans.publish keeps on the plan row (the worker and the inbox read it).
        plan.follow_up_at, plan.coordinator_id = plans.follow_up_fields(
            plan_content.load(plan.draft), viola, published_at)
        await db.commit()
    await engine.dispose()

asyncio.run(main())
"""


def _ask_for_coordination(page: Page) -> str:
    """Johan, acting for Viola, goes through the six questions; returns the reference."""
    page.goto("/arenden/ny")
    page.get_by_label("Viola Andersson").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Vad är svårt för Viola just nu?").fill(
        "Pappa Gösta orkar inte längre. Mamma glömmer sina mediciner och blir orolig på natten.")
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label(re.compile(r"^Kalmar vårdcentral")).check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Ring mig").check()
    page.get_by_label("Telefonnummer").fill("070-123 45 67")
    page.get_by_role("button", name="Fortsätt").click()
    if page.get_by_label("Senare går bra").count():
        page.get_by_label("Senare går bra").check()
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    page.get_by_role("button", name="Skicka").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack! Vi har tagit emot din begäran.")
    reference = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", page.locator("main").inner_text())
    assert reference, "the receipt shows a short reference"
    return reference.group(0)


def _open_request_as_johan(johan: Page, reference: str) -> None:
    open_menu(johan).get_by_role("link", name="Violas ärenden").click()
    johan.locator(".request-list li", has_text=reference).get_by_role("link").first.click()


def _notices_are_plain(mailbox: Mailbox, address: str, at_least: int, since: int = 0) -> list:
    """The notices to `address` after the first `since`, once `at_least` of them arrived,
    each checked for names, units and text."""
    mails = mailbox.wait_for(address, since + at_least)[since:]
    for mail in mails:
        text = mail["Subject"] + "\n" + mail.get_content()
        for word in NEVER_IN_A_NOTICE:
            assert word not in text, f"a notice to {address} says {word!r}:\n{text}"
    return mails


def test_johan_asks_anna_handles_and_books_and_the_notices_arrive(
        new_page, mailbox: Mailbox, portal_server: Server) -> None:
    before = {address: len(mailbox.to(address)) for address in (VIOLA_MAIL, JOHAN_MAIL)}
    johan = new_page()
    log_in(johan, "Johan Andersson")
    reference = _ask_for_coordination(johan)

    # Anna finds it among the new items in her inbox and takes it.
    anna = new_page()
    log_in_as_staff(anna, "Anna Berg")
    anna.goto("/personal/inkorg?visa=new")
    row = anna.locator("#inbox-list .card", has_text=reference)
    expect(row).to_contain_text("Viola Andersson")
    check_both(anna, "journey-anna-inbox-new")
    row.get_by_role("link", name="Viola Andersson").click()
    anna.get_by_label("Vem ska handlägga ärendet?").select_option(label="Anna Berg (du)")
    anna.get_by_role("button", name="Spara handläggare").click()
    expect(anna.get_by_text("Anna Berg handlägger ärendet.")).to_be_visible()
    # Johan wanted a phone call: Anna sees the number and the times.
    expect(anna.locator("main")).to_contain_text("Per telefon: 070-123 45 67")
    request_url = anna.url

    # Johan sees who handles it, and asks a question about it.
    johan.goto("/")
    _open_request_as_johan(johan, reference)
    expect(johan.locator("main")).to_contain_text("En kontaktperson har tagit ärendet")
    expect(johan.locator("main")).to_contain_text("Anna Berg, sjuksköterska, Kalmar vårdcentral")
    check_both(johan, "journey-johan-request-assigned")
    johan.get_by_role("link", name="Skicka en fråga om ärendet").click()
    expect(johan.get_by_text("Om det är bråttom: ring 1177. Vid fara för liv: ring 112.")).to_be_visible()
    if johan.get_by_label(re.compile(r"^Kalmar vårdcentral")).count():
        johan.get_by_label(re.compile(r"^Kalmar vårdcentral")).first.check()
    johan.get_by_label("Vad gäller frågan?").fill("Mötet")
    johan.get_by_label("Din fråga").fill("Kan pappa Gösta vara med på mötet?")
    johan.get_by_role("button", name="Skicka frågan").click()
    expect(johan.get_by_text("Din fråga är skickad.")).to_be_visible()
    expect(johan.get_by_role("link", name=f"Om ärende {reference}")).to_be_visible()
    thread_path = re.sub(r"^https?://[^/]+", "", johan.url)

    # Anna answers the question and books the meeting.
    anna.goto("/personal/inkorg")
    expect(anna.locator("#inbox-list .card", has_text="Mötet")).to_contain_text("Viola Andersson")
    anna.goto("/personal" + thread_path)
    expect(anna.get_by_role("link", name=f"Om ärende {reference}")).to_be_visible()
    anna.get_by_label("Svara personen").fill("Ja, Gösta är välkommen. Vi ses hemma hos er.")
    anna.get_by_role("button", name="Skicka svaret").click()
    expect(anna.get_by_text("Svaret är skickat. Personen får en avisering.")).to_be_visible()
    anna.goto(request_url)
    fill_in_meeting(anna, days_ahead=10, at="13:30", place="Hemma hos Viola")
    anna.get_by_role("button", name="Boka mötet").click()
    expect(anna.get_by_text("Mötet är bokat.")).to_be_visible()
    check_both(anna, "journey-anna-request-booked")

    # Johan sees the answer, with Anna's name and role, and the meeting in the timeline.
    johan.goto(thread_path)
    expect(johan.get_by_text("Anna Berg, sjuksköterska, Kalmar vårdcentral")).to_be_visible()
    expect(johan.get_by_text("Ja, Gösta är välkommen. Vi ses hemma hos er.")).to_be_visible()
    check_both(johan, "journey-johan-answer")
    johan.goto("/")
    _open_request_as_johan(johan, reference)
    expect(johan.locator("main")).to_contain_text("Samordningsmöte bokat")
    expect(johan.locator("main")).to_contain_text("Hemma hos Viola")
    with johan.expect_download() as download:
        johan.locator("ol.timeline").get_by_role("link", name="Lägg till i kalendern").click()
    body = download.value.path().read_text()
    assert "BEGIN:VEVENT" in body and "TZID=Europe/Stockholm:" in body
    assert "19480514" not in body
    check_both(johan, "journey-johan-request-booked")

    # The notices arrived by e-mail, to Viola and to Johan who follows her, with nothing in
    # them but that something happened: assigned, answered, meeting booked.
    expected = {"Något har hänt med ett ärende", "Du har ett nytt meddelande",
                "Det finns en tid för ett möte"}
    for address in (VIOLA_MAIL, JOHAN_MAIL):
        deadline = time.monotonic() + 30
        while not expected <= {m["Subject"] for m in mailbox.to(address)[before[address]:]}:
            assert time.monotonic() < deadline, f"notices to {address}: {mailbox.to(address)[before[address]:]}"
            time.sleep(0.25)
        _notices_are_plain(mailbox, address, len(expected), before[address])


def test_violas_slipped_follow_up_is_in_annas_inbox_and_anna_is_told(
        new_page, mailbox: Mailbox, portal_server: Server) -> None:
    before = len(mailbox.to(ANNA_MAIL))
    portal_server.python(SLIPPED_FOLLOW_UP)
    anna = new_page()
    log_in_as_staff(anna, "Anna Berg")
    anna.goto("/personal/inkorg?visa=overdue")
    row = anna.locator("#inbox-list .card", has_text="Planens uppföljning")
    expect(row.filter(has_text="Viola Andersson")).to_have_count(1)
    expect(row.filter(has_text="Viola Andersson")).to_contain_text("(försenad)")
    check_both(anna, "journey-anna-slipped-follow-up")
    told = _notices_are_plain(mailbox, ANNA_MAIL, 1, before)
    assert any(m["Subject"] == "En uppföljning har inte blivit av" for m in told)
    check(anna, "journey-anna-slipped-follow-up-after")
