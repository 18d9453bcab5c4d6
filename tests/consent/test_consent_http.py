"""Consent through HTTP, as the person (or whoever acts for them) uses it.

Giving, adding, withdrawing and thinking; re-authentication; receipts, notices,
history and the wording shown; joint guardians; stale and repeated forms; bad
input; the audit log. Most tests use fresh people so they can assert the exact
log; the demo families are used with assertions relative to their state before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.consent.wording import current_text
from tests.conftest import Page, url
from tests.consent.helpers import (
    NOT_FOUND_H1,
    act_for,
    acts_of,
    age_login,
    assert_error_links_to,
    audit_of,
    checked_units,
    consent_form,
    count_acts,
    error_page,
    events_of,
    outbox_of,
    reauthenticate,
    session_data,
    sign_in,
    states_on_page,
    withdraw_forms,
)
from tests.factories import decide_directly, family, new_person, represent, unit_ids, unit_names

SE_UNITS = ("se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12")
SAVED = "Klart. Ditt samtycke är sparat."
REMOVED = "Klart. Samtycket är borttaget."
LATER = "Klart. Du kan svara senare."
STALE = "Samtycket har ändrats sedan du öppnade sidan"
WAITS_FOR_OTHER = "andra vårdnadshavare behöver också svara"


@pytest.fixture
def viola_like(client):
    """A fresh adult in Sweden whom three units work with, signed in."""
    person = new_person(client, units=SE_UNITS)
    sign_in(client, person)
    return person


def post(client, data) -> object:
    return client.post(url(client.app, "consent_decide"), data=data, follow_redirects=False)


def receipt_of(page, response) -> Page:
    assert response.status_code == 303, (response.status_code, response.text[:800])
    location = response.headers["location"]
    assert location.startswith("/samtycke/kvitto/")
    return page(location)


# --- giving, adding, withdrawing, thinking --------------------------------------------


def test_give_to_some_add_one_later_withdraw_one_then_all(client, page, viola_like):
    vc, soc, ward = unit_ids(client, *SE_UNITS)
    vc_name, soc_name, ward_name = unit_names(client, *SE_UNITS)
    start = page(url(client.app, "consent_page"))
    assert start.h1 == "Samtycke"
    assert "Du har inte svarat än." in start.text()
    # Nothing is ticked in advance: consent is an active choice.
    assert checked_units(start) == set()

    receipt = receipt_of(page, post(client, {**consent_form(start), "decision": "give",
                                             "unit": [vc, soc]}))
    assert SAVED in receipt.text()
    assert vc_name in receipt.text() and soc_name in receipt.text()
    assert ward_name not in receipt.text()
    state = states_on_page(page(url(client.app, "consent_page")))
    assert state == {vc_name: "Ja", soc_name: "Ja"}

    # Add an actor later: only the open ones are offered.
    later = page(url(client.app, "consent_page"))
    offered = {b["value"] for b in later.select("form#form-field input[name=unit]")}
    assert vc not in offered and soc not in offered and ward in offered
    receipt = receipt_of(page, post(client, {**consent_form(later), "decision": "give",
                                             "unit": [ward]}))
    assert ward_name in receipt.text() and vc_name not in receipt.text()
    assert set(states_on_page(page(url(client.app, "consent_page"))).values()) == {"Ja"}

    # Withdraw for one.
    overview = page(url(client.app, "consent_page"))
    one = [f for f in withdraw_forms(overview) if f["unit"] == [soc]]
    assert len(one) == 1
    receipt = receipt_of(page, post(client, one[0]))
    assert REMOVED in receipt.text() and soc_name in receipt.text()
    state = states_on_page(page(url(client.app, "consent_page")))
    assert state[soc_name] == "Nej" and state[vc_name] == "Ja" and state[ward_name] == "Ja"

    # Withdraw for all that are still in force.
    overview = page(url(client.app, "consent_page"))
    everything = [f for f in withdraw_forms(overview) if len(f["unit"]) > 1]
    assert len(everything) == 1 and set(everything[0]["unit"]) == {vc, ward}
    assert "Ta tillbaka för alla" in overview.text()
    receipt = receipt_of(page, post(client, everything[0]))
    assert REMOVED in receipt.text()
    assert set(states_on_page(page(url(client.app, "consent_page"))).values()) == {"Nej"}
    assert [a.decision for a in acts_of(client, viola_like.id)] == [
        "give", "give", "withdraw", "withdraw"]
    assert [e.seq for e in events_of(client, viola_like.id)] == [1, 2, 3, 4, 5, 6]


def test_thinking_is_an_answer_that_leaves_the_question_open(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    start = page(url(client.app, "consent_page"))
    receipt = receipt_of(page, post(client, {**consent_form(start), "decision": "think",
                                             "unit": [vc]}))
    assert LATER in receipt.text()
    after = page(url(client.app, "consent_page"))
    assert "Du ville tänka på det. Du kan svara när du vill." in after.text()
    assert "Du har inte svarat än." in after.text()
    assert after.select_one("form#form-field") is not None  # the question is still open
    [act] = acts_of(client, viola_like.id)
    assert act.decision == "think"
    assert [(e.unit_id, e.kind) for e in events_of(client, viola_like.id)] == [(None, "thinking")]
    # Nothing changed, so no "changed" notice: only a reminder, due in a week.
    [reminder] = outbox_of(client, viola_like.id)
    assert reminder.template == "consent_reminder"
    assert reminder.next_attempt_at - reminder.created_at >= timedelta(days=6, hours=23)
    # Thinking without choosing any unit is fine too.
    again = post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "think"})
    assert again.status_code == 303
    # And a yes after thinking ends the "thinking" note.
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    assert "Du ville tänka på det" not in page(url(client.app, "consent_page")).text()


def test_only_the_one_who_asked_to_think_reads_du_ville_tanka(client, page):
    """A proxy asks to think; the person then reads that the question is open, not "Du ville"."""
    person = new_person(client, units=SE_UNITS)
    proxy = new_person(client)
    represent(client, proxy, person, "proxy")
    sign_in(client, proxy)
    act_for(client, page, person.id)
    post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "think"})
    assert "Du ville tänka på det" in page(url(client.app, "consent_page")).text()
    client.cookies.clear()
    sign_in(client, person)
    own = page(url(client.app, "consent_page")).text()
    assert "Du ville tänka på det" not in own
    assert "Frågan om samtycke är inte besvarad än. Du kan svara när du vill." in own


# --- re-authentication ---------------------------------------------------------------------


def test_giving_after_an_old_login_asks_to_log_in_again_and_keeps_the_choice(
        client, page, viola_like):
    vc, ward = unit_ids(client, "se-kalmar-vc", "se-lsk-avd12")
    vc_name, soc_name, ward_name = unit_names(client, *SE_UNITS)
    form = consent_form(page(url(client.app, "consent_page")))
    age_login(client, 6 * 60)
    before_auth_time = session_data(client)["auth_time"]

    response = post(client, {**form, "decision": "give", "unit": [vc, ward]})
    assert response.status_code == 303
    assert response.headers["location"] == \
        "/auth/login/citizen?reauth=true&next=/samtycke/bekrafta"
    assert acts_of(client, viola_like.id) == []  # nothing stored yet

    callback = reauthenticate(client, viola_like.given_name, response.headers["location"])
    assert callback.headers["location"] == url(client.app, "consent_confirm")
    assert session_data(client)["auth_time"] > before_auth_time
    confirm = page(url(client.app, "consent_confirm"))
    assert confirm.h1 == "Bekräfta ditt svar"
    text = confirm.text()
    assert vc_name in text and ward_name in text and soc_name not in text
    fields = confirm.select_one(f'form[action="{url(client.app, "consent_decide")}"]')
    data = {i["name"]: i.get("value", "") for i in fields.select("input[type=hidden]")
            if i["name"] != "unit"}
    data["unit"] = [i["value"] for i in fields.select("input[name=unit]")]
    assert data["decision"] == "give" and set(data["unit"]) == {vc, ward}
    assert data["idempotency_key"] == form["idempotency_key"]

    receipt = receipt_of(page, post(client, data))
    assert SAVED in receipt.text()
    assert len(acts_of(client, viola_like.id)) == 1
    assert "pending_consent" not in session_data(client)
    # Confirming again (back button) stores nothing new.
    assert post(client, data).headers["location"] == receipt.response.url.path
    assert len(acts_of(client, viola_like.id)) == 1
    assert client.get(url(client.app, "consent_confirm"), follow_redirects=False) \
        .headers["location"] == url(client.app, "consent_page")


def test_withdrawing_after_an_old_login_asks_to_log_in_again(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    [form] = withdraw_forms(page(url(client.app, "consent_page")))
    age_login(client, 10 * 60)
    response = post(client, form)
    assert response.headers["location"].startswith("/auth/login/citizen?reauth=true")
    assert [a.decision for a in acts_of(client, viola_like.id)] == ["give"]
    reauthenticate(client, viola_like.given_name, response.headers["location"])
    confirm = page(url(client.app, "consent_confirm"))
    assert "Du vill ta tillbaka samtycket för:" in confirm.text()
    fields = confirm.select_one(f'form[action="{url(client.app, "consent_decide")}"]')
    data = {i["name"]: i.get("value", "") for i in fields.select("input[type=hidden]")}
    receipt = receipt_of(page, post(client, data))
    assert REMOVED in receipt.text()
    assert [a.decision for a in acts_of(client, viola_like.id)] == ["give", "withdraw"]


def test_a_fresh_login_is_not_asked_again(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    age_login(client, 4 * 60)  # within the five minutes
    response = post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                             "unit": [vc]})
    assert response.headers["location"].startswith("/samtycke/kvitto/")


def test_the_kept_choice_is_not_used_by_someone_else(client, page, viola_like):
    """Re-login as another person: nothing changes hands. The signed-in person stays signed
    in, is told why, and the choice is confirmed for nobody."""
    vc = unit_ids(client, "se-kalmar-vc")[0]
    other = new_person(client, units=SE_UNITS)
    age_login(client, 6 * 60)
    response = post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                             "unit": [vc]})
    callback = reauthenticate(client, other.given_name, response.headers["location"])
    assert callback.headers["location"] == "/"
    start = page("/")
    assert f"Inloggad: {viola_like.name}" in start.response.text
    assert "Du loggade in som en annan person. Inget har ändrats." in start.response.text
    assert acts_of(client, viola_like.id) == [] and acts_of(client, other.id) == []


# --- receipts, notices, history, wording ------------------------------------------------


def test_every_act_gets_a_receipt_and_give_or_withdraw_a_notice(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    receipt = receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))),
                                             "decision": "give", "unit": [vc]}))
    assert receipt.h1 == "Kvittens"
    assert viola_like.name in receipt.text()
    assert "När" in receipt.text() and "Av vem" in receipt.text()
    receipt_of(page, post(client, withdraw_forms(page(url(client.app, "consent_page")))[0]))
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "think"}))
    notices = outbox_of(client, viola_like.id)
    assert sorted(n.template for n in notices) == [
        "consent_changed", "consent_changed", "consent_reminder"]
    assert all(n.sent_at is None and n.locale == "sv" for n in notices)


def test_history_is_newest_first_with_the_exact_wording_shown(client, page, viola_like):
    vc, soc = unit_ids(client, "se-kalmar-vc", "se-kalmar-soc")
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "think"}))
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc, soc]}))
    receipt_of(page, post(client, next(f for f in withdraw_forms(page(url(client.app, "consent_page")))
                                       if f["unit"] == [soc])))
    history = page(url(client.app, "consent_history"))
    titles = [" ".join(i.select_one(".timeline__title").get_text().split())
              for i in history.select(".timeline__item")]
    assert titles == ["Tog tillbaka samtycket", "Ja till samarbete", "Ville tänka på det"]
    acts = acts_of(client, viola_like.id)
    links = [a["href"] for a in history.select(".timeline__item a")]
    # Give and think store the wording they saw; a withdrawal shows none.
    assert links == [url(client.app, "consent_wording", wording_id=acts[1].wording_id),
                     url(client.app, "consent_wording", wording_id=acts[0].wording_id)]
    wording = page(links[0])
    assert wording.h1 == "Texten som visades"
    assert "version 1" in wording.text()
    assert [li.get_text() for li in wording.select(".card li")] == current_text("sv")


def test_wording_not_in_this_persons_log_is_not_found(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    wording_id = acts_of(client, viola_like.id)[0].wording_id
    assert page(url(client.app, "consent_wording", wording_id=wording_id)).h1 == "Texten som visades"
    stranger = new_person(client)
    client.cookies.clear()
    sign_in(client, stranger)
    assert page(url(client.app, "consent_wording", wording_id=wording_id), status=404).h1 == NOT_FOUND_H1
    assert page(url(client.app, "consent_wording", wording_id="made-up-id"), status=404).h1 == NOT_FOUND_H1


# --- joint guardians --------------------------------------------------------------------


def _reset_units(client, page, person_id: str, units: list[str]) -> None:
    """As the signed-in guardian: withdraw whatever is in force or waiting for these units."""
    forms = [f for f in withdraw_forms(page(url(client.app, "consent_page"))) if len(f["unit"]) == 1
             and f["unit"][0] in units]
    for form in forms:
        assert post(client, form).status_code == 303


@pytest.mark.parametrize(("child", "first", "second", "unit_code"), [
    ("ylva", "amina", "yusuf", "se-kalmar-hab"),
    ("wilma", "mikael", "sofia", "fi-vasa-soc"),
])
def test_two_guardians_consent_takes_effect_only_when_both_have_said_yes(
        client, page, demo_ids, child, first, second, unit_code):
    unit = unit_ids(client, unit_code)[0]
    unit_name = unit_names(client, unit_code)[0]
    child_id = demo_ids[child]
    sign_in(client, first)
    assert act_for(client, page, child_id).headers["location"] == "/"
    _reset_units(client, page, child_id, [unit])
    waiting_before = len([n for n in outbox_of(client, demo_ids[second])
                          if n.template == "consent_waiting"])

    overview = page(url(client.app, "consent_page"))
    assert "Samtycket börjar gälla först när båda har sagt ja." in overview.text()
    receipt = receipt_of(page, post(client, {**consent_form(overview), "decision": "give",
                                             "unit": [unit]}))
    assert WAITS_FOR_OTHER in receipt.text()
    state = page(url(client.app, "consent_page"))
    assert states_on_page(state)[unit_name] == "Väntar på svar"
    second_name = {"yusuf": "Yusuf Hassan", "sofia": "Sofia Nyberg"}[second]
    assert f"Väntar på svar från {second_name}." in state.text()
    waiting_after = [n for n in outbox_of(client, demo_ids[second])
                     if n.template == "consent_waiting"]
    assert len(waiting_after) == waiting_before + 1
    act = acts_of(client, child_id)[-1]
    assert (act.role, act.given_by_id, act.actor_id) == ("guardian", demo_ids[first],
                                                         demo_ids[first])

    client.cookies.clear()
    sign_in(client, second)
    act_for(client, page, child_id)
    second_view = page(url(client.app, "consent_page"))
    assert states_on_page(second_view)[unit_name] == "Väntar på svar"
    # The guardian whose answer is missing reads it as their own, not by their name.
    assert "Väntar på ditt svar." in second_view.text()
    assert f"Väntar på svar från {second_name}" not in second_view.text()
    receipt = receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))),
                                             "decision": "give", "unit": [unit]}))
    assert SAVED in receipt.text() and WAITS_FOR_OTHER not in receipt.text()
    assert states_on_page(page(url(client.app, "consent_page")))[unit_name] == "Ja"

    # Either guardian can withdraw alone.
    [form] = [f for f in withdraw_forms(page(url(client.app, "consent_page"))) if f["unit"] == [unit]]
    receipt_of(page, post(client, form))
    assert states_on_page(page(url(client.app, "consent_page")))[unit_name] == "Nej"


def test_a_withdrawal_by_one_guardian_between_the_yeses_means_both_must_answer_again(
        client, page):
    child, (mother, father) = family(client)
    vc = unit_ids(client, "se-kalmar-vc")[0]
    sign_in(client, mother)
    act_for(client, page, child.id)
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    client.cookies.clear()
    sign_in(client, father)
    act_for(client, page, child.id)
    [form] = withdraw_forms(page(url(client.app, "consent_page")))  # the waiting unit can be refused too
    receipt_of(page, post(client, form))
    receipt = receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))),
                                             "decision": "give", "unit": [vc]}))
    assert WAITS_FOR_OTHER in receipt.text()  # the mother's earlier yes no longer counts
    assert [n.template for n in outbox_of(client, mother.id)].count("consent_waiting") == 1
    assert [n.template for n in outbox_of(client, father.id)].count("consent_waiting") == 1


def test_the_waiting_notice_goes_only_to_the_guardian_who_still_has_to_answer(client):
    child, (mother, father) = family(client)
    decide_directly(client, child.id, "give", ("se-kalmar-vc", "se-kalmar-soc"),
                    actor_id=mother.id, role="guardian", given_by=mother.id)
    assert [n.template for n in outbox_of(client, father.id)] == ["consent_waiting"]
    # The father refuses one unit; the other still waits for him, not for the mother.
    decide_directly(client, child.id, "withdraw", ("se-kalmar-soc",), actor_id=father.id,
                    role="guardian", given_by=father.id)
    assert outbox_of(client, mother.id) == []
    assert [n.template for n in outbox_of(client, father.id)] == ["consent_waiting"]
    # The father's yes: nobody is waited for any more.
    decide_directly(client, child.id, "give", ("se-kalmar-vc",), actor_id=father.id,
                    role="guardian", given_by=father.id)
    assert outbox_of(client, mother.id) == []
    assert len(outbox_of(client, father.id)) == 1


# --- legal representative ---------------------------------------------------------------


def test_a_legal_representative_consents_within_the_appointment(client, page, demo_ids):
    sign_in(client, "karin")
    assert act_for(client, page, demo_ids["peter"]).headers["location"] == "/"
    overview = page(url(client.app, "consent_page"))
    assert "för Peter Lind" in overview.text()
    vc = unit_ids(client, "se-kalmar-vc")[0]
    # Whatever the demo log says now, giving for an open unit (or none open) is allowed.
    open_units = {b["value"] for b in overview.select("form#form-field input[name=unit]")}
    if vc not in open_units:
        [form] = [f for f in withdraw_forms(overview) if f["unit"] == [vc]]
        receipt_of(page, post(client, form))
        overview = page(url(client.app, "consent_page"))
    receipt = receipt_of(page, post(client, {**consent_form(overview), "decision": "give",
                                             "unit": [vc]}))
    assert "Karin Holm för Peter Lind" in receipt.text()
    act = acts_of(client, demo_ids["peter"])[-1]
    assert (act.role, act.actor_id, act.given_by_id) == (
        "legal_representative", demo_ids["karin"], demo_ids["karin"])
    event = audit_of(client, demo_ids["peter"], "consent.give")[-1]
    assert (event.actor_id, event.role, event.on_behalf_of, event.object_id) == (
        demo_ids["karin"], "legal_representative", demo_ids["peter"], act.id)


# --- stale and repeated forms ------------------------------------------------------------


def test_a_stale_give_form_is_refused_with_the_fresh_state_and_the_choices_kept(
        client, page, viola_like):
    vc, soc, ward = unit_ids(client, *SE_UNITS)
    vc_name = unit_names(client, "se-kalmar-vc")[0]
    tab_one = consent_form(page(url(client.app, "consent_page")))
    tab_two = consent_form(page(url(client.app, "consent_page")))
    assert tab_one["idempotency_key"] != tab_two["idempotency_key"]
    receipt_of(page, post(client, {**tab_one, "decision": "give", "unit": [vc]}))

    stale = post(client, {**tab_two, "decision": "give", "unit": [soc, ward]})
    assert stale.status_code == 409
    refused = Page(stale)
    assert STALE in refused.text()
    assert states_on_page(refused) == {vc_name: "Ja"}  # the fresh state
    assert checked_units(refused) == {soc, ward}  # the choices kept
    assert len(acts_of(client, viola_like.id)) == 1  # nothing stored
    # Sending the refreshed form works.
    fresh = consent_form(refused)
    assert fresh["idempotency_key"] != tab_two["idempotency_key"]
    receipt_of(page, post(client, {**fresh, "decision": "give", "unit": [soc, ward]}))
    assert set(states_on_page(page(url(client.app, "consent_page"))).values()) == {"Ja"}


def test_a_stale_withdraw_form_still_withdraws(client, page, viola_like):
    vc, soc = unit_ids(client, "se-kalmar-vc", "se-kalmar-soc")
    vc_name, soc_name = unit_names(client, "se-kalmar-vc", "se-kalmar-soc")
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    old_withdraw = withdraw_forms(page(url(client.app, "consent_page")))[0]
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [soc]}))  # another tab changes the log
    receipt = receipt_of(page, post(client, old_withdraw))
    assert REMOVED in receipt.text()
    assert states_on_page(page(url(client.app, "consent_page"))) == {vc_name: "Nej", soc_name: "Ja"}


def test_the_same_form_twice_stores_one_act(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    form = {**consent_form(page(url(client.app, "consent_page"))), "decision": "give", "unit": [vc]}
    first = post(client, form)
    second = post(client, form)  # double click / back button / second tab with the same form
    third = post(client, form)
    assert first.headers["location"] == second.headers["location"] == third.headers["location"]
    assert len(acts_of(client, viola_like.id)) == 1
    assert len(events_of(client, viola_like.id)) == 1
    assert len(outbox_of(client, viola_like.id)) == 1
    assert len(audit_of(client, viola_like.id, "consent.give")) == 1
    # A repeated withdraw form too.
    [withdraw] = withdraw_forms(page(url(client.app, "consent_page")))
    assert post(client, withdraw).headers["location"] == post(client, withdraw) \
        .headers["location"]
    assert [a.decision for a in acts_of(client, viola_like.id)] == ["give", "withdraw"]


# --- bad input ----------------------------------------------------------------------------


def _bad(client, page, data: dict, field: str) -> Page:
    response = post(client, data)
    assert response.status_code == 400, (response.status_code, response.text[:500])
    refused = error_page(response)
    assert_error_links_to(refused, field)
    return refused


def test_give_without_a_unit_is_a_plain_error(client, page, viola_like):
    before = count_acts(client)
    refused = _bad(client, page, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give"}, "unit")
    assert "Välj minst en verksamhet" in refused.text()
    assert count_acts(client) == before


def test_a_tampered_decision_is_a_plain_error_and_keeps_the_choices(client, page, viola_like):
    vc, soc = unit_ids(client, "se-kalmar-vc", "se-kalmar-soc")
    before = count_acts(client)
    for decision in ["maybe", "", "GIVE", "give withdraw"]:
        refused = _bad(client, page, {**consent_form(page(url(client.app, "consent_page"))), "decision": decision,
                                      "unit": [vc, soc]}, "decision")
        assert checked_units(refused) == {vc, soc}, decision
    assert count_acts(client) == before


def test_a_garbage_idempotency_key_is_a_plain_error_and_keeps_the_choices(
        client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    before = count_acts(client)
    form = consent_form(page(url(client.app, "consent_page")))
    for key in ["", "short", "x" * 65, "bad key with spaces!!", "<script>"]:
        refused = _bad(client, page, {**form, "idempotency_key": key, "decision": "give",
                                      "unit": [vc]}, "form")
        assert checked_units(refused) == {vc}, key
    assert count_acts(client) == before
    # The page carries a new, valid key: sending it works.
    receipt_of(page, post(client, {**consent_form(refused), "decision": "give", "unit": [vc]}))


def test_a_unit_from_another_country_or_made_up_is_a_plain_error(client, page, viola_like):
    vc, fi = unit_ids(client, "se-kalmar-vc", "fi-vasa-hs")
    before = count_acts(client)
    for bogus in ([fi], ["no-such-unit"], [vc, fi], [vc, "no-such-unit"]):
        refused = _bad(client, page, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                      "unit": bogus}, "unit")
        if vc in bogus:
            assert vc in checked_units(refused)
    assert count_acts(client) == before


def test_missing_fields_are_a_plain_error(client, page, viola_like):
    form = consent_form(page(url(client.app, "consent_page")))
    _bad(client, page, {"csrf_token": form["csrf_token"], "subject": form["subject"]}, "form")


# --- audit ------------------------------------------------------------------------------------


def test_every_act_is_in_the_audit_log_with_who_and_role(client, page, viola_like):
    vc = unit_ids(client, "se-kalmar-vc")[0]
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "think"}))
    receipt_of(page, post(client, {**consent_form(page(url(client.app, "consent_page"))), "decision": "give",
                                   "unit": [vc]}))
    receipt_of(page, post(client, withdraw_forms(page(url(client.app, "consent_page")))[0]))
    acts = acts_of(client, viola_like.id)
    events = [e for e in audit_of(client, viola_like.id) if e.action.startswith("consent.")]
    assert [(e.action, e.object_id) for e in events] == [
        ("consent.think", acts[0].id), ("consent.give", acts[1].id),
        ("consent.withdraw", acts[2].id)]
    for event in events:
        assert (event.actor_type, event.actor_id, event.role, event.on_behalf_of) == (
            "person", viola_like.id, "self", None)
