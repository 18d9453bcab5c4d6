"""The main plan journey through HTTP: consent, write, publish, read, change, read again."""

from tests.conftest import Page, login


def _hidden(page: Page, action_suffix: str) -> dict:
    form = next(f for f in page.select("form") if f["action"].endswith(action_suffix))
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def test_contact_person_writes_and_publishes_and_viola_reads(client, page, demo_ids):
    viola = demo_ids["viola"]
    # Viola says yes for her vårdcentral (Anna's unit).
    login(client, "viola")
    consent = page("/samtycke")
    boxes = [b for b in consent.select("form#form-field input[name=unit]")
             if consent.select_one(f'label[for="{b["id"]}"] strong').get_text() == "Kalmar vårdcentral"]
    if boxes:  # not already given by an earlier test in this session
        data = {i["name"]: i.get("value", "")
                for i in consent.select("form#form-field input[type=hidden]")}
        assert client.post("/samtycke", data={**data, "decision": "give", "unit": [boxes[0]["value"]]},
                           follow_redirects=False).status_code == 303
    client.cookies.clear()

    login(client, "anna")
    editor = page(f"/personal/personer/{viola}/plan")
    if editor.select_one('form[action$="/plan"] button'):
        client.post(f"/personal/personer/{viola}/plan", data={"csrf_token": editor.csrf()})
        editor = page(f"/personal/personer/{viola}/plan")
    assert editor.h1 == "Plan för Viola Andersson"
    response = client.post(f"/personal/personer/{viola}/plan/avsnitt/important",
                           data={**_hidden(editor, "/avsnitt/important"),
                                 "text": "Jag vill bo kvar hemma."}, follow_redirects=False)
    assert response.status_code == 303, response.text[:400]
    editor = page(f"/personal/personer/{viola}/plan")
    response = client.post(f"/personal/personer/{viola}/plan/avsnitt/follow_up",
                           data={**_hidden(editor, "/avsnitt/follow_up"), "date": "2026-12-08",
                                 "time": "10:00", "place": "Hemma hos dig"}, follow_redirects=False)
    assert response.status_code == 303
    editor = page(f"/personal/personer/{viola}/plan")
    preview = page(f"/personal/personer/{viola}/plan/forhandsvisning")
    assert "Jag vill bo kvar hemma." in preview.text()
    response = client.post(f"/personal/personer/{viola}/plan/publicera",
                           data=_hidden(editor, "/plan/publicera"), follow_redirects=False)
    assert response.status_code == 303
    # The same publish form again (double click): no second version.
    again = client.post(f"/personal/personer/{viola}/plan/publicera",
                        data=_hidden(editor, "/plan/publicera"), follow_redirects=False)
    assert again.status_code == 409
    lix = client.post("/personal/lix", data={"section": "important", "text": "Jag vill bo kvar."},
                      headers={"HX-Request": "true", "X-CSRF-Token": editor.csrf()})
    assert lix.status_code == 200 and "LIX" in lix.text
    client.cookies.clear()

    login(client, "viola")
    plan = page("/plan")
    assert plan.h1 == "Din plan"
    assert "Jag vill bo kvar hemma." in plan.text()
    assert "8 december 2026" in plan.text()
    ics = client.get("/plan/kalender.ics")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content
    assert b"Europe/Stockholm" in ics.content
    start = page("/")
    assert "Nästa uppföljning" in start.text()



def test_actions_can_be_read_by_unit_or_by_date(client, page):
    from tests.consent.helpers import unit_ids
    from tests.plans.helpers import (
        SOC,
        VC,
        as_person,
        as_staff,
        ensure_plan,
        person_with_consent,
        publish,
        save,
    )

    person = person_with_consent(client, consent=(VC, SOC))
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    vc, soc = unit_ids(client, VC, SOC)
    # Socialtjänsten sorts after Kalmar vårdcentral by unit, but starts first by date.
    save(client, page, person.id, "action_add", {"what": "Läkarbesök varje månad", "unit_id": vc,
                                                 "start": "2026-12-15", "status": "planned"})
    save(client, page, person.id, "action_add", {"what": "Hemtjänst varje dag", "unit_id": soc,
                                                 "start": "2026-12-01", "status": "ongoing"})
    publish(client, page, person.id)
    as_person(client, person)

    def order(url: str) -> list[str]:
        return [p.get_text() for p in page(url).select("#actions-title ~ .card .plan-text")]

    # By unit name: Kalmar vårdcentral before Socialtjänsten; by date: 1 December first.
    assert order("/plan") == ["Läkarbesök varje månad", "Hemtjänst varje dag"]
    assert order("/plan?ordning=datum") == ["Hemtjänst varje dag", "Läkarbesök varje månad"]
    assert [a.get_text() for a in page("/plan?ordning=datum").select(".order-links a")] == \
        ["efter verksamhet"]
    assert [a.get_text() for a in page("/plan").select(".order-links a")] == ["efter datum"]
