"""Staff record consent given orally or on paper; the person sees it and can withdraw it;
access to the person's page follows the consent on the very next request."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Page, url
from tests.consent.helpers import (
    acts_of,
    assert_error_links_to,
    audit_of,
    checked_units,
    error_page,
    events_of,
    sign_in,
    staff_form,
    withdraw_forms,
)
from tests.factories import (
    Who,
    decide_directly,
    family,
    new_person,
    staff_named,
    today_in,
    unit_ids,
    unit_names,
)

UNITS = ("se-kalmar-vc", "se-kalmar-soc")
NOTE = "Sa ja muntligt vid besöket på vårdcentralen."


def staff_page_url(client, person: Who) -> str:
    return url(client.app, "staff_consent_page", person_id=person.id)


def record(client, page, person: Who, **fields):
    base = staff_form(page(staff_page_url(client, person)))
    data = {**base, "decision": "give", "unit": unit_ids(client, "se-kalmar-vc"),
            "given_by": person.id, "method": "oral", "date": today_in().isoformat(),
            "time": "", "note": NOTE}
    data.update(fields)
    return client.post(staff_page_url(client, person), data={k: v for k, v in data.items()
                                                     if v is not None},
                       follow_redirects=False)


def use_session(client, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set("sip_session", cookie, domain="testserver.local", path="/")


def test_oral_consent_is_recorded_seen_by_the_person_withdrawn_and_access_ends_at_once(
        client, page):
    person = new_person(client, units=UNITS)
    anna_id, vc = staff_named(client, "Anna")
    vc_name = unit_names(client, "se-kalmar-vc")[0]
    sign_in(client, "anna")
    staff_cookie = client.cookies.get("sip_session")
    assert client.get(url(client.app, "staff_person", person_id=person.id)).status_code == 403  # no consent yet

    yesterday = today_in() - timedelta(days=1)
    response = record(client, page, person, date=yesterday.isoformat(), time="14:30")
    assert response.status_code == 303, response.text[:500]
    after = page(response.headers["location"].split("#")[0])
    assert "Beskedet är sparat." in after.text()
    assert f"Registrerat av personal: Anna Berg, {vc_name}." in after.text()
    assert NOTE in after.text()
    [act] = acts_of(client, person.id)
    assert (act.decision, act.actor_type, act.actor_id, act.role, act.unit_id, act.method,
            act.given_by_id, act.note) == ("give", "staff", anna_id, "staff", vc, "oral",
                                           person.id, NOTE)
    assert act.occurred_at == datetime.combine(yesterday, datetime.strptime("14:30", "%H:%M")
                                               .time(), tzinfo=ZoneInfo("Europe/Stockholm"))
    audit = audit_of(client, person.id, "consent.give")[-1]
    assert (audit.actor_type, audit.actor_id, audit.role, audit.unit_id, audit.on_behalf_of,
            audit.object_id) == ("staff", anna_id, "staff", vc, person.id, act.id)
    assert page(url(client.app, "staff_person", person_id=person.id)).h1 == person.name  # 200 while active

    # The person sees it, marked as recorded by staff, and can withdraw it.
    client.cookies.clear()
    sign_in(client, person)
    history = page(url(client.app, "consent_history"))
    text = history.text()
    assert f"Registrerat av personal: Anna Berg, {vc_name}." in text
    assert f"Beskedet lämnades av {person.name}." in text
    assert f"Muntligt till personal: {NOTE}" in text
    [form] = withdraw_forms(page(url(client.app, "consent_page")))
    assert form["unit"] == [vc]
    response = client.post(url(client.app, "consent_decide"), data=form, follow_redirects=False)
    assert response.headers["location"].startswith("/samtycke/kvitto/")

    # The staff member's next request is refused.
    use_session(client, staff_cookie)
    assert page(url(client.app, "staff_persons")).h1 == "Personer"  # still signed in
    response = client.get(url(client.app, "staff_person", person_id=person.id))
    assert response.status_code == 403
    assert page(staff_page_url(client, person)).h1 == f"Samtycke för {person.name}"  # may still record


def test_paper_withdrawal_recorded_by_staff(client, page):
    person = new_person(client, units=UNITS)
    decide_directly(client, person.id, "give", UNITS)
    _, soc = staff_named(client, "Maria")
    sign_in(client, "maria")
    assert page(url(client.app, "staff_person", person_id=person.id)).h1 == person.name
    response = record(client, page, person, decision="withdraw", unit=[soc], method="paper",
                      note="Lämnade en underskriven blankett.")
    assert response.status_code == 303
    assert client.get(url(client.app, "staff_person", person_id=person.id)).status_code == 403
    assert [e.kind for e in events_of(client, person.id)][-1] == "withdrawn"
    client.cookies.clear()
    sign_in(client, person)
    text = page(url(client.app, "consent_history")).text()
    assert "På papper till personal: Lämnade en underskriven blankett." in text
    assert "Registrerat av personal: Maria Ek, Socialtjänsten i Kalmar kommun." in text


def test_missing_or_wrong_fields_are_plain_errors_and_nothing_is_stored(client, page):
    person = new_person(client, units=UNITS)
    vc, soc = unit_ids(client, *UNITS)
    sign_in(client, "anna")
    tomorrow = (today_in() + timedelta(days=1)).isoformat()
    cases = [
        ({"note": ""}, "note"),
        ({"note": "   \n "}, "note"),
        ({"note": None}, "note"),
        ({"note": "x" * 1001}, "note"),
        ({"method": ""}, "method"),
        ({"method": "digital"}, "method"),
        ({"given_by": ""}, "given_by"),
        ({"given_by": "someone-else"}, "given_by"),
        ({"date": ""}, "date"),
        ({"date": "23.11.2026"}, "date"),
        ({"date": tomorrow}, "date"),
        ({"decision": "think"}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"unit": []}, "unit"),
        ({"unit": ["made-up"]}, "unit"),
        ({"unit": [vc, unit_ids(client, "fi-vasa-hs")[0]]}, "unit"),
        ({"idempotency_key": "bad"}, "form"),
    ]
    for change, field in cases:
        response = record(client, page, person, **{"unit": [vc, soc], **change})
        assert response.status_code == 400, (change, response.status_code)
        refused = error_page(response)
        assert_error_links_to(refused, field)
        if "unit" not in change:
            assert checked_units(refused) == {vc, soc}, change  # the choices are kept
        if "method" not in change:
            assert refused.select_one("#method-oral").has_attr("checked")
        if "note" not in change:
            assert refused.select_one("#note").get_text() == NOTE
    assert acts_of(client, person.id) == []


def test_staff_record_for_joint_guardians(client, page):
    child, (mother, father) = family(client, units=UNITS)
    vc = unit_ids(client, "se-kalmar-vc")[0]
    sign_in(client, "anna")
    consent = page(staff_page_url(client, child))
    givers = {i["value"] for i in consent.select("input[name=given_by]")}
    assert givers == {mother.id, father.id}  # the guardians decide, not the child
    refused = record(client, page, child, given_by=child.id)
    assert refused.status_code == 400
    assert_error_links_to(error_page(refused), "given_by")
    assert record(client, page, child, given_by=mother.id).status_code == 303
    assert client.get(url(client.app, "staff_person", person_id=child.id)).status_code == 403  # waiting
    assert record(client, page, child, given_by=father.id).status_code == 303
    assert client.get(url(client.app, "staff_person", person_id=child.id)).status_code == 200
    assert [a.given_by_id for a in acts_of(client, child.id)] == [mother.id, father.id]
    assert {e.unit_id for e in events_of(client, child.id)} == {vc}


def test_staff_forms_are_idempotent_and_stale_forms_are_refused(client, page):
    person = new_person(client, units=UNITS)
    vc, soc = unit_ids(client, *UNITS)
    sign_in(client, "anna")
    first = staff_form(page(staff_page_url(client, person)))
    second = staff_form(page(staff_page_url(client, person)))
    data = {"decision": "give", "unit": [vc], "given_by": person.id, "method": "oral",
            "date": today_in().isoformat(), "note": NOTE}
    assert client.post(staff_page_url(client, person), data={**first, **data},
                       follow_redirects=False).status_code == 303
    assert client.post(staff_page_url(client, person), data={**first, **data},
                       follow_redirects=False).status_code == 303
    assert len(acts_of(client, person.id)) == 1
    stale = client.post(staff_page_url(client, person), data={**second, **data, "unit": [soc]},
                        follow_redirects=False)
    assert stale.status_code == 409
    assert "Samtycket har ändrats sedan du öppnade sidan" in Page(stale).text()
    assert len(acts_of(client, person.id)) == 1


def test_every_staff_view_of_consent_is_audited(client, page):
    person = new_person(client, units=UNITS)
    anna_id, vc = staff_named(client, "Anna")
    sign_in(client, "anna")
    before = len(audit_of(client, person.id, "consent.viewed_by_staff"))
    page(staff_page_url(client, person))
    page(staff_page_url(client, person))
    # A form sent back with an error shows the state and history again: also a view.
    assert record(client, page, person, note="").status_code == 400
    events = audit_of(client, person.id, "consent.viewed_by_staff")
    assert len(events) == before + 4  # two pages, the form's page and the error page
    assert {(e.actor_type, e.actor_id, e.role, e.unit_id, e.subject_person_id)
            for e in events} == {("staff", anna_id, "staff", vc, person.id)}
