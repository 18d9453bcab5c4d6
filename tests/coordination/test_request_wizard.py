"""Be om samordning: the wizard as the person and as Johan for Viola, errors per step,
the draft kept across sessions, one request whatever is clicked twice, the due date."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from portal.coordination.models import CoordinationRequest, RequestUnit
from portal.core import i18n
from portal.core.workdays import add_working_days
from tests.consent.helpers import act_for, error_page, sign_in
from tests.coordination.helpers import WIZARD, fill_in, hidden, post_step, send
from tests.factories import SOC, VC, db_run, new_person, unit_ids
from tests.shared_app import app, client, module_client, settings  # noqa: F401

REFERENCE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


def requests_by(client, author_id: str, person_id: str, status: str | None = None) -> list:
    async def work(db):
        query = select(CoordinationRequest).where(CoordinationRequest.author_id == author_id,
                                                  CoordinationRequest.person_id == person_id)
        if status:
            query = query.where(CoordinationRequest.status == status)
        return list((await db.exec(query)).all())

    return db_run(client, work)


def addressed_units(client, request_id: str) -> set[str]:
    async def work(db):
        return set((await db.exec(select(RequestUnit.unit_id)
                                  .where(RequestUnit.request_id == request_id))).all())

    return db_run(client, work)


def test_the_person_asks_for_coordination(client, page):
    who = new_person(client, units=(VC, SOC))
    sign_in(client, who)
    start = page("/arenden")
    assert start.h1 == "Dina ärenden"
    assert "Det finns inga ärenden än." in start.text()
    assert start.select_one(f"a[href='{WIZARD}']") is not None
    assert page("/").select_one("nav a[href='/arenden']") is not None  # in the menu
    [soc] = unit_ids(client, SOC)
    check = fill_in(client, page, hard="Jag har ont & är trött <b>hela</b> tiden.\nhttps://x.example",
                    units=[soc], other="Tandläkaren", contact="phone", phone="070-123 45 67")
    assert check.h1 == "Kontrollera dina svar"
    text = check.text()
    for shown in ("Mig själv", "Jag har ont & är trött <b>hela</b> tiden.", "Tandläkaren",
                  "Socialtjänsten i Kalmar kommun", "Ring 070-123 45 67", "Senare"):
        assert shown in text
    assert check.select_one("main b") is None  # nothing typed is rendered as HTML
    sent = send(client, check)
    assert sent.status_code == 303
    receipt = page(sent.headers["location"])
    assert receipt.h1 == "Tack! Vi har tagit emot din begäran."
    [request] = requests_by(client, who.id, who.id)
    assert request.status == "received" and REFERENCE.match(request.reference)
    assert request.reference in receipt.text()
    assert "Kontaktpersonen ringer dig på 070-123 45 67." in receipt.text()
    assert addressed_units(client, request.id) == {soc}
    listing = page("/arenden")
    assert request.reference in listing.text()
    assert "Mottaget" in listing.text() and "Mottaget Mottaget" not in listing.text()
    assert "En kontaktperson tar snart ärendet." in listing.text()
    detail = page(listing.select_one(".request-list a")["href"])
    assert detail.h1 == f"Ärende {request.reference}"
    assert "Skickat av dig" in detail.text()
    assert detail.select_one(f"a[href='/meddelanden/ny?arende={request.id}']") is not None
    home = page("/")
    assert f"Ärende {request.reference}: En kontaktperson tar snart ärendet." in home.text()


def test_with_nothing_chosen_it_goes_to_the_primary_care_near_the_person(client, page):
    who = new_person(client, units=(VC, SOC))
    sign_in(client, who)
    check = fill_in(client, page, units=["unknown"])
    assert "Vi skickar din begäran till Kalmar vårdcentral" in check.text()
    send(client, check)
    [request] = requests_by(client, who.id, who.id)
    assert addressed_units(client, request.id) == set(unit_ids(client, VC))


def test_someone_without_units_near_them_is_offered_the_countrys(client, page):
    who = new_person(client, country="FI", units=())
    sign_in(client, who)
    post_step(client, page, "", {"person": "self"})
    units = page(f"{WIZARD}/vilka")
    offered = {label.get_text(" ", strip=True) for label in units.select("fieldset label")}
    assert any(o.startswith("Hälsostationen i Vasa") for o in offered)
    assert any(o.startswith("Socialvården i Vasa") for o in offered)
    assert not any("Kalmar" in o for o in offered)


def test_johan_asks_for_viola(client, page, demo_ids):
    sign_in(client, "johan")
    start = page(WIZARD)
    assert start.h1 == "Vem vill du be om samordning för?"
    assert {i["value"] for i in start.select("input[name=person]")} == {"self", demo_ids["viola"]}
    check = fill_in(client, page, person=demo_ids["viola"], hard="Mamma ringer mig varje natt.")
    # Choosing Viola switched whom the service is used for, as "Byt person" does.
    assert "Viola Andersson" in check.text(".acting-banner")
    assert "Viola Andersson" in check.text()
    sent = send(client, check)
    assert sent.status_code == 303
    johan = requests_by(client, _person_id(client, "Johan"), demo_ids["viola"], "received")
    request = max(johan, key=lambda r: r.sent_at)
    assert request.author_role == "proxy"
    detail = page(f"/arenden/{request.id}")
    assert "Skickat av Johan Andersson för Viola Andersson" in detail.text()
    client.cookies.clear()
    sign_in(client, "viola")
    viola = page(f"/arenden/{request.id}")
    assert "Mamma ringer mig varje natt." in viola.text()
    assert "Skickat av Johan Andersson för Viola Andersson" in viola.text()


def _person_id(client, given: str) -> str:
    from portal.people.models import Person

    async def work(db):
        return (await db.exec(select(Person.id).where(Person.given_name == given))).first()

    return db_run(client, work)


def test_gosta_without_the_requests_scope_is_refused(client, page, demo_ids):
    sign_in(client, "gösta")
    act_for(client, page, demo_ids["viola"])
    home = page("/")
    assert home.select_one("nav a[href='/arenden']") is None
    token = home.csrf()
    for path in ("/arenden", WIZARD, f"{WIZARD}/vad", f"{WIZARD}/kontrollera"):
        assert client.get(path, follow_redirects=False).status_code == 403, path
    response = client.post(f"{WIZARD}/vad", data={"csrf_token": token, "subject": demo_ids["viola"],
                                                  "hard": "Hej"}, follow_redirects=False)
    assert response.status_code == 403
    assert requests_by(client, _person_id(client, "Gösta"), demo_ids["viola"]) == []


def test_staff_are_told_this_is_not_for_them(client):
    sign_in(client, "anna")
    assert client.get("/arenden", follow_redirects=False).status_code == 403


def test_each_step_says_what_to_do_and_keeps_what_was_typed(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    post_step(client, page, "", {"person": "self"})
    empty = error_page(post_step(client, page, "vad", {"hard": "   "}, status=400))
    assert "Skriv med egna ord vad som är svårt just nu." in empty.text(".error-summary")
    long = "å" * 4001
    too_long = error_page(post_step(client, page, "vad", {"hard": long}, status=400))
    assert too_long.select_one("textarea[name=hard]").get_text() == long
    nul = error_page(post_step(client, page, "vad", {"hard": "a\x00b"}, status=400))
    assert "tecken som inte går att spara" in nul.text(".error-summary")
    none = error_page(post_step(client, page, "vilka", {"other": ""}, status=400))
    assert "Välj minst en verksamhet" in none.text(".error-summary")
    both = error_page(post_step(client, page, "vilka", {"unit": ["unknown"], "other": "Skolan"},
                                status=400))
    assert both.select_one("input[name=other]")["value"] == "Skolan"
    forged = error_page(post_step(client, page, "vilka", {"unit": ["AAAAAAAAAAAAAAAAAAAAAA"]},
                                  status=400))
    assert "Välj bland verksamheterna i listan." in forged.text(".error-summary")
    phone = error_page(post_step(client, page, "kontakt", {"contact": "phone", "phone": "ring mig"},
                                 status=400))
    assert "Skriv telefonnumret med siffror" in phone.text(".error-summary")
    assert phone.select_one("input[name=phone]")["value"] == "ring mig"
    assert phone.select_one("input[name=contact][value=phone]").has_attr("checked")
    no_way = error_page(post_step(client, page, "kontakt", {}, status=400))
    assert "Välj hur du vill att vi kontaktar dig." in no_way.text(".error-summary")
    consent = error_page(post_step(client, page, "samtycke", {}, status=400))
    assert "Välj om du vill svara om samtycke nu eller senare." in consent.text(".error-summary")
    # Nothing of the above was saved: the check page sends back to the first question.
    assert client.get(f"{WIZARD}/kontrollera", follow_redirects=False).headers["location"] == \
        f"{WIZARD}/vad"


def test_a_change_from_the_check_page_returns_to_it(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    check = fill_in(client, page)
    link = check.select_one(f"a[href='{WIZARD}/vad?andra=1']")
    assert link is not None
    changing = page(link["href"])
    assert changing.select_one("input[name=andra]")["value"] == "1"
    assert changing.select_one("a[href='/arenden/ny/kontrollera']") is not None  # Tillbaka
    response = client.post(f"{WIZARD}/vad", data={**hidden(changing), "hard": "Nytt svar."},
                           follow_redirects=False)
    assert response.headers["location"] == f"{WIZARD}/kontrollera"
    assert "Nytt svar." in page(f"{WIZARD}/kontrollera").text()


def test_the_draft_is_kept_when_the_session_ends(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    post_step(client, page, "", {"person": "self"})
    post_step(client, page, "vad", {"hard": "Det jag hann skriva."})
    client.cookies.clear()  # a timeout, a closed browser
    sign_in(client, who)
    listing = page("/arenden")
    assert "Du har ett påbörjat ärende. Fortsätt där du var." in listing.text()
    assert listing.select_one(f"a[href='{WIZARD}/vilka']") is not None
    assert "Du har ett påbörjat ärende." in page(WIZARD).text()
    assert page(f"{WIZARD}/vad").select_one("textarea[name=hard]").get_text() == \
        "Det jag hann skriva."


def test_double_submit_two_tabs_and_the_back_button_make_one_request(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    check = fill_in(client, page)
    other_tab = page(f"{WIZARD}/kontrollera")
    first = send(client, check)
    second = send(client, check)  # double submit
    third = send(client, other_tab)  # the other tab
    assert first.headers["location"] == second.headers["location"] == third.headers["location"]
    # The back button: the check page has nothing left to send.
    back = client.get(f"{WIZARD}/kontrollera", follow_redirects=False)
    assert back.status_code == 303
    assert len(requests_by(client, who.id, who.id)) == 1
    assert len(requests_by(client, who.id, who.id, "received")) == 1


def test_a_step_posted_from_a_tab_shown_for_someone_else_saves_nothing(client, page, demo_ids):
    sign_in(client, "johan")
    own = page(f"{WIZARD}/vad")
    act_for(client, page, demo_ids["viola"])  # in another tab
    response = client.post(f"{WIZARD}/vad", data={**hidden(own), "hard": "Fel person."},
                           follow_redirects=False)
    assert response.status_code in (303, 409) and "Fel person." not in response.text
    johan = _person_id(client, "Johan")
    for draft in requests_by(client, johan, johan) + requests_by(client, johan, demo_ids["viola"]):
        assert "Fel person." not in draft.answers


@pytest.mark.parametrize(("country", "units"), [("SE", (VC,)), ("FI", ("fi-vasa-hs",))])
def test_the_receipt_promises_an_answer_in_working_days(client, page, app, country, units):
    zone = ZoneInfo("Europe/Stockholm" if country == "SE" else "Europe/Helsinki")
    sent_at = datetime(2026, 12, 23, 11, 0, tzinfo=zone)  # Wednesday before Christmas
    who = new_person(client, country=country, units=units)
    sign_in(client, who)
    check = fill_in(client, page, units=["unknown"])
    app.state.clock.travel_to(sent_at)
    try:
        receipt = page(send(client, check).headers["location"])
        listing = page("/arenden")
    finally:
        app.state.clock.travel_to(None)
    due = add_working_days(date(2026, 12, 23), 3, country)
    # 24 (julafton: a de-facto day off in Sweden, a public one in Finland), 25, 26 off,
    # 27 a Sunday: Monday 28, Tuesday 29, Wednesday 30 are the three working days.
    assert due == date(2026, 12, 30)
    when = i18n.format_date(due, "weekday_date", "sv" if country == "SE" else "sv_FI")
    assert when == ("onsdag 30 december" if country == "SE" else "onsdag 30.12.2026")
    assert f"Du får svar senast {when}." in receipt.text()
    assert f"Du får svar senast {when}." in listing.text()


def test_another_citizen_gets_the_same_answer_as_for_a_made_up_request(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    send(client, fill_in(client, page))
    [request] = requests_by(client, who.id, who.id)
    client.cookies.clear()
    stranger = new_person(client, units=(VC,))
    sign_in(client, stranger)
    for path in (f"/arenden/{request.id}", f"/arenden/{request.id}/kvitto"):
        theirs = client.get(path)
        made_up = client.get(path.replace(request.id, "AAAAAAAAAAAAAAAAAAAAAA"))
        assert theirs.status_code == made_up.status_code == 404
        assert page(path, status=404).h1 == page(
            path.replace(request.id, "AAAAAAAAAAAAAAAAAAAAAA"), status=404).h1
    # The stranger's own draft cannot send the other's request either.
    token = page("/").csrf()
    response = client.post(f"{WIZARD}/kontrollera", data={"csrf_token": token,
                                                          "subject": stranger.id,
                                                          "request": request.id},
                           follow_redirects=False)
    assert response.headers["location"] == WIZARD


def test_counts_stay_small(client, page):
    who = new_person(client, units=(VC,))
    sign_in(client, who)
    for _ in range(2):
        send(client, fill_in(client, page))
    assert len(requests_by(client, who.id, who.id, "received")) == 2

    async def work(db):
        return (await db.exec(select(func.count()).select_from(CoordinationRequest).where(
            CoordinationRequest.person_id == who.id, col(CoordinationRequest.status) == "draft"))).one()

    assert db_run(client, work) == 0


@pytest.mark.parametrize("variant", ["sv-SE", "sv-FI"])
def test_the_units_step_names_where_the_request_goes_by_default(client, page, variant):
    """"If you choose none" names the person's own primary care unit, in either variant
    (not "hälsostationen" to someone in Kalmar who reads Finland Swedish)."""
    person = new_person(client, units=(VC, SOC))
    sign_in(client, person)
    client.get(f"/sprak/{variant}?next=/")
    post_step(client, page, "", {})  # start the draft
    text = page(f"{WIZARD}/vilka").text()
    assert "Om du inte väljer någon skickar vi den till Kalmar vårdcentral." in text
    assert "hälsostationen" not in text
