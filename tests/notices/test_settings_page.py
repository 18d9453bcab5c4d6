"""The notice settings page (/installningar): the signed-in person's own choice of
e-mail, SMS, both or none, and their address and number; validated, audited, confirmed
to the old address, and safe against double submits and two tabs."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from portal.people.models import Person
from tests.conftest import BASE_URL, Page, build_app
from tests.consent.helpers import act_for, audit_of, error_links, error_page, outbox_of, sign_in
from tests.factories import db_run, new_person, represent
from tests.notices.servers import PASSWORD, USER

URL = "/installningar"


def get(client, url: str = URL, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (response.status_code, response.text[:300])
    return Page(response)


def form_of(page: Page) -> dict:
    form = page.select_one(f'form[action="{URL}"]')
    assert form is not None
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    data["email"] = form.select_one("input[name=email]").get("value", "")
    data["phone"] = form.select_one("input[name=phone]").get("value", "")
    data["channel"] = [i["value"] for i in form.select("input[name=channel][checked]")]
    return data


def person_of(client, person_id: str) -> Person:
    return db_run(client, lambda db: db.get(Person, person_id))


@pytest.fixture
def sms_client(settings):
    sms_settings = settings.with_(sms_url="http://127.0.0.1:9", sms_user=USER,
                                  sms_password=PASSWORD)
    with TestClient(build_app(sms_settings), base_url=BASE_URL) as test_client:
        yield test_client


def test_the_page_shows_my_settings_and_says_sms_is_not_available_yet(client):
    person = new_person(client)
    sign_in(client, person)
    page = get(client)
    assert page.select_one("h1").get_text(strip=True) == "Inställningar"
    assert page.select_one("title").get_text().startswith("Inställningar")
    data = form_of(page)
    assert data["email"] == person.email and data["phone"] == ""
    assert data["channel"] == ["email"]
    assert page.select("input[name=channel][value=sms]") == []
    assert "Det går inte att få sms från SIP-portalen än." in page.response.text
    assert page.select_one('a[href="/installningar"][aria-current="page"]') is not None
    assert page.select_one("input[name=email]")["autocomplete"] == "email"
    assert page.select_one("input[name=phone]")["type"] == "tel"


def test_changing_the_address_tells_the_old_and_the_new_and_is_audited_without_them(client):
    person = new_person(client)
    sign_in(client, person)
    data = form_of(get(client))
    new_address = "ny.adress@example.invalid"
    response = client.post(URL, data={**data, "email": f"  {new_address} ",
                                      "phone": "070-174 06 12"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == URL
    page = get(client)
    assert "Dina inställningar är sparade." in page.response.text
    assert "till din gamla adress" in page.response.text
    assert form_of(page)["email"] == new_address
    assert form_of(page)["phone"] == "070-174 06 12"
    stored = person_of(client, person.id)
    assert (stored.email, stored.phone) == (new_address, "+46701740612")
    rows = outbox_of(client, person.id)
    assert sorted((r.template, r.channel, r.to_address or "") for r in rows) == [
        ("contact_changed", "email", ""), ("contact_changed", "email", person.email)]
    [event] = audit_of(client, person.id, "notice_settings.changed")
    assert event.actor_id == person.id and event.role == "self" and event.on_behalf_of is None
    assert json.loads(event.detail) == {"email": True, "sms": False, "email_changed": True,
                            "phone_changed": True}
    assert person.email not in str(event.detail) and new_address not in str(event.detail)


def test_a_double_submit_and_the_back_button_change_once_and_tell_once(client):
    person = new_person(client)
    sign_in(client, person)
    data = {**form_of(get(client)), "email": "en.gang@example.invalid"}
    for _ in range(3):
        response = client.post(URL, data=data, follow_redirects=False)
        assert response.status_code == 303
    assert len(outbox_of(client, person.id)) == 2  # to the old and to the new, once
    assert len(audit_of(client, person.id, "notice_settings.changed")) == 1


def test_a_form_from_another_tab_is_refused_and_shows_what_holds_now(client):
    person = new_person(client)
    sign_in(client, person)
    first_tab = form_of(get(client))
    second_tab = form_of(get(client))
    assert client.post(URL, data={**first_tab, "email": "flik.ett@example.invalid"},
                       follow_redirects=False).status_code == 303
    response = client.post(URL, data={**second_tab, "email": "flik.tva@example.invalid"})
    assert response.status_code == 409
    page = Page(response)
    assert "Inställningarna hade ändrats i ett annat fönster. Inget sparades." in response.text
    assert form_of(page)["email"] == "flik.ett@example.invalid"
    assert person_of(client, person.id).email == "flik.ett@example.invalid"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"email": "inte en adress"}, "email", "Skriv e-postadressen som namn@exempel.se."),
    ({"email": "a@b"}, "email", "Skriv e-postadressen som namn@exempel.se."),
    ({"email": "a@example.se\r\nBcc: x@example.se"}, "email",
     "Skriv e-postadressen som namn@exempel.se."),
    ({"email": "", "channel": ["email"]}, "email", "Skriv din e-postadress, eller välj bort e-post."),
    ({"phone": "0480-123 45"}, "phone", "Numret är inte ett mobilnummer."),
    ({"phone": "ring mig"}, "phone", "Skriv ditt mobilnummer med siffror"),
    ({"channel": ["email", "sms"]}, "channel", "Det går inte att få sms från SIP-portalen än."),
])
def test_bad_input_is_shown_again_with_a_plain_error(client, changes, field, message):
    person = new_person(client)
    sign_in(client, person)
    data = {**form_of(get(client)), **changes}
    response = client.post(URL, data=data)
    assert response.status_code == 400
    page = error_page(response)
    assert error_links(page)[0] == "#" + {"channel": "channel-email"}.get(field, field)
    assert page.select_one("title").get_text().startswith("Fel: Inställningar")
    assert page.select_one(".error-summary__title").get_text(strip=True) == "Det finns ett fel"
    assert message in page.select_one(f"#{field}-error").get_text()
    typed = form_of(page)
    assert typed["email"] == data["email"] and typed["phone"] == data["phone"]
    assert person_of(client, person.id).email == person.email
    assert outbox_of(client, person.id) == []


def test_choosing_none_stops_the_notices(client):
    person = new_person(client)
    sign_in(client, person)
    data = {**form_of(get(client)), "channel": []}
    assert client.post(URL, data=data, follow_redirects=False).status_code == 303
    stored = person_of(client, person.id)
    assert not stored.notify_email and stored.email == person.email
    assert form_of(get(client))["channel"] == []
    assert outbox_of(client, person.id) == []  # no address changed: nothing to confirm


def test_sms_is_offered_when_a_provider_is_configured(sms_client):
    client = sms_client
    person = new_person(client, country="FI")
    sign_in(client, person)
    page = get(client)
    assert page.select("input[name=channel][value=sms]")
    data = {**form_of(page), "channel": ["sms"], "phone": ""}
    response = client.post(URL, data=data)
    assert response.status_code == 400
    assert "Skriv ditt mobilnummer, eller välj bort sms." in response.text
    data["phone"] = "040 174 0612"  # Finnish writing, read as a Finnish number
    assert client.post(URL, data=data, follow_redirects=False).status_code == 303
    stored = person_of(client, person.id)
    assert (stored.phone, stored.notify_sms, stored.notify_email) == ("+358401740612", True, False)
    rows = outbox_of(client, person.id)
    assert [(r.channel, r.to_address) for r in rows] == [("sms", None)]
    # Changing the number again tells the old number too.
    data = {**form_of(get(client)), "phone": "+358 50 174 0613"}
    assert client.post(URL, data=data, follow_redirects=False).status_code == 303
    rows = [r for r in outbox_of(client, person.id) if r.to_address]
    assert [(r.channel, r.to_address, r.locale) for r in rows] == [
        ("sms", "+358401740612", "sv_FI")]


def test_acting_for_someone_the_page_is_about_my_own_settings(client):
    me = new_person(client)
    other = new_person(client)
    represent(client, me, other, "proxy")
    sign_in(client, me)
    assert act_for(client, lambda url: get(client, url), other.id).status_code == 303
    page = get(client)
    assert "Det här är dina egna inställningar." in page.response.text
    assert form_of(page)["email"] == me.email
    data = {**form_of(page), "email": "min.egen@example.invalid"}
    assert data["subject"] == other.id  # the form names whom the page was shown for
    assert client.post(URL, data=data, follow_redirects=False).status_code == 303
    assert person_of(client, me.id).email == "min.egen@example.invalid"
    assert person_of(client, other.id).email == other.email
    assert audit_of(client, other.id, "notice_settings.changed") == []


def test_a_form_shown_for_someone_else_saves_nothing(client):
    me = new_person(client)
    other = new_person(client)
    represent(client, me, other, "proxy")
    sign_in(client, me)
    data = {**form_of(get(client)), "email": "fel.flik@example.invalid"}
    act_for(client, lambda url: get(client, url), other.id)  # another tab switched person
    response = client.post(URL, data=data, follow_redirects=False)
    assert response.status_code == 303
    assert person_of(client, me.id).email == me.email


def test_staff_and_visitors_have_no_settings_page(client):
    assert client.get(URL, follow_redirects=False).status_code == 303
    sign_in(client, "anna")
    assert client.get(URL).status_code == 403
