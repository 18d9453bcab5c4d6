"""Who may read and write a plan: every plan route for every persona, and the access log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup

from tests.conftest import url
from tests.consent.helpers import act_for, audit_of
from tests.factories import decide_directly, new_person, new_staff, person_with_consent, represent
from tests.plans.helpers import (
    AVD12,
    NO_ACCESS_H1,
    NOT_FOUND_H1,
    SOC,
    VC,
    as_person,
    as_staff,
    editor_url,
    published_plan,
)

SECRET = "Jag vill dansa tango varje tisdag."
PERSON_GETS = ["/plan", "/plan/versioner", "/plan/{plan}/version/1", "/plan/tidigare",
               "/plan/kalender.ics"]
STAFF_GETS = ["", "/forhandsvisning"]
STAFF_POSTS = ["", "/avsnitt/important", "/publicera", "/avsluta"]


@pytest.fixture
def world(client, page):
    """A person with a published plan, units VC (consent), AVD12 (relation only), SOC (none)."""
    person = person_with_consent(client, units=(VC, AVD12), consent=(VC,))
    plan = published_plan(client, page, person, important=SECRET,
                          follow_up={"date": "2026-12-08", "time": "10:00", "place": "Hemma"})
    return person, plan


def _h1(response) -> str:
    soup = BeautifulSoup(response.text, "html.parser")
    return " ".join(soup.h1.get_text(" ").split()) if soup.h1 else ""


def _main(response) -> str:
    soup = BeautifulSoup(response.text, "html.parser")
    main = soup.select_one("main")
    return " ".join(main.get_text(" ").split()) if main else ""


def _person_reads(client, plan_id: str) -> dict[str, int]:
    return {url: client.get(url.format(plan=plan_id), follow_redirects=False).status_code
            for url in PERSON_GETS}


def test_the_person_reads_everything_and_writes_no_access_log(client, page, world):
    person, plan = world
    before = len(audit_of(client, person.id, "plan.read"))
    as_person(client, person)
    assert _person_reads(client, plan.id) == dict.fromkeys(PERSON_GETS, 200)
    assert SECRET in page(url(client.app, "my_plan")).text()
    assert len(audit_of(client, person.id, "plan.read")) == before  # own reads: no log
    # The person never reaches the staff editor.
    for suffix in STAFF_GETS:
        response = client.get(editor_url(client, person.id) + suffix, follow_redirects=False)
        assert response.status_code == 403 and _h1(response) == NO_ACCESS_H1


@pytest.mark.parametrize("scope", ["plan:read messages", "plan:read"])
def test_representative_with_plan_read_reads_and_is_logged(client, page, world, scope):
    person, plan = world
    proxy = new_person(client, prefix="Rp")
    represent(client, proxy, person, "proxy", scope=scope)
    as_person(client, proxy)
    assert act_for(client, page, person.id).status_code == 303
    before = audit_of(client, person.id, "plan.read")
    assert _person_reads(client, plan.id) == dict.fromkeys(PERSON_GETS, 200)
    shown = page(url(client.app, "my_plan"))
    assert SECRET in shown.text()
    # The headings speak of the person by name, not "du", to the one reading for them.
    headings = [h.get_text(" ", strip=True) for h in shown.select("main h2, main h3")]
    given = person.given_name
    assert f"Det här är viktigt för {given}" in headings
    assert f"Det här behöver {given} hjälp med" in headings
    assert not [h for h in headings if h.startswith(("Din ", "Dina ")) or " du " in f" {h} "]
    new = audit_of(client, person.id, "plan.read")[len(before):]
    # /plan twice, one archived version, the calendar: four reads (versions and the list of
    # earlier plans show no plan content).
    assert len(new) >= 4
    for event in new:
        assert event.actor_id == proxy.id and event.role == "proxy"
        assert event.on_behalf_of == person.id and event.object_id == plan.id


def test_demo_representatives_of_viola(client, page, demo_ids):
    """Johan (every scope) and Gösta ("plan:read messages") may read; Svea's proxy has ended."""
    for who in ("johan", "Gösta"):
        as_person(client, who)
        assert act_for(client, page, demo_ids["viola"]).status_code == 303
        response = client.get("/plan")
        assert response.status_code == 200
        assert "Viola" in _h1(response) or "Viola" in response.text
    as_person(client, "svea")
    act_for(client, page, demo_ids["viola"])
    response = client.get("/plan", follow_redirects=False)
    assert "Violas plan" not in response.text
    start = client.get("/")
    assert "Du använder tjänsten för: <strong>Viola" not in start.text


def test_representative_without_plan_read_is_refused(client, page, world):
    person, plan = world
    proxy = new_person(client, prefix="Rc")
    represent(client, proxy, person, "proxy", scope="consent")
    as_person(client, proxy)
    assert act_for(client, page, person.id).status_code == 303
    before = len(audit_of(client, person.id, "plan.read"))
    for path in PERSON_GETS:
        response = client.get(path.format(plan=plan.id), follow_redirects=False)
        assert response.status_code == 403, path
        assert _h1(response) == f"Det här kan du inte göra för {person.given_name}", path
        assert "svara om samtycke" in response.text and SECRET not in response.text
    assert len(audit_of(client, person.id, "plan.read")) == before


def test_expired_representative_cannot_read(client, page, world):
    person, plan = world
    proxy = new_person(client, prefix="Rx")
    represent(client, proxy, person, "proxy", scope="plan:read",
              valid_from=date.today() - timedelta(days=400),
              valid_to=date.today() - timedelta(days=1))
    as_person(client, proxy)
    act_for(client, page, person.id)
    for path in PERSON_GETS:
        response = client.get(path.format(plan=plan.id), follow_redirects=False)
        assert SECRET not in response.text, path
        assert response.status_code in (200, 403, 404), path
    # The archived version of the other person's plan looks like one that does not exist.
    assert client.get(f"/plan/{plan.id}/version/1").status_code == 404


def test_a_stranger_cannot_tell_someone_elses_plan_from_a_made_up_one(client, page, world):
    person, plan = world
    stranger = new_person(client, prefix="Ts")
    as_person(client, stranger)
    theirs = client.get(f"/plan/{plan.id}/version/1")
    made_up = client.get("/plan/AAAAAAAAAAAAAAAAAAAAAA/version/1")
    assert theirs.status_code == made_up.status_code == 404
    assert _h1(theirs) == _h1(made_up) == NOT_FOUND_H1
    assert _main(theirs) == _main(made_up)
    assert SECRET not in theirs.text
    mine = page(url(client.app, "my_plan"))
    assert SECRET not in mine.text()
    # A stranger cannot act for the person either.
    act_for(client, page, person.id)
    assert SECRET not in client.get("/plan").text


def test_staff_with_consent_reads_and_writes_and_is_logged(client, page, world):
    person, plan = world
    as_staff(client, "Anna")
    before = len(audit_of(client, person.id, "plan.read"))
    for suffix in STAFF_GETS:
        assert client.get(editor_url(client, person.id) + suffix).status_code == 200
    events = audit_of(client, person.id, "plan.read")[before:]
    assert len(events) >= 1
    for event in events:
        assert event.actor_type == "staff" and event.role == "staff"
        assert event.unit_id is not None and event.on_behalf_of == person.id
    # Staff never read the person's own pages.
    for path in PERSON_GETS:
        assert client.get(path.format(plan=plan.id), follow_redirects=False).status_code == 403


def test_preview_is_in_the_access_log(client, page, world):
    person, _ = world
    as_staff(client, "Anna")
    before = len(audit_of(client, person.id, "plan.read"))
    assert client.get(editor_url(client, person.id) + "/forhandsvisning").status_code == 200
    assert len(audit_of(client, person.id, "plan.read")) == before + 1


@pytest.mark.parametrize("staff", ["Lars", "Maria", "Johanna"])
def test_staff_without_consent_or_relation_is_refused_like_a_missing_person(client, page, world,
                                                                            staff):
    """Lars: a care relation but no consent. Maria: no relation. Johanna: another country."""
    person, _ = world
    as_staff(client, staff)
    token = page("/").csrf()
    made_up = "/personal/personer/AAAAAAAAAAAAAAAAAAAAAA/plan"
    before = len(audit_of(client, person.id))
    for suffix in STAFF_GETS:
        real = client.get(editor_url(client, person.id) + suffix, follow_redirects=False)
        fake = client.get(made_up + suffix, follow_redirects=False)
        assert real.status_code == fake.status_code == 403, suffix
        assert _h1(real) == _h1(fake) == NO_ACCESS_H1
        assert _main(real) == _main(fake)
        assert SECRET not in real.text and person.given_name not in real.text
    for suffix in STAFF_POSTS:
        data = {"csrf_token": token, "revision": "1", "text": "x", "reason": "x"}
        real = client.post(editor_url(client, person.id) + suffix, data=data, follow_redirects=False)
        fake = client.post(made_up + suffix, data=data, follow_redirects=False)
        assert real.status_code == fake.status_code == 403, suffix
        assert _main(real) == _main(fake)
    assert len(audit_of(client, person.id)) == before  # nothing read, nothing changed


def test_withdrawn_consent_refuses_the_editor_on_the_next_request(client, page, world):
    person, _ = world
    as_staff(client, "Anna")
    assert client.get(editor_url(client, person.id)).status_code == 200
    decide_directly(client, person.id, "withdraw", (VC,))
    response = client.get(editor_url(client, person.id), follow_redirects=False)
    assert response.status_code == 403 and _h1(response) == NO_ACCESS_H1
    assert SECRET not in response.text


def test_a_second_staff_member_of_the_consented_unit_may_edit(client, page, world):
    person, _ = world
    colleague = new_staff(client, VC)
    as_staff(client, colleague.given_name)
    assert client.get(editor_url(client, person.id)).status_code == 200
    other = new_staff(client, SOC)
    as_staff(client, other.given_name)
    assert client.get(editor_url(client, person.id), follow_redirects=False).status_code == 403
