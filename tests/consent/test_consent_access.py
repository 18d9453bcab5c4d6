"""Who may reach which consent page: an access table over every consent and staff route.

Each role is tried on GET and POST of every route, with fresh people so the
expected log is known. Then the demo cases named in the issue (Gösta, Svea).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from portal.people.representation import ALL_SCOPES
from tests.conftest import Page
from tests.consent.helpers import (
    FORBIDDEN_H1,
    NOT_FOUND_H1,
    act_for,
    acts_of,
    audit_of,
    consent_form,
    csrf,
    error_page,
    set_session,
    sign_in,
    staff_form,
)
from tests.factories import (
    Who,
    decide_directly,
    family,
    new_person,
    represent,
    staff_named,
    today_in,
    unit_ids,
    unit_names,
)

UNITS = ("se-kalmar-vc", "se-kalmar-soc")
ENDED = "Du kan inte längre använda tjänsten för den personen."


@dataclass
class Cast:
    subject: Who
    subject_act: str
    child: Who
    child_act: str
    guardian: Who
    legal: Who
    proxy: Who
    expired: Who
    stranger: Who


@pytest.fixture
def cast(client) -> Cast:
    """An adult whose consent covers the vårdcentral (not socialtjänsten), a child, and
    everyone around them."""
    subject = new_person(client, units=UNITS)
    subject_act = decide_directly(client, subject.id, "give", ("se-kalmar-vc",))
    child, [guardian] = family(client, guardians=1, units=UNITS)
    child_act = decide_directly(client, child.id, "give", ("se-kalmar-vc",),
                                actor_id=guardian.id, role="guardian", given_by=guardian.id)
    legal, proxy, expired, stranger = (new_person(client) for _ in range(4))
    represent(client, legal, subject, "legal_representative",
              scope="consent requests messages plan:read")
    represent(client, proxy, subject, "proxy", scope="plan:read messages")
    represent(client, expired, subject, "proxy", scope=ALL_SCOPES,
              valid_from=today_in() - timedelta(days=400),
              valid_to=today_in() - timedelta(days=1))
    return Cast(subject, subject_act, child, child_act, guardian, legal, proxy, expired, stranger)


def get(client, url: str):
    return client.get(url, follow_redirects=False)


def forbidden(response) -> None:
    """403: the plain page, or for a representative without the consent scope the page
    that says what their right covers."""
    assert response.status_code == 403, (response.status_code, response.text[:300])
    h1 = Page(response).h1
    assert h1 == FORBIDDEN_H1 or h1.startswith("Det här kan du inte göra för "), h1


def not_found(response) -> Page:
    assert response.status_code == 404, (response.status_code, response.text[:300])
    page = Page(response)
    assert page.h1 == NOT_FOUND_H1
    return page


def wording_of(client, person_id: str, act_id: str) -> str:
    return next(a.wording_id for a in acts_of(client, person_id) if a.id == act_id)


def staff_routes_refused(client, page, person_id: str) -> None:
    for url in (f"/personal/personer/{person_id}/samtycke", f"/personal/personer/{person_id}",
                "/personal/personer"):
        forbidden(get(client, url))
    forbidden(client.post(f"/personal/personer/{person_id}/samtycke",
                          data={"csrf_token": csrf(page)}, follow_redirects=False))


# --- people ------------------------------------------------------------------------------------

PEOPLE_TABLE = {
    # role: (who logs in, for whom they try to act, expectation)
    "person": ("subject", None, "allowed"),
    "guardian": ("guardian", "child", "allowed"),
    "legal_representative_in_scope": ("legal", "subject", "allowed"),
    "proxy_out_of_scope": ("proxy", "subject", "refused"),
    "expired_proxy": ("expired", "subject", "own_only"),
    "stranger": ("stranger", "subject", "own_only"),
}


@pytest.mark.parametrize("role", list(PEOPLE_TABLE))
def test_people_access_table(client, page, cast, role):
    who_key, for_key, expectation = PEOPLE_TABLE[role]
    who: Who = getattr(cast, who_key)
    subject: Who = cast.child if for_key == "child" else cast.subject
    subject_act = cast.child_act if for_key == "child" else cast.subject_act
    wording = wording_of(client, subject.id, subject_act)
    acts_before = len(acts_of(client, subject.id))
    soc = unit_ids(client, "se-kalmar-soc")[0]
    sign_in(client, who)
    if for_key:
        chosen = act_for(client, page, subject.id)
        if expectation == "own_only":
            assert chosen.headers["location"] == "/vem"  # refused at the choice
            set_session(client, acting_for=subject.id)  # and forcing it does not help
            assert ENDED in page("/").text()
        else:
            assert chosen.headers["location"] == "/"

    if expectation == "allowed":
        overview = page("/samtycke")
        assert overview.h1 == "Samtycke"
        if for_key:
            assert subject.name in overview.text()
        assert page(f"/samtycke/kvitto/{subject_act}").h1 == "Kvittens"
        history = page("/samtycke/historik")
        assert len(history.select(".timeline__item")) == acts_before
        assert page(f"/samtycke/text/{wording}").h1 == "Texten som visades"
        assert get(client, "/samtycke/bekrafta").headers["location"] == "/samtycke"
        response = client.post("/samtycke", data={**consent_form(overview), "decision": "give",
                                                  "unit": [soc]}, follow_redirects=False)
        assert response.headers["location"].startswith("/samtycke/kvitto/")
        assert len(acts_of(client, subject.id)) == acts_before + 1
        new_act = acts_of(client, subject.id)[-1]
        assert new_act.actor_id == who.id
        audit = audit_of(client, subject.id, "consent.give")[-1]
        assert audit.object_id == new_act.id and audit.actor_id == who.id
        assert audit.on_behalf_of == (subject.id if for_key else None)
    elif expectation == "refused":
        token = csrf(page)
        for url in ("/samtycke", f"/samtycke/kvitto/{subject_act}", "/samtycke/historik",
                    f"/samtycke/text/{wording}", "/samtycke/bekrafta"):
            forbidden(get(client, url))
        forbidden(client.post("/samtycke", data={
            "csrf_token": token, "decision": "give", "unit": [soc], "seen_seq": "1",
            "idempotency_key": "k" * 32}, follow_redirects=False))
        assert len(acts_of(client, subject.id)) == acts_before
    else:  # own_only: every page is their own; nothing of the subject's is reachable
        overview = page("/samtycke")
        assert subject.name not in overview.text()
        made_up = not_found(get(client, "/samtycke/kvitto/made-up-id"))
        theirs = not_found(get(client, f"/samtycke/kvitto/{subject_act}"))
        assert theirs.text() == made_up.text()  # the same answer: nothing is given away
        not_found(get(client, f"/samtycke/text/{wording}"))
        assert "Inga svar än." in page("/samtycke/historik").text()
        response = client.post("/samtycke", data={**consent_form(overview), "decision": "give",
                                                  "unit": [soc]}, follow_redirects=False)
        assert response.status_code == 303
        assert len(acts_of(client, subject.id)) == acts_before  # it was their own consent
        assert len(acts_of(client, who.id)) == 1
    staff_routes_refused(client, page, subject.id)


def test_a_child_cannot_consent_alone_while_guardians_decide(client, page):
    child, _ = family(client, guardians=1, units=UNITS)
    vc = unit_ids(client, "se-kalmar-vc")[0]
    sign_in(client, child)
    overview = page("/samtycke")
    assert "Dina vårdnadshavare svarar om samtycke för dig." in overview.text()
    assert overview.select_one("form#form-field") is None  # no give form to press
    forged = {"csrf_token": overview.csrf(), "idempotency_key": "k" * 24, "seen_seq": "0",
              "decision": "give", "unit": [vc],
              "subject": overview.select_one('input[name="subject"]')["value"]}
    response = client.post("/samtycke", data=forged, follow_redirects=False)
    forbidden(response)
    assert acts_of(client, child.id) == []


# --- staff -------------------------------------------------------------------------------------

def record_form(client, page, person: Who, decision: str, codes: tuple[str, ...],
                given_by: str | None = None, **changes) -> dict:
    staff_page = page(f"/personal/personer/{person.id}/samtycke")
    return {**staff_form(staff_page), "decision": decision, "unit": unit_ids(client, *codes),
            "given_by": given_by or person.id, "method": "oral",
            "date": today_in().isoformat(), "time": "", "note": "Sa ja i telefon.", **changes}


def test_staff_with_care_relation_and_consent(client, page, cast, demo_ids):
    sign_in(client, "anna")  # Kalmar vårdcentral: works with the subject, consent given
    persons = page("/personal/personer")
    assert cast.subject.name in persons.text()
    consent = page(f"/personal/personer/{cast.subject.id}/samtycke")
    assert consent.h1 == f"Samtycke för {cast.subject.name}"
    person = page(f"/personal/personer/{cast.subject.id}")
    assert person.h1 == cast.subject.name
    response = client.post(f"/personal/personer/{cast.subject.id}/samtycke",
                           data=record_form(client, page, cast.subject, "give", ("se-kalmar-soc",)),
                           follow_redirects=False)
    assert response.status_code == 303, [e.get_text(" ", strip=True) for e in error_page(response).select(".error-summary a")] if response.status_code == 400 else response.text
    assert response.headers["location"] == f"/personal/personer/{cast.subject.id}/samtycke"
    assert acts_of(client, cast.subject.id)[-1].actor_type == "staff"
    # Staff never reach the person's own pages.
    forbidden(get(client, "/samtycke"))
    forbidden(get(client, f"/samtycke/kvitto/{cast.subject_act}"))
    forbidden(get(client, "/samtycke/historik"))
    forbidden(client.post("/samtycke", data={"csrf_token": csrf(page), "decision": "give"},
                          follow_redirects=False))


def test_staff_with_care_relation_without_consent(client, page, cast):
    sign_in(client, "maria")  # Socialtjänsten: works with the subject, no consent yet
    assert cast.subject.name in page("/personal/personer").text()
    forbidden(get(client, f"/personal/personer/{cast.subject.id}"))
    consent = page(f"/personal/personer/{cast.subject.id}/samtycke")
    assert consent.h1 == f"Samtycke för {cast.subject.name}"
    # Which other units take part, and their history, is what consent protects: a unit
    # without consent sees its own status and how to ask for consent, nothing else.
    vc, soc = unit_names(client, "se-kalmar-vc", "se-kalmar-soc")
    assert "Er verksamhet har inget samtycke från personen." in consent.text()
    assert vc not in consent.text("section[aria-labelledby=state-title]")
    assert vc not in consent.text("ol.timeline")
    assert consent.select("ol.timeline .timeline__item")  # "Inga svar än." for this unit
    response = client.post(f"/personal/personer/{cast.subject.id}/samtycke",
                           data=record_form(client, page, cast.subject, "give", ("se-kalmar-soc",)),
                           follow_redirects=False)
    assert response.status_code == 303
    assert page(f"/personal/personer/{cast.subject.id}").h1 == cast.subject.name
    # Now with consent: the whole picture, the other units and their history too.
    consent = page(f"/personal/personer/{cast.subject.id}/samtycke")
    assert "Er verksamhet har inget samtycke" not in consent.text()
    assert vc in consent.text("section[aria-labelledby=state-title]")
    assert vc in consent.text("ol.timeline")
    assert soc in consent.text("ol.timeline")


def test_staff_of_another_unit(client, page, cast):
    sign_in(client, "lars")  # Avdelning 12: no care relation with the subject
    assert cast.subject.name not in page("/personal/personer").text()
    before = len(acts_of(client, cast.subject.id))
    forbidden(get(client, f"/personal/personer/{cast.subject.id}/samtycke"))
    forbidden(get(client, f"/personal/personer/{cast.subject.id}"))
    form = {"csrf_token": csrf(page), "decision": "give",
            "unit": unit_ids(client, "se-lsk-avd12"), "given_by": cast.subject.id,
            "method": "oral", "date": today_in().isoformat(), "note": "Ja.",
            "idempotency_key": "k" * 32, "seen_seq": "1"}
    forbidden(client.post(f"/personal/personer/{cast.subject.id}/samtycke", data=form,
                          follow_redirects=False))
    assert len(acts_of(client, cast.subject.id)) == before
    # A made-up person gets the same answer as one the unit does not work with.
    forbidden(get(client, "/personal/personer/made-up-id/samtycke"))
    forbidden(get(client, "/personal/personer/made-up-id"))
    assert not [e for e in audit_of(client, cast.subject.id, "consent.viewed_by_staff")
                if e.actor_id == staff_named(client, "Lars")[0]]


# --- the demo cases named in the issue -------------------------------------------------------


def test_gosta_has_no_consent_scope_for_viola(client, page, demo_ids):
    before = len(acts_of(client, demo_ids["viola"]))
    sign_in(client, "gösta")
    assert act_for(client, page, demo_ids["viola"]).headers["location"] == "/"
    forbidden(get(client, "/samtycke"))
    forbidden(get(client, "/samtycke/historik"))
    vc = unit_ids(client, "se-kalmar-vc")[0]
    forbidden(client.post("/samtycke", data={
        "csrf_token": csrf(page), "decision": "give", "unit": [vc], "seen_seq": "0",
        "idempotency_key": "g" * 32}, follow_redirects=False))
    assert len(acts_of(client, demo_ids["viola"])) == before


def test_svea_whose_proxy_has_ended_cannot_act_for_viola(client, page, demo_ids):
    before = len(acts_of(client, demo_ids["viola"]))
    sign_in(client, "svea")
    assert act_for(client, page, demo_ids["viola"]).headers["location"] == "/vem"
    set_session(client, acting_for=demo_ids["viola"])
    overview = page("/samtycke")
    assert "Viola" not in overview.text()
    viola_acts = acts_of(client, demo_ids["viola"])
    if viola_acts:
        not_found(get(client, f"/samtycke/kvitto/{viola_acts[-1].id}"))
    vc = unit_ids(client, "se-kalmar-vc")[0]
    client.post("/samtycke", data={**consent_form(overview), "decision": "think", "unit": [vc]},
                follow_redirects=False)
    assert len(acts_of(client, demo_ids["viola"])) == before
