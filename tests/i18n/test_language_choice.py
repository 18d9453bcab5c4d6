"""Choosing Finland Swedish changes the words on the page, and the choice sticks."""

from __future__ import annotations

from tests.conftest import login
from tests.factories import new_person, represent

SWEDEN_LOGIN_HINT = "Du loggar in med BankID eller Freja eID+."
FINLAND_LOGIN_HINT = "Du loggar in med stark autentisering: med dina nätbankskoder eller ett mobilcertifikat."
SWEDEN_SIP = "En SIP är en samordnad individuell plan."
FINLAND_SIP = "En klientplan är en gemensam plan för din vård och service."


def choose(client, code: str, next_: str = "/"):
    response = client.get(f"/sprak/{code}?next={next_}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == next_
    return response


def test_start_page_is_in_sweden_swedish_by_default(page):
    start = page("/")
    assert start.soup.html["lang"] == "sv"
    assert SWEDEN_LOGIN_HINT in start.text()
    current = start.select_one(".language-switch [aria-current]")
    assert current.get_text(strip=True) == "Svenska (Sverige)"


def test_choosing_finland_swedish(client, page):
    response = choose(client, "sv-FI")
    assert "sip_lang=sv_FI" in response.headers["set-cookie"]
    start = page("/")
    assert start.soup.html["lang"] == "sv-FI"
    assert FINLAND_LOGIN_HINT in start.text()
    assert SWEDEN_LOGIN_HINT not in start.text()
    assert "hälsovården eller socialvården" in start.text()
    current = start.select_one(".language-switch [aria-current]")
    assert current.get_text(strip=True) == "Svenska (Finland)"


def test_the_choice_sticks_and_can_be_changed_back(client, page):
    choose(client, "sv-FI", "/kontakt")
    for _ in range(2):
        contact = page("/kontakt")
        assert contact.soup.html["lang"] == "sv-FI"
        assert "116 117" in contact.text()
        assert contact.select_one('a[href^="tel:"]')["href"] == "tel:+35862180000"
    choose(client, "sv-SE", "/kontakt")
    contact = page("/kontakt")
    assert contact.soup.html["lang"] == "sv"
    assert "1177" in contact.text()
    assert contact.select_one('a[href^="tel:"]')["href"] == "tel:+46771112233"


def test_an_unknown_language_changes_nothing(client, page):
    response = client.get("/sprak/fi?next=/", follow_redirects=False)
    assert response.status_code == 303
    assert "sip_lang" not in response.headers.get("set-cookie", "")
    assert page("/").soup.html["lang"] == "sv"


def test_elsa_sees_finland_wording_when_logged_in(client, page):
    assert login(client, "elsa").status_code == 303
    choose(client, "sv-FI")
    start = page("/")
    assert start.soup.html["lang"] == "sv-FI"
    assert start.h1 == "Hej Elsa!"
    assert FINLAND_SIP in start.text()
    assert SWEDEN_SIP not in start.text()
    assert "socialtjänsten" not in start.text().lower()
    # Logged in, the choice is also kept in the session: it holds without the cookie.
    client.cookies.delete("sip_lang")
    again = page("/")
    assert again.soup.html["lang"] == "sv-FI"
    assert FINLAND_SIP in again.text()


def test_dates_on_the_accessibility_page_follow_the_variant(client, page):
    assert "23 november 2026" in page("/tillganglighet").text()
    choose(client, "sv-FI", "/tillganglighet")
    finland = page("/tillganglighet")
    assert "23.11.2026" in finland.text()
    assert "Traficom" in finland.text()
    assert "Digg" not in finland.text()


def test_elsa_starts_in_finland_swedish_without_choosing(client, page):
    """Until someone chooses, the variant follows the signed-in person's country."""
    assert login(client, "elsa").status_code == 303
    start = page("/")
    assert start.soup.html["lang"] == "sv-FI"
    assert "Vad är en klientplan?" in [h.get_text(strip=True) for h in start.select(".card__title")]
    assert "Vad är en SIP?" not in start.text()
    assert FINLAND_SIP in start.text()
    assert "SIP " not in start.text() and "SIP?" not in start.text()


def test_a_finnish_contact_person_starts_in_finland_swedish(client, page):
    assert login(client, "johanna").status_code == 303
    assert page("/").soup.html["lang"] == "sv-FI"


def test_a_swedish_person_starts_in_sweden_swedish(client, page):
    assert login(client, "viola").status_code == 303
    start = page("/")
    assert start.soup.html["lang"] == "sv"
    assert "Vad är en SIP?" in start.text()


def test_a_choice_wins_over_the_country(client, page):
    choose(client, "sv-SE")
    assert login(client, "elsa").status_code == 303
    assert page("/").soup.html["lang"] == "sv"
    choose(client, "sv-FI")
    assert page("/").soup.html["lang"] == "sv-FI"


def test_acting_for_someone_in_finland_keeps_ones_own_variant(client, page):
    """The variant is the signed-in person's; the other person's times are still theirs."""
    swede = new_person(client, country="SE")
    finn = new_person(client, country="FI")
    represent(client, swede, finn, "proxy")
    assert login(client, swede.given_name).status_code == 303
    assert page("/").soup.html["lang"] == "sv"


def test_the_language_switch_keeps_the_pages_query_but_never_a_logins(client, page):
    """A filter (?visa=new) survives switching variant; the login callback's one-time
    code and state are never put in a link."""
    from urllib.parse import parse_qs, urlsplit

    def next_of(shown) -> str:
        link = shown.select_one('.language-switch a[lang="sv-FI"]')["href"]
        return parse_qs(urlsplit(link).query)["next"][0]

    assert next_of(page("/kontakt?visa=new")) == "/kontakt?visa=new"
    failed = client.get("/auth/callback/citizen?code=secret-code&state=secret-state")
    assert "secret-code" not in failed.text and "secret-state" not in failed.text
