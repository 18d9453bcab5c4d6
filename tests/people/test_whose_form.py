"""Whose form is it? Tabs, other accounts' keys, and whose clock.

The three cases found by trying the product from outside (issue 8):
- Johan opens his own consent page, switches to Viola in another tab, then sends
  the first tab's "withdraw" form: nothing may be stored against Viola.
- Another account sends a form with Viola's unused idempotency key first: Viola's
  own withdrawal must still be stored, and she must be able to open her receipt.
- Elsa (Finland) gives consent at 21.33 her time: on the Sweden variant her
  receipt still says kl. 21.33, not 20.33.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core import i18n
from portal.core.clock import ZONES, Clock, local_date
from portal.people.models import Person, Representation
from portal.people.representation import ALL_SCOPES, is_valid
from tests.consent.helpers import act_for, acts_of, consent_form, sign_in, states_on_page, withdraw_forms
from tests.factories import decide_directly, new_person, represent, unit_ids, unit_names
from tests.shared_app import app, client, module_client, settings  # noqa: F401

VC, SOC = "se-kalmar-vc", "se-kalmar-soc"
NOTHING_SAVED = "Inget sparades. Sidan du skickade från gällde en annan person"


@pytest.fixture
def johan_and_viola(client):
    """A proxy (Johan-like) with every scope for a person (Viola-like); both consent to VC."""
    viola = new_person(client, units=(VC, SOC), prefix="Vi")
    johan = new_person(client, units=(VC,), prefix="Jo")
    represent(client, johan, viola, "proxy", scope=ALL_SCOPES)
    decide_directly(client, viola.id, "give", (VC,))
    decide_directly(client, johan.id, "give", (VC,))
    return johan, viola


def test_a_form_from_another_tab_saves_nothing_for_the_person_now_chosen(client, page,
                                                                          johan_and_viola):
    johan, viola = johan_and_viola
    sign_in(client, johan)
    own_tab = page("/samtycke")
    withdraw = withdraw_forms(own_tab)[0]
    assert withdraw["subject"] == johan.id
    # In another tab, Johan starts to use the service for Viola.
    assert act_for(client, page, viola.id).headers["location"] == "/"
    before = len(acts_of(client, viola.id)), len(acts_of(client, johan.id))

    response = client.post("/samtycke", data=withdraw, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/samtycke"
    assert (len(acts_of(client, viola.id)), len(acts_of(client, johan.id))) == before
    shown = page("/samtycke")
    assert NOTHING_SAVED in shown.text()
    assert viola.name in shown.text(".acting-banner")
    vc_name = unit_names(client, VC)[0]
    assert states_on_page(shown)[vc_name] == "Ja"  # Viola's consent is as it was


def test_an_htmx_request_from_another_tab_saves_nothing(client, page, johan_and_viola):
    johan, viola = johan_and_viola
    sign_in(client, johan)
    own_tab = page("/samtycke")
    withdraw = withdraw_forms(own_tab)[0]
    headers = {"HX-Request": "true", "X-CSRF-Token": withdraw["csrf_token"],
               "X-Subject": own_tab.select_one("body")["hx-headers"].split('"X-Subject": "')[1]
               .split('"')[0]}
    assert headers["X-Subject"] == johan.id
    act_for(client, page, viola.id)
    before = len(acts_of(client, viola.id))
    data = {k: v for k, v in withdraw.items() if k not in ("subject", "csrf_token")}
    response = client.post("/samtycke", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 409
    assert response.headers["HX-Redirect"] == "/samtycke"
    assert len(acts_of(client, viola.id)) == before


def test_the_form_of_the_person_acted_for_still_works(client, page, johan_and_viola):
    """The check refuses only the other person's form: Viola's own tab saves."""
    johan, viola = johan_and_viola
    sign_in(client, johan)
    act_for(client, page, viola.id)
    withdraw = withdraw_forms(page("/samtycke"))[0]
    assert withdraw["subject"] == viola.id
    response = client.post("/samtycke", data=withdraw, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/samtycke/kvitto/")
    assert acts_of(client, viola.id)[-1].decision == "withdraw"
    assert acts_of(client, viola.id)[-1].actor_id == johan.id


def test_a_form_without_a_subject_saves_nothing(client, page, johan_and_viola):
    johan, _ = johan_and_viola
    sign_in(client, johan)
    withdraw = {k: v for k, v in withdraw_forms(page("/samtycke"))[0].items() if k != "subject"}
    before = len(acts_of(client, johan.id))
    response = client.post("/samtycke", data=withdraw, follow_redirects=False)
    assert response.status_code == 303
    assert len(acts_of(client, johan.id)) == before


def test_someone_elses_use_of_a_key_never_swallows_the_persons_own_act(client, page,
                                                                        johan_and_viola):
    _, viola = johan_and_viola
    sign_in(client, viola)
    viola_tab = withdraw_forms(page("/samtycke"))[0]
    key = viola_tab["idempotency_key"]
    viola_browser = dict(client.cookies)

    # Another account sends a form with Viola's (unused) key first.
    other = new_person(client, units=(VC,), prefix="Ot")
    client.cookies.clear()
    sign_in(client, other)
    form = consent_form(page("/samtycke"))
    stolen = client.post("/samtycke", data={**form, "idempotency_key": key, "decision": "give",
                                            "unit": unit_ids(client, VC)},
                         follow_redirects=False)
    assert stolen.status_code == 303
    assert acts_of(client, other.id)[-1].decision == "give"

    # Viola's own withdrawal with that key (from her open tab) is stored; her receipt opens.
    client.cookies.clear()
    client.cookies.update(viola_browser)
    before = len(acts_of(client, viola.id))
    response = client.post("/samtycke", data=viola_tab, follow_redirects=False)
    assert response.status_code == 303
    assert len(acts_of(client, viola.id)) == before + 1
    assert acts_of(client, viola.id)[-1].decision == "withdraw"
    receipt = page(response.headers["location"])
    assert receipt.h1 == "Kvittens"
    assert "Klart. Samtycket är borttaget." in receipt.text()

    # The same form again is still one act (the key is Viola's own now).
    again = client.post("/samtycke", data=viola_tab, follow_redirects=False)
    assert again.headers["location"] == response.headers["location"]
    assert len(acts_of(client, viola.id)) == before + 1


def test_elsas_receipt_is_in_her_own_time_on_the_sweden_variant(client, page, app):
    elsa = new_person(client, country="FI", units=("fi-vasa-hs",), prefix="El")
    sign_in(client, elsa)
    # She chooses the Sweden variant (by default it would follow her country).
    assert client.get("/sprak/sv?next=/", follow_redirects=False).status_code == 303
    # 19.33 UTC is 21.33 in Helsinki and 20.33 in Stockholm (both in winter time).
    app.state.clock.travel_to(datetime(2026, 11, 29, 19, 33, tzinfo=UTC))
    try:
        form = consent_form(page("/samtycke"))
        response = client.post("/samtycke", data={**form, "decision": "give",
                                                  "unit": unit_ids(client, "fi-vasa-hs")},
                               follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        receipt = page(response.headers["location"])
    finally:
        app.state.clock.travel_to(None)
    assert receipt.soup.html["lang"] == "sv"  # the Sweden variant
    assert "29 november 2026 kl. 21.33" in receipt.text()
    assert "20.33" not in receipt.text()
    history = page("/samtycke/historik")
    assert "kl. 21.33" in history.text()


def test_times_name_the_zone_when_it_is_not_the_readers_own():
    moment = datetime(2026, 11, 29, 19, 33, tzinfo=UTC)
    token = i18n.begin_request()
    try:
        i18n.show_times_in(ZONES["FI"], name_it=True)
        assert i18n.format_datetime(moment, "sv") == "29 november 2026 kl. 21.33 (finsk tid)"
        i18n.show_times_in(ZONES["FI"])
        assert i18n.format_datetime(moment, "sv") == "29 november 2026 kl. 21.33"
        i18n.show_times_in(ZONES["SE"], name_it=True)
        assert i18n.format_datetime(moment, "sv_FI") == "29.11.2026 kl. 20.33 (svensk tid)"
    finally:
        i18n.end_request(token)


@pytest.mark.parametrize(("country", "limit", "midnight_utc"), [
    ("SE", 13, datetime(2023, 5, 9, 22, 0, tzinfo=UTC)),  # 00.00 in Stockholm (summer time)
    ("FI", 18, datetime(2028, 5, 9, 21, 0, tzinfo=UTC)),  # 00.00 in Helsinki (summer time)
])
def test_a_guardians_right_ends_at_local_midnight_on_the_birthday(country, limit, midnight_utc):
    born = date(midnight_utc.year - limit, 5, 10)
    child = Person(national_id="x", given_name="Barn", family_name="Test", birth_date=born,
                   country=country)
    rep = Representation(representative_id="g", represented_id="c", kind="guardian",
                         scope=ALL_SCOPES, valid_from=born, source="population_register")
    one_minute_before = midnight_utc - timedelta(minutes=1)
    assert is_valid(rep, child, local_date(one_minute_before, child))
    assert not is_valid(rep, child, local_date(midnight_utc, child))
    # In UTC it is still the day before: a UTC "today" would have let the guardian in.
    assert is_valid(rep, child, midnight_utc.date())


def test_the_clock_is_frozen_and_unfrozen():
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    clock = Clock(moment)
    assert clock.now() == moment
    tick = clock.at_request()
    assert tick.today_in("FI") == date(2027, 1, 1)
    assert tick.today_in("SE") == date(2027, 1, 1)
    assert tick.now.date() == date(2026, 12, 31)
    clock.travel_to(None)
    assert clock.now() != moment
    with pytest.raises(ValueError):
        clock.travel_to(datetime(2026, 1, 1))  # naive: which zone?



def test_the_consent_page_asks_only_while_something_near_the_person_is_unanswered(client, page):
    person = new_person(client, units=(VC, SOC), prefix="Ca")
    sign_in(client, person)
    assert "Vi behöver ditt svar" in page("/samtycke").text("p.lead")
    decide_directly(client, person.id, "give", (VC, SOC))
    lead = page("/samtycke").text("p.lead")
    assert "Vi behöver ditt svar" not in lead
    assert "Du kan ta tillbaka ditt samtycke när du vill." in lead
