"""Versions, "new since you looked", one open plan per person, closing, notices."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from portal.notices.outbox import render
from portal.plans.models import Plan
from tests.conftest import url
from tests.consent.helpers import error_page, outbox_of
from tests.factories import db_run, new_person, person_with_consent, represent
from tests.plans.helpers import (
    as_person,
    as_staff,
    editor_url,
    ensure_plan,
    hidden,
    plans_of,
    publish,
    save,
    versions_of,
)

CHANGED = "Nytt sedan du tittade sist"


def _sections_marked(page) -> set[str]:
    return {" ".join(h.get_text(" ").split()).replace(CHANGED, "").strip()
            for h in page.select("h2, h3") if CHANGED in h.get_text()}


def test_versions_are_numbered_and_each_stays_readable(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    texts = ["Första texten.", "Andra texten.", "Tredje texten."]
    for text in texts:
        save(client, page, person.id, "important", {"text": text})
        publish(client, page, person.id)
    plan = plans_of(client, person.id)[0]
    assert [v.number for v in versions_of(client, plan.id)] == [1, 2, 3]
    as_person(client, person)
    for number, text in enumerate(texts, start=1):
        old = page(url(client.app, "plan_version", plan_id=plan.id, number=number))
        assert text in old.text()
        assert not any(t in old.text() for t in texts if t != text)
    assert texts[-1] in page(url(client.app, "my_plan")).text()
    listing = page(url(client.app, "plan_versions"))
    for number in (1, 2, 3):
        assert listing.select_one(f'a[href="/plan/{plan.id}/version/{number}"]') is not None
    assert client.get(f"/plan/{plan.id}/version/4").status_code == 404


def test_the_same_publish_form_twice_stores_one_version(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    editor = ensure_plan(client, page, person.id)
    save(client, page, person.id, "important", {"text": "En gång."})
    editor = page(editor_url(client, person.id))
    form = hidden(editor, "/plan/publicera")
    first = client.post(url(client.app, "plan_publish", person_id=person.id), data=form, follow_redirects=False)
    second = client.post(url(client.app, "plan_publish", person_id=person.id), data=form, follow_redirects=False)
    assert first.status_code == 303 and second.status_code == 409
    assert "Planen ändrades medan du tittade, eller så var den redan publicerad" in second.text
    plan = plans_of(client, person.id)[0]
    assert [v.number for v in versions_of(client, plan.id)] == [1]


def test_new_since_last_look_marks_exactly_the_changed_sections(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "important", {"text": "Bo hemma."})
    save(client, page, person.id, "self_can", {"text": "Laga mat."})
    publish(client, page, person.id)
    as_person(client, person)
    first = page(url(client.app, "my_plan"))
    assert _sections_marked(first) == set()  # the first visit: nothing is "new"
    as_staff(client, "Anna")
    save(client, page, person.id, "self_can", {"text": "Laga mat och handla."})
    save(client, page, person.id, "follow_up", {"date": "2026-12-08", "time": "10:00",
                                                "place": ""})
    publish(client, page, person.id)
    as_person(client, person)
    second = page(url(client.app, "my_plan"))
    assert _sections_marked(second) == {"Det här kan du göra själv", "Nästa uppföljning"}
    assert "Planen har ändrats sedan du tittade sist" in second.text()
    third = page(url(client.app, "my_plan"))
    assert _sections_marked(third) == set()
    assert "Planen har ändrats sedan du tittade sist" not in third.text()


def test_the_database_allows_one_open_plan_per_person(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    existing = plans_of(client, person.id)[0]

    async def second(db):
        db.add(Plan(person_id=person.id, created_by=existing.created_by, status="active"))
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            return "refused"
        return "stored"

    assert db_run(client, second) == "refused"
    # A second "Skapa plan" returns the existing plan.
    editor = page(editor_url(client, person.id))
    response = client.post(editor_url(client, person.id), data={"csrf_token": editor.csrf()},
                           follow_redirects=False)
    assert response.status_code == 303
    assert [p.id for p in plans_of(client, person.id)] == [existing.id]


def test_closing_needs_a_reason_and_archives_the_plan(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "important", {"text": "Den gamla planen."})
    publish(client, page, person.id)
    editor = page(editor_url(client, person.id))
    form = {"csrf_token": editor.csrf()}
    empty = client.post(url(client.app, "plan_close", person_id=person.id), data={**form, "reason": "  "},
                        follow_redirects=False)
    assert empty.status_code == 400
    shown = error_page(empty)
    assert shown.select_one(".error-summary") is not None
    too_long = "Flyttat. " * 60
    long = client.post(url(client.app, "plan_close", person_id=person.id), data={**form, "reason": too_long},
                       follow_redirects=False)
    assert long.status_code == 400
    assert error_page(long).select_one("#close-reason").get_text() == too_long.strip()
    assert plans_of(client, person.id)[0].status == "active"
    done = client.post(url(client.app, "plan_close", person_id=person.id),
                       data={**form, "reason": "Personen har flyttat."}, follow_redirects=False)
    assert done.status_code == 303
    plan = plans_of(client, person.id)[0]
    assert plan.status == "closed" and plan.close_reason == "Personen har flyttat."

    as_person(client, person)
    none = page(url(client.app, "my_plan"))
    assert "Den gamla planen." not in none.text()
    earlier = page(url(client.app, "earlier_plans"))
    assert earlier.select_one(f'a[href^="/plan/{plan.id}/version/"]') is not None
    assert "Den gamla planen." in page(f"/plan/{plan.id}/version/1").text()

    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    plans = plans_of(client, person.id)
    assert len(plans) == 2 and plans[1].status == "draft" and plans[1].id != plan.id


def test_publishing_notifies_without_plan_text(client, page, settings):
    person = person_with_consent(client)
    reader = new_person(client, prefix="Rn")
    no_plan = new_person(client, prefix="Rm")
    represent(client, reader, person, "proxy", scope="plan:read")
    represent(client, no_plan, person, "proxy", scope="consent messages")
    before = {who.id: len(outbox_of(client, who.id)) for who in (person, reader, no_plan)}
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    secret = "Hemlig plantext om hjärtat."
    save(client, page, person.id, "important", {"text": secret})
    publish(client, page, person.id)
    for who, expected in ((person, 1), (reader, 1), (no_plan, 0)):
        new = outbox_of(client, who.id)[before[who.id]:]
        assert [m.template for m in new] == ["plan_published"] * expected, who
        for message in new:
            mail = render(message, who.email, settings)
            body = mail.get_content()
            assert secret not in body and "hjärtat" not in body
            assert secret not in str(mail["Subject"])


def test_no_notice_for_a_person_without_email(client, page):
    person = person_with_consent(client, email=False)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    publish(client, page, person.id)
    assert outbox_of(client, person.id) == []
