from tests.coordination.helpers import fill_in, send
from tests.consent.helpers import sign_in
from tests.factories import new_person, VC, SOC
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def test_smoke(client, page):
    who = new_person(client, units=(VC, SOC))
    sign_in(client, who)
    assert page("/arenden").h1 == "Dina ärenden"
    check = fill_in(client, page)
    print(check.text())
    sent = send(client, check)
    assert sent.status_code == 303, sent.text
    receipt = page(sent.headers["location"])
    print(receipt.text())
    listing = page("/arenden")
    print(listing.text())
    detail = page(listing.select_one(".request-list a")["href"])
    print(detail.text())
    print(page("/").text())
