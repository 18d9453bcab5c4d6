"""Adding a unit that is not near the person: found by a search on the consent page.

The page offers the units near the person (care relations, and those answered before);
any other unit of the person's country is found by a search: "Sök" is a button of the
consent form itself (a POST that searches, keeps every tick and decides nothing; htmx
fetches the matches alone), and `?sok=` links still work. Every word of the search must
match, in any order. Matches are bounded, another country's units never show, and a
search that cannot be made or finds nothing says so.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlmodel import col, delete

from portal.consent.unit_search import MATCHES_MAX
from portal.people.models import Unit
from tests.conftest import url
from tests.consent.helpers import (
    act_for,
    audit_of,
    checked_units,
    consent_form,
    sign_in,
    states_on_page,
)
from tests.factories import db_run, new_person, represent, unit_ids, unit_names

NEAR = ("se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12")
HAB = "se-kalmar-hab"
FI_UNITS = ("fi-vasa-hs", "fi-vasa-soc", "fi-vcs-avd3")
MATCHES = "#unit-matches input[name=unit]"


@pytest.fixture
def person(client):
    """A fresh adult in Sweden whom three units work with (not the habilitation), signed in."""
    who = new_person(client, units=NEAR)
    sign_in(client, who)
    return who


def consent_url(client, **query) -> str:
    base = url(client.app, "consent_page")
    return client.build_request("GET", base, params=query).url.raw_path.decode()


def offered_in_matches(page) -> list[str]:
    return [box["value"] for box in page.select(MATCHES)]


def status_text(page) -> str:
    return page.select_one("#unit-matches [role=status]").get_text(" ", strip=True)


def test_the_page_offers_only_the_units_near_the_person_until_asked(client, page, person):
    overview = page(url(client.app, "consent_page"))
    offered = {b["value"] for b in overview.select("form#form-field input[name=unit]")}
    assert offered == set(unit_ids(client, *NEAR))
    details = overview.select_one("details#more-units")
    assert details is not None and not details.has_attr("open")
    assert details.select_one("summary").get_text(strip=True) == "Lägg till en annan verksamhet"
    # The search field and its button belong to the consent form: a search keeps the ticks.
    field = overview.select_one("form#form-field input#sok")
    assert field is not None and field["type"] == "search" and not field.has_attr("form")
    button = overview.select_one("form#form-field #more-units button[name=action]")
    assert button["value"] == "search" and button.get_text(strip=True) == "Sök"
    # It is the form's first button, so Enter in the field searches rather than decides.
    assert overview.select("form#form-field button[type=submit]")[0] is button
    assert overview.select("form[method=get]") == []  # no ids nor token in a URL
    assert status_text(overview) == ""


@pytest.mark.parametrize("query", ["habilitering", "HABILITERING", "Barn- och ungdom"])
def test_a_search_by_name_finds_the_unit_case_insensitively(client, page, person, query):
    (hab,) = unit_ids(client, HAB)
    found = page(consent_url(client, sok=query))
    assert offered_in_matches(found) == [hab]
    assert found.select_one("details#more-units").has_attr("open")
    assert status_text(found) == f"1 verksamhet hittades för ”{query}”."
    assert found.select_one("input#sok")["value"] == query
    # Nothing is ticked by a search: consent is an active choice.
    assert checked_units(found) == set()


def test_a_search_by_place_leaves_out_the_units_already_shown(client, page, person):
    (hab,) = unit_ids(client, HAB)
    found = page(consent_url(client, sok="kalmar"))  # every Swedish demo unit is in Kalmar
    assert offered_in_matches(found) == [hab]
    boxes = [b["value"] for b in found.select("form#form-field input[name=unit]")]
    assert len(boxes) == len(set(boxes)) == 4  # the three near ones once, and the match


def test_another_countrys_units_are_never_found_nor_kept(client, page, person):
    fi = unit_ids(client, *FI_UNITS)
    found = page(consent_url(client, sok="Vasa"))
    assert offered_in_matches(found) == []
    assert status_text(found).startswith("Ingen annan verksamhet hittades för ”Vasa”.")
    kept = page(consent_url(client, unit=fi))
    assert not set(fi) & {b["value"] for b in kept.select("input[name=unit]")}
    for name in unit_names(client, *FI_UNITS):
        assert name not in kept.text()


@pytest.mark.parametrize("query", ["", " ", "k", "%", "_"])
def test_a_search_too_short_to_make_is_explained(client, page, person, query):
    found = page(consent_url(client, sok=query))
    assert offered_in_matches(found) == []
    assert status_text(found) == "Skriv minst 2 tecken för att söka."
    assert found.select_one("details#more-units").has_attr("open")


@pytest.mark.parametrize("query", ["%%", "__", "%a", "zzzz-ingen"])
def test_like_wildcards_are_plain_text_and_a_miss_is_explained(client, page, person, query):
    found = page(consent_url(client, sok=query))
    assert offered_in_matches(found) == []
    assert "Ingen annan verksamhet hittades" in status_text(found)


@pytest.fixture
def many_units(client):
    """MATCHES_MAX + 3 extra Swedish units named alike, removed afterwards."""
    extra = [Unit(code=f"tp-search-{n:02}", name=f"Provmottagningen {n:02}", organisation="Provregionen",
                  kind="primary_care", country="SE", description="Prov.")
             for n in range(MATCHES_MAX + 3)]

    async def add(db):
        db.add_all(extra)

    async def remove(db):
        await db.exec(delete(Unit).where(col(Unit.code).like("tp-search-%")))

    db_run(client, add)
    yield [u.code for u in extra]
    db_run(client, remove)


def test_matches_are_bounded_and_the_rest_asks_for_more_text(client, page, person, many_units):
    found = page(consent_url(client, sok="provmottagningen"))
    shown = offered_in_matches(found)
    assert len(shown) == MATCHES_MAX
    assert shown == unit_ids(client, *many_units[:MATCHES_MAX])  # by name
    assert "Det finns fler. Skriv mer av namnet för att se dem." in status_text(found)
    narrower = page(consent_url(client, sok="Provmottagningen 12"))
    assert offered_in_matches(narrower) == unit_ids(client, many_units[12])
    assert "Det finns fler" not in status_text(narrower)


def test_units_ticked_before_a_search_stay_ticked_with_the_new_matches(client, page, person,
                                                                       many_units):
    (hab,) = unit_ids(client, HAB)
    first = unit_ids(client, many_units[0])[0]
    found = page(consent_url(client, sok="habilitering", unit=[first]))
    assert offered_in_matches(found) == [first, hab]  # the kept one first, then the match
    assert checked_units(found) == {first}


def test_htmx_gets_the_matches_alone_and_no_read_is_logged(client, page):
    (hab,) = unit_ids(client, HAB)
    # A representative's reads are logged (the person's own are not): the matches are no read.
    person, legal = new_person(client, units=NEAR), new_person(client)
    represent(client, legal, person, "legal_representative")
    sign_in(client, legal)
    act_for(client, page, person.id)
    before = len(audit_of(client, person.id, "consent.read"))
    response = client.get(consent_url(client, sok="hab"),
                          headers={"HX-Request": "true", "HX-Target": "unit-matches"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<h1" not in response.text
    fragment = BeautifulSoup(response.text, "html.parser")
    assert fragment.select_one("div#unit-matches") is not None
    assert [b["value"] for b in fragment.select("input[name=unit]")] == [hab]
    assert len(audit_of(client, person.id, "consent.read")) == before
    page(url(client.app, "consent_page"))
    assert len(audit_of(client, person.id, "consent.read")) == before + 1


def test_consent_to_a_unit_found_by_search_is_given_and_then_shown_as_in_force(client, page,
                                                                               person):
    (hab,) = unit_ids(client, HAB)
    (hab_name,) = unit_names(client, HAB)
    found = page(consent_url(client, sok="habilitering"))
    response = client.post(url(client.app, "consent_decide"), follow_redirects=False,
                           data={**consent_form(found), "decision": "give", "unit": [hab]})
    assert response.status_code == 303 and response.headers["location"].startswith("/samtycke/kvitto/")
    receipt = page(response.headers["location"])
    assert hab_name in receipt.text()
    after = page(url(client.app, "consent_page"))
    assert states_on_page(after) == {hab_name: "Ja"}
    assert hab not in {b["value"] for b in after.select("form#form-field input[name=unit]")}
    # Once in force it is no longer offered by a search either.
    assert offered_in_matches(page(consent_url(client, sok="habilitering"))) == []


def test_a_refused_form_keeps_the_found_unit_ticked(client, page, person):
    (hab,) = unit_ids(client, HAB)
    found = page(consent_url(client, sok="habilitering"))
    form = {**consent_form(found), "unit": [hab]}  # no decision: refused
    response = client.post(url(client.app, "consent_decide"), data=form, follow_redirects=False)
    assert response.status_code == 400
    again = BeautifulSoup(response.text, "html.parser")
    assert [b["value"] for b in again.select(f"{MATCHES}[checked]")] == [hab]
    assert again.select_one("details#more-units").has_attr("open")


def test_a_unit_of_another_country_in_a_consent_form_is_refused(client, page, person):
    fi = unit_ids(client, FI_UNITS[0])
    overview = page(url(client.app, "consent_page"))
    response = client.post(url(client.app, "consent_decide"), follow_redirects=False,
                           data={**consent_form(overview), "decision": "give", "unit": fi})
    assert response.status_code == 400
    assert audit_of(client, person.id, "consent.give") == []


def test_control_characters_are_no_unit_nor_search_text(client, page, person):
    """PostgreSQL refuses a NUL in text: such input is dropped before any statement."""
    (hab,) = unit_ids(client, HAB)
    found = page(consent_url(client, sok="habil\x00itering", unit=["\x00", hab + "\x00"]))
    # The NUL is a space: two words, each found in the name.
    assert offered_in_matches(found) == [hab]
    assert status_text(found) == "1 verksamhet hittades för ”habil itering”."
    assert page(consent_url(client, sok="\x00\x00")).select_one("#unit-matches [role=status]") \
        .get_text(strip=True) == "Skriv minst 2 tecken för att söka."
    overview = page(url(client.app, "consent_page"))
    response = client.post(url(client.app, "consent_decide"), follow_redirects=False,
                           data={**consent_form(overview), "decision": "give", "unit": ["\x00"]})
    assert response.status_code == 400
    response = client.post(url(client.app, "consent_decide"), follow_redirects=False,
                           data={**consent_form(overview), "unit": ["\x00", hab]})  # no decision
    assert response.status_code == 400


def search_in_form(client, form: dict, query: str, units: list[str], **headers):
    """"Sök" pressed in the consent form (no JavaScript unless `headers` say htmx)."""
    return client.post(url(client.app, "consent_decide"), follow_redirects=False, headers=headers,
                       data={**form, "unit": units, "sok": query, "action": "search"})


def test_a_second_search_without_javascript_keeps_every_tick_and_decides_nothing(client, page,
                                                                                 person):
    """Reported: tick a found unit, search again, and the tick was gone."""
    (hab,) = unit_ids(client, HAB)
    (vc,) = unit_ids(client, NEAR[0])
    overview = page(url(client.app, "consent_page"))
    form = consent_form(overview)
    response = search_in_form(client, form, "Region", [vc])
    assert response.status_code == 200
    found = BeautifulSoup(response.text, "html.parser")
    assert [b["value"] for b in found.select(MATCHES)] == [hab]
    assert checked_units(found) == {vc}
    response = search_in_form(client, consent_form(found), "Vasa", [vc, hab])
    assert response.status_code == 200
    again = BeautifulSoup(response.text, "html.parser")
    assert checked_units(again) == {vc, hab}  # the found unit stays, ticked, with no match
    assert [b["value"] for b in again.select(f"{MATCHES}[checked]")] == [hab]
    assert again.select_one("details#more-units").has_attr("open")
    assert again.select_one("input#sok")["value"] == "Vasa"
    assert again.select_one(".error-summary") is None
    # The same form, key and sequence: the later decision is the one first shown.
    kept = consent_form(again)
    assert (kept["idempotency_key"], kept["seen_seq"]) == (form["idempotency_key"], form["seen_seq"])
    # Nothing decided, nothing recorded.
    assert audit_of(client, person.id, "consent.give") == []
    assert audit_of(client, person.id, "consent.think") == []
    assert states_on_page(page(url(client.app, "consent_page"))) == {}
    response = client.post(url(client.app, "consent_decide"), follow_redirects=False,
                           data={**kept, "decision": "give", "unit": [vc, hab]})
    assert response.status_code == 303 and response.headers["location"].startswith("/samtycke/kvitto/")
    assert set(states_on_page(page(url(client.app, "consent_page"))).values()) == {"Ja"}
    assert len(states_on_page(page(url(client.app, "consent_page")))) == 2


def test_a_search_in_the_form_with_a_decision_too_only_searches(client, page, person):
    (vc,) = unit_ids(client, NEAR[0])
    form = {**consent_form(page(url(client.app, "consent_page"))), "decision": "give"}
    response = search_in_form(client, form, "habilitering", [vc])
    assert response.status_code == 200
    assert audit_of(client, person.id, "consent.give") == []


def test_a_search_in_the_form_needs_the_csrf_token(client, page, person):
    (vc,) = unit_ids(client, NEAR[0])
    form = consent_form(page(url(client.app, "consent_page")))
    del form["csrf_token"]
    response = search_in_form(client, form, "habilitering", [vc])
    assert response.status_code == 403
    assert "Barn- och ungdomshabiliteringen" not in response.text


def test_htmx_search_in_the_form_gets_the_matches_alone_with_the_ticks(client, page, person):
    (hab,) = unit_ids(client, HAB)
    first = page(url(client.app, "consent_page"))
    found = BeautifulSoup(search_in_form(client, consent_form(first), "habilitering", []).text,
                          "html.parser")
    response = search_in_form(client, consent_form(found), "zz-ingen", [hab],
                              **{"HX-Request": "true", "HX-Target": "unit-matches"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<h1" not in response.text
    fragment = BeautifulSoup(response.text, "html.parser")
    assert [b["value"] for b in fragment.select("div#unit-matches input[name=unit][checked]")] == [hab]
    assert "Ingen annan verksamhet hittades för ”zz-ingen”." in fragment.get_text()
    assert audit_of(client, person.id, "consent.give") == []


@pytest.fixture
def far_from_kalmar_vc(client):
    """A fresh adult in Sweden whom only the hospital ward works with, signed in."""
    who = new_person(client, units=("se-lsk-avd12",))
    sign_in(client, who)
    return who


@pytest.mark.parametrize(("query", "code"), [
    ("kalmar vårdcentral", "se-kalmar-vc"),
    ("vårdcentral kalmar", "se-kalmar-vc"),
    ("vårdcentralen i Kalmar", "se-kalmar-vc"),
    ("VÅRDCENTRALEN KALMAR", "se-kalmar-vc"),
    ("habilitering kalmar", "se-kalmar-hab"),
    ("Kalmar och habiliteringen", "se-kalmar-hab"),
    ("Region Stensbergsvägen", "se-kalmar-hab"),  # organisation and address
    ("socialtjänsten kommun", "se-kalmar-soc"),
])
def test_every_word_is_found_in_any_order(client, page, far_from_kalmar_vc, query, code):
    found = page(consent_url(client, sok=query))
    assert offered_in_matches(found) == unit_ids(client, code)


@pytest.mark.parametrize("query", ["vårdcentral habilitering", "vårdcentral vasa",
                                   "kalmar zz%", "Kalmar __"])
def test_a_word_found_nowhere_finds_nothing(client, page, far_from_kalmar_vc, query):
    found = page(consent_url(client, sok=query))
    assert offered_in_matches(found) == []
    assert "Ingen annan verksamhet hittades" in status_text(found)
