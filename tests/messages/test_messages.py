"""Questions to a contact person: the person's side, representatives, the staff page,
notices, and the access rules (a unit sees only its own threads; a proxy without the
`messages` scope can neither read nor write)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal.messages.services import BODY_MAX
from tests.consent.helpers import act_for, error_page, sign_in
from tests.factories import SOC, VC, db_run, new_person, new_staff, represent, staff_named, unit_ids
from tests.messages.helpers import (
    as_citizen,
    as_staff,
    ask,
    audit_actions,
    checked_recipient,
    form_data,
    messages_in,
    notes_in,
    outbox_for,
    recipient_values,
    staff_action,
    thread_id_of,
    thread_row,
    threads_of,
)
from tests.shared_app import app, client, module_client, settings  # noqa: F401

NO_ACCESS_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"


def _demo_id(client, given: str) -> str:
    from sqlmodel import select

    from portal.people.models import Person
    from tests.factories import db_run

    async def work(db):
        return (await db.exec(select(Person).where(Person.given_name == given))).first().id

    return db_run(client, work)


def test_peter_asks_anna_answers_and_peter_sees_her_name_role_and_read(client, page):
    vc, _soc = unit_ids(client, VC, SOC)
    as_citizen(client, "peter")
    form_page = page("/meddelanden/ny")
    assert form_page.h1 == "Skriv en ny fråga"
    assert vc in recipient_values(form_page)
    text = form_page.text()
    assert "Du får svar inom 3 arbetsdagar." in text
    assert "Om det är bråttom: ring 1177. Vid fara för liv: ring 112." in text
    response, _ = ask(client, page, recipient=vc, subject="Min medicin",
                      body="Kan jag ta medicinen med mat?")
    thread_id = thread_id_of(response)
    thread = page(f"/meddelanden/{thread_id}")
    assert thread.h1 == "Min medicin"
    assert "Peter Lind" in thread.text(".message-list")
    assert "Inte läst än" in thread.text(".message-list")
    assert "Du får svar senast" in thread.text()

    as_staff(client, "Anna")
    staff_page = page(f"/personal/meddelanden/{thread_id}")
    assert "Kan jag ta medicinen med mat?" in staff_page.text()
    assert staff_action(client, page, thread_id, "answer",
                        body="Ja, ta den med frukosten.").status_code == 303
    assert "thread.viewed_by_staff" in audit_actions(client, thread_id)

    as_citizen(client, "peter")

    def answered_on_start() -> int:
        found = re.search(r"Du har fått svar på (\d+) fråg(?:a|or)\.", page("/").text())
        return int(found.group(1)) if found else 0

    waiting = answered_on_start()
    assert waiting >= 1  # the start page says there is an answer to read
    listing = page("/meddelanden")
    row = next(c for c in listing.select(".thread-list .card") if thread_id in str(c))
    assert "Nytt svar" in row.get_text()
    thread = page(f"/meddelanden/{thread_id}")
    messages = thread.select(".message-list > li")
    assert [m.select_one("p.plan-text").get_text() for m in messages] == [
        "Kan jag ta medicinen med mat?", "Ja, ta den med frukosten."]
    assert "Anna Berg, sjuksköterska, Kalmar vårdcentral" in messages[1].get_text(" ")
    assert "Läst" in messages[0].get_text()
    listing = page("/meddelanden")
    row = next(c for c in listing.select(".thread-list .card") if thread_id in str(c))
    assert "Nytt svar" not in row.get_text()
    assert answered_on_start() == waiting - 1


def test_karin_writes_for_peter_and_peter_sees_who_wrote(client, page):
    peter = _demo_id(client, "Peter")
    as_citizen(client, "karin")
    act_for(client, page, peter)
    response, _ = ask(client, page, subject="Boende", body="Peter behöver hjälp att söka boende.")
    thread_id = thread_id_of(response)
    assert "thread.read" not in audit_actions(client, thread_id)
    page(f"/meddelanden/{thread_id}")
    assert "thread.read" in audit_actions(client, thread_id)  # the access log
    as_citizen(client, "peter")
    thread = page(f"/meddelanden/{thread_id}")
    assert "Karin Holm för Peter" in thread.text(".message-list")


def test_gosta_with_the_messages_scope_can_write_for_viola(client, page):
    viola = _demo_id(client, "Viola")
    as_citizen(client, "gösta")
    act_for(client, page, viola)
    response, _ = ask(client, page, subject="Fråga från Gösta", body="Hur mår Viola?")
    thread_id = thread_id_of(response)
    assert "Gösta Andersson för Viola" in page(f"/meddelanden/{thread_id}").text(".message-list")


def test_a_proxy_without_the_messages_scope_can_neither_read_nor_write(client, page):
    person = new_person(client, units=(VC, SOC))
    reader = new_person(client, prefix="Tr")
    represent(client, reader, person, "proxy", scope="plan:read")
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page)[0])
    client.cookies.clear()
    sign_in(client, reader)
    act_for(client, page, person.id)
    token = page("/").csrf()
    for url in ("/meddelanden", "/meddelanden/ny", f"/meddelanden/{thread_id}"):
        refused = page(url, status=403)
        # The reader is told what their right covers, and that this is not part of it.
        assert refused.h1 == f"Det här kan du inte göra för {person.given_name}"
        assert "läsa planen" in refused.text() and "meddelanden" not in refused.text("main ul")
    for url in ("/meddelanden/ny", f"/meddelanden/{thread_id}"):
        response = client.post(url, data={"csrf_token": token, "subject": person.id,
                                          "body": "Hej", "idempotency_key": "k" * 20})
        assert response.status_code == 403
    assert len(messages_in(client, thread_id)) == 1
    assert 'href="/meddelanden"' not in page("/").response.text  # not in the menu


def test_another_citizen_cannot_see_the_thread(client, page):
    person = new_person(client, units=(VC,))
    other = new_person(client, units=(VC,))
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page)[0])
    client.cookies.clear()
    sign_in(client, other)
    assert page(f"/meddelanden/{thread_id}", status=404).h1 == NOT_FOUND_H1
    assert page("/meddelanden/AAAAAAAAAAAAAAAAAAAAAA", status=404).h1 == NOT_FOUND_H1


def test_staff_of_another_unit_or_country_get_the_same_403(client, page):
    person = new_person(client, units=(VC, SOC))
    sign_in(client, person)
    vc, _soc = unit_ids(client, VC, SOC)
    thread_id = thread_id_of(ask(client, page, recipient=vc)[0])
    for staff in ("Maria", "Johanna"):
        as_staff(client, staff)
        existing = page(f"/personal/meddelanden/{thread_id}", status=403)
        missing = page("/personal/meddelanden/AAAAAAAAAAAAAAAAAAAAAA", status=403)
        assert existing.h1 == missing.h1 == NO_ACCESS_H1
        assert existing.text() == missing.text()
        token = missing.csrf()
        response = client.post(f"/personal/meddelanden/{thread_id}",
                               data={"csrf_token": token, "action": "answer", "body": "Hej",
                                     "idempotency_key": "k" * 20})
        assert response.status_code == 403
    assert len(messages_in(client, thread_id)) == 1


def test_staff_of_a_unit_without_consent_may_answer_a_thread_to_their_unit(client, page):
    person = new_person(client, units=(VC, SOC))  # no consent at all
    _vc, soc = unit_ids(client, VC, SOC)
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page, recipient=soc)[0])
    as_staff(client, "Maria")
    assert staff_action(client, page, thread_id, "answer", body="Vi ringer dig.").status_code == 303
    assert [m.author_type for m in messages_in(client, thread_id)] == ["person", "staff"]


def test_html_and_script_are_shown_as_text(client, page):
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    body = '<script>alert("x")</script> <b>fet</b> https://example.com/?a=1&b=2'
    thread_id = thread_id_of(ask(client, page, subject="<i>ämne</i>", body=body)[0])
    thread = page(f"/meddelanden/{thread_id}")
    html = thread.response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<b>fet</b>" not in html and "<i>ämne</i>" not in html
    assert thread.select_one(".message-list p.plan-text").get_text() == body
    assert not thread.select(".message-list a")  # links are text
    assert thread.h1 == "<i>ämne</i>"


def test_very_long_text_is_refused_with_a_plain_error_and_kept(client, page):
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    response, _ = ask(client, page, body="å" * (BODY_MAX + 1))
    assert response.status_code == 400
    shown = error_page(response)
    assert "Texten får vara högst 10 000 tecken." in shown.text(".error-summary")
    assert "10\u00a0000" in response.text  # the number never breaks over two lines
    assert shown.select_one("textarea#body").get_text() == "å" * (BODY_MAX + 1)
    assert not threads_of(client, person.id)
    assert ask(client, page, body="å" * BODY_MAX)[0].status_code == 303


def test_missing_fields_show_errors_and_keep_what_was_typed(client, page):
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    response, _ = ask(client, page, recipient="not-offered", subject=" ", body="Min fråga")
    shown = error_page(response)
    assert response.status_code == 400
    links = [a["href"] for a in shown.select(".error-summary a")]
    assert links == ["#recipient", "#topic"]
    assert shown.select_one("textarea#body").get_text() == "Min fråga"


def test_double_submit_two_tabs_and_back_make_one_thread_and_one_message(client, page):
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    first, sent = ask(client, page, subject="Två flikar", body="Samma text")
    again = client.post("/meddelanden/ny", data=sent, follow_redirects=False)  # double submit
    other_tab, _ = ask(client, page, subject="Två flikar", body="Samma text")  # a second tab
    assert thread_id_of(first) == thread_id_of(again) == thread_id_of(other_tab)
    assert len(threads_of(client, person.id)) == 1
    thread_id = thread_id_of(first)
    tab_a, tab_b = page(f"/meddelanden/{thread_id}"), page(f"/meddelanden/{thread_id}")
    for shown in (tab_a, tab_a, tab_b):  # double submit (or back and send), then the other tab
        data = {**form_data(shown), "body": "Ett svar till"}
        assert client.post(f"/meddelanden/{thread_id}", data=data,
                           follow_redirects=False).status_code == 303
    assert [m.body for m in messages_in(client, thread_id)] == ["Samma text", "Ett svar till"]


def test_internal_notes_never_reach_the_person(client, page):
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page, subject="Anteckning")[0])
    as_staff(client, "Anna")
    shown = page(f"/personal/meddelanden/{thread_id}")
    note = next(f for f in shown.select("form") if f.select_one("input[name=action][value=note]"))
    data = {i["name"]: i.get("value", "") for i in note.select("input[type=hidden]")}
    data["body"] = "Hemlig intern anteckning om läget"
    for _ in range(2):  # sent twice: one note
        assert client.post(f"/personal/meddelanden/{thread_id}", data=data,
                           follow_redirects=False).status_code == 303
    assert len(notes_in(client, thread_id)) == 1
    assert "Hemlig intern anteckning" in page(f"/personal/meddelanden/{thread_id}").text()
    client.cookies.clear()
    sign_in(client, person)
    for url in ("/meddelanden", f"/meddelanden/{thread_id}"):
        assert "Hemlig intern anteckning" not in page(url).response.text


def test_a_staff_answer_notifies_the_person_and_followers_with_the_messages_scope(client, page):
    person = new_person(client, units=(VC,))
    follower = new_person(client, prefix="Tf")
    reader = new_person(client, prefix="Tr")
    represent(client, follower, person, "proxy", scope="plan:read messages")
    represent(client, reader, person, "proxy", scope="plan:read")
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page)[0])
    assert not outbox_for(client, person.id, "message_answered")
    as_staff(client, "Anna")
    assert staff_action(client, page, thread_id, "answer", body="Svar").status_code == 303
    assert len(outbox_for(client, person.id, "message_answered")) == 1
    assert len(outbox_for(client, follower.id, "message_answered")) == 1
    assert not outbox_for(client, reader.id, "message_answered")


def test_staff_assign_close_and_reopen_are_audited(client, page):
    colleague = new_staff(client, VC)
    person = new_person(client, units=(VC,))
    sign_in(client, person)
    thread_id = thread_id_of(ask(client, page)[0])
    as_staff(client, "Anna")
    maria, _ = staff_named(client, "Maria")
    bad = staff_action(client, page, thread_id, "assign", staff_id=maria)  # another unit
    assert bad.status_code == 400
    assert staff_action(client, page, thread_id, "assign",
                        staff_id=colleague.id).status_code == 303
    assert thread_row(client, thread_id).assigned_to == colleague.id
    assert staff_action(client, page, thread_id, "close").status_code == 303
    assert thread_row(client, thread_id).status == "closed"
    assert staff_action(client, page, thread_id, "reopen").status_code == 303
    assert thread_row(client, thread_id).status == "open"
    actions = audit_actions(client, thread_id)
    for action in ("thread.started", "thread.assigned", "thread.closed", "thread.reopened"):
        assert action in actions
    response = client.post(f"/personal/meddelanden/{thread_id}",
                           data={"csrf_token": page("/").csrf(), "action": "delete"})
    assert response.status_code == 400


def test_preselection_from_the_plan_is_checked_against_the_person(client, page):
    person = new_person(client, units=(VC,))
    vc, soc = unit_ids(client, VC, SOC)
    anna, _ = staff_named(client, "Anna")
    maria, _ = staff_named(client, "Maria")
    sign_in(client, person)
    chosen = page(f"/meddelanden/ny?till={vc}&kontakt={anna}")
    assert checked_recipient(chosen) == f"{vc}.{anna}"
    assert "Anna Berg" in chosen.text("form#form-field")
    for query in (f"?till={soc}", f"?till={vc}&kontakt={maria}", "?till=%3Cx%3E",
                  "?arende=AAAAAAAAAAAAAAAAAAAAAA"):
        shown = page("/meddelanden/ny" + query)
        assert soc not in recipient_values(shown)
        assert maria not in " ".join(recipient_values(shown))
    assert checked_recipient(page(f"/meddelanden/ny?till={vc}&kontakt={maria}")) == vc


def test_finland_swedish_gives_the_finnish_numbers(client, page):
    person = new_person(client, country="FI", units=("fi-vasa-hs",))
    sign_in(client, person)
    client.get("/sprak/sv-FI?next=/")
    text = page("/meddelanden/ny").text()
    assert "Om det är bråttom: ring Jourhjälpen 116 117. Vid fara för liv: ring 112." in text
    assert "1177" not in text


@pytest.mark.parametrize(("country", "unit", "variant", "number", "not_number"), [
    ("SE", "se-kalmar-vc", "sv-FI", "ring 1177.", "116 117"),
    ("FI", "fi-vasa-hs", "sv-SE", "ring Jourhjälpen 116 117.", "1177"),
])
def test_the_urgent_numbers_follow_where_the_person_lives_not_the_language(
        client, page, country, unit, variant, number, not_number):
    """A person in Kalmar who reads Finland Swedish still calls 1177, and one in Vasa
    who reads Sweden Swedish calls 116 117."""
    person = new_person(client, country=country, units=(unit,))
    sign_in(client, person)
    client.get(f"/sprak/{variant}?next=/")
    text = page("/meddelanden/ny").text()
    assert f"Om det är bråttom: {number} Vid fara för liv: ring 112." in text
    assert not_number not in text


def test_bidi_overrides_are_removed_so_staff_read_what_was_written(client, page):
    """U+202E and its kin reorder what is shown ("Trojan Source"); they are not stored.
    Every other character, right-to-left letters and marks included, is kept."""
    from portal.messages.models import Message

    person = new_person(client, units=(VC,))
    sign_in(client, person)
    body = "Betala \u202e000 01\u202c kr? \u2067abc\u2069 עברית \u200f"
    thread_id = thread_id_of(ask(client, page, body=body, subject="Räkning \u202eabc")[0])

    async def work(db):
        return (await db.exec(select(Message).where(Message.thread_id == thread_id))).one()

    stored = db_run(client, work)
    assert stored.body == "Betala 000 01 kr? abc עברית \u200f"
    assert threads_of(client, person.id)[0].subject == "Räkning abc"
