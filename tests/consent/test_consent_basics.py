"""The first consent of a person who has never answered: give, receipt, no second act."""

from tests.conftest import Page, url
from tests.consent.helpers import sign_in
from tests.factories import new_person


def _form_data(page: Page, form_selector: str) -> dict:
    form = page.select_one(form_selector)
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def test_a_person_gives_consent_for_two_units_and_gets_a_receipt(client, page):
    # A fresh person like Viola (the demo Viola's log depends on which tests ran before).
    person = new_person(client, units=("se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12"))
    sign_in(client, person)
    consent = page(url(client.app, "consent_page"))
    assert consent.h1 == "Samtycke"
    data = _form_data(consent, "form#form-field")
    boxes = consent.select("form#form-field input[name=unit]")
    names = {b["value"]: consent.select_one(f'label[for="{b["id"]}"] strong').get_text() for b in boxes}
    chosen = [uid for uid, name in names.items()
              if name in ("Kalmar vårdcentral", "Socialtjänsten i Kalmar kommun")]
    assert len(chosen) == 2
    response = client.post(url(client.app, "consent_decide"),
                           data={**data, "decision": "give", "unit": chosen}, follow_redirects=False)
    assert response.status_code == 303, response.text
    receipt = page(response.headers["location"])
    assert "Klart. Ditt samtycke är sparat." in receipt.text()
    assert "Kalmar vårdcentral" in receipt.text()
    # The same form again (double click, back button): no second act.
    again = client.post(url(client.app, "consent_decide"),
                        data={**data, "decision": "give", "unit": chosen}, follow_redirects=False)
    assert again.headers["location"] == response.headers["location"]
    history = page(url(client.app, "consent_history"))
    assert len(history.select(".timeline__item")) == 1
