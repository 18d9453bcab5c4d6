"""Acting for someone else: choosing the person, the banner, access rules and
permission changes that act on the next request. Through HTTP with real logins."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.people.models import Person, Representation
from portal.people.representation import guardian_age_limit, is_valid
from tests.conftest import Page, login, run_db
from tests.factories import today_in

CHOOSE_HEADING = "Vem vill du använda tjänsten för?"
REFUSED = "Du kan inte använda tjänsten för den personen."
ENDED = "Du kan inte längre använda tjänsten för den personen. Nu ser du dina egna uppgifter."
OWN_START = "Här ser du din plan för vård och stöd när den är klar."
# Someone with nothing of their own who acts for others sees those first.
OTHERS_FIRST = "Välj vem du vill använda tjänsten för."
ONLY_SELF = "Du kan bara använda tjänsten för dig själv just nu."


def sign_in(client, key: str):
    """Log in a demo person by key; the provider lists people by their real first name."""
    return login(client, {"gosta": "gösta"}.get(key, key))




def banner(page: Page) -> str:
    return page.text(".acting-banner")


def header(page: Page) -> str:
    return page.text("header")


def warnings(page: Page) -> list[str]:
    return [" ".join(n.get_text(" ").split()) for n in page.select("main .notification--warning")]


def choices(page: Page) -> dict[str, dict[str, str]]:
    """Name shown on each choice in 'Vem vill du använda tjänsten för?' -> its form fields."""
    section = page.select_one('section[aria-labelledby="choose-title"]')
    if section is None:
        return {}
    assert section.h2.get_text(strip=True) == CHOOSE_HEADING
    found = {}
    for form in section.select('form[action="/vem"]'):
        name = form.button.strong.get_text(" ", strip=True)
        found[name] = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        found[name]["reason"] = " ".join(form.button.select_one(".person-list__reason").get_text(" ").split())
    return found


def choose(client, page, name: str):
    """Press the button with `name` on /vem, as a person would."""
    offered = choices(page("/vem"))
    assert name in offered, f"{name} is not offered: {sorted(offered)}"
    form = {k: v for k, v in offered[name].items() if k != "reason"}
    return client.post("/vem", data=form, follow_redirects=False)


def post_choice(client, page, person_id: str):
    """POST /vem with a valid CSRF token and a person id the page did not offer."""
    token = page("/").csrf()
    return client.post("/vem", data={"csrf_token": token, "person": person_id},
                       follow_redirects=False)


def events(database_url: str, action: str, actor_id: str) -> list[AuditEvent]:
    async def work(db):
        return (await db.exec(select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.actor_id == actor_id)
            .order_by(col(AuditEvent.id)))).all()

    return run_db(database_url, work)


# --- Johan acts for his mother Viola ----------------------------------------

def test_johan_chooses_viola_sees_the_banner_everywhere_and_switches_back(
        client, page, demo_ids, database_url):
    assert login(client, "johan").status_code == 303
    start = page("/")
    assert banner(start) == ""
    assert "Inloggad: Johan Andersson" in header(start)

    offered = choices(page("/vem"))
    assert set(offered) == {"Johan Andersson (du själv)", "Viola Andersson"}
    assert offered["Viola Andersson"]["person"] == demo_ids["viola"]
    assert offered["Viola Andersson"]["reason"] == "Viola har gett dig fullmakt."
    before = len(events(database_url, "acting.started", demo_ids["johan"]))

    response = choose(client, page, "Viola Andersson")
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    for url in ("/", "/kontakt", "/tillganglighet", "/vem"):
        shown = page(url)
        assert "Du använder tjänsten för: Viola Andersson" in banner(shown), url
        assert "Inloggad: Johan Andersson" in header(shown), url
        # Who is signed in is Johan; the menu names whose plan and matters it leads to.
        assert "Viola" not in shown.text(".site-header__user"), url
        assert "Violas plan" in header(shown), url
    start = page("/")
    assert "Nu ser du uppgifter om Viola Andersson." in start.text()
    assert OWN_START not in start.text()
    # The cards speak of Viola, not of "du": Johan reads about his mother.
    assert _h2s(start)[:2] == ["Violas plan", "Samtycke"]
    # Whatever Viola's answer is now (other tests on this database may have given one),
    # the consent card speaks of her, never of "du".
    assert ("Vi behöver ett svar innan vi kan samordna vård och omsorg för Viola." in start.text()
            or re.search(r"Det finns samtycke till att \d+ verksamhet(er)? samarbetar kring Viola\.",
                         start.text())), start.text()
    assert "Vi behöver ditt svar" not in start.text()
    assert "Du har sagt ja" not in start.text()

    started = events(database_url, "acting.started", demo_ids["johan"])
    assert len(started) == before + 1
    event = started[-1]
    assert event.on_behalf_of == demo_ids["viola"]
    assert event.subject_person_id == demo_ids["viola"]
    assert event.role == "proxy"
    assert event.actor_type == "person"
    assert event.object_type == "representation"

    ended_before = len(events(database_url, "acting.ended", demo_ids["johan"]))
    response = choose(client, page, "Johan Andersson (du själv)")
    assert response.status_code == 303
    for url in ("/", "/kontakt"):
        shown = page(url)
        assert banner(shown) == "", url
        assert not shown.select(".acting-banner")
        assert "Inloggad: Johan Andersson" in header(shown)
    assert OTHERS_FIRST in page("/").text()  # Johan has no plan of his own
    ended = events(database_url, "acting.ended", demo_ids["johan"])
    assert len(ended) == ended_before + 1
    assert ended[-1].on_behalf_of == demo_ids["viola"]


# --- Who may act for whom ----------------------------------------------------

def test_expired_proxy_sees_no_one_and_is_refused_like_a_made_up_id(client, page, demo_ids,
                                                                    database_url):
    login(client, "svea")
    chooser = page("/vem")
    assert ONLY_SELF in chooser.text()
    assert "Viola" not in chooser.text()
    assert choices(chooser) == {}
    assert "Viola" not in page("/").text()

    answers = []
    # A NUL byte or a very long value is refused the same way, before any query.
    for person_id in (demo_ids["viola"], "AAAAAAAAAAAAAAAAAAAAAA", "a\x00b", "x" * 5000):
        response = post_choice(client, page, person_id)
        assert response.status_code == 303
        shown = page(response.headers["location"])
        answers.append((response.headers["location"], tuple(warnings(shown)), shown.text()))
        assert banner(shown) == ""
        home = page("/")
        assert banner(home) == ""
        assert OWN_START in home.text()
    assert len(set(answers)) == 1, "the answer must not tell whether the person exists"
    assert answers[0][1] == (REFUSED,)
    assert events(database_url, "acting.started", demo_ids["svea"]) == []


@pytest.mark.parametrize(("who", "target"), [
    ("johan", "ylva"),    # no representation at all
    ("viola", "johan"),   # the proxy goes one way only
    ("gosta", "ylva"),
    ("amina", "viola"),
    ("sofia", "elsa"),
    ("karin", "bertil"),  # a god man for one person is not one for another
])
def test_no_representation_no_acting(client, page, demo_ids, who, target):
    sign_in(client, who)
    response = post_choice(client, page, demo_ids[target])
    assert response.status_code == 303
    assert response.headers["location"] == "/vem"
    shown = page("/vem")
    assert warnings(shown) == [REFUSED]
    assert banner(shown) == ""
    home = page("/")
    assert banner(home) == ""
    assert "Nu ser du uppgifter om" not in home.text()
    assert home.h1.startswith("Hej ")


@pytest.mark.parametrize("chosen", [
    "' OR 1=1 --",
    "../../etc/passwd",
    "x" * 2000,
    "\u202eaiV",
    "0",
])
def test_a_person_cannot_pick_an_arbitrary_id(client, page, chosen):
    login(client, "johan")
    response = post_choice(client, page, chosen)
    assert response.status_code == 303
    shown = page(response.headers["location"])
    assert warnings(shown) == [REFUSED]
    assert banner(page("/")) == ""


def test_a_staff_id_cannot_be_picked(client, page, database_url):
    from portal.people.models import StaffMember

    async def staff_id(db):
        return (await db.exec(select(StaffMember.id))).first()

    login(client, "johan")
    response = post_choice(client, page, run_db(database_url, staff_id))
    assert response.headers["location"] == "/vem"
    assert banner(page("/")) == ""


@pytest.mark.parametrize(("who", "me", "target", "target_name", "reason"), [
    ("amina", "Amina Hassan", "ylva", "Ylva Hassan", "Du är vårdnadshavare."),
    ("yusuf", "Yusuf Hassan", "ylva", "Ylva Hassan", "Du är vårdnadshavare."),
    ("karin", "Karin Holm", "peter", "Peter Lind", "Du är god man eller förvaltare."),
    ("annika", "Annika Holmström", "elsa", "Elsa Holmström", "Du har en Suomi.fi-fullmakt."),
    ("sofia", "Sofia Nyberg", "wilma", "Wilma Nyberg", "Du är vårdnadshavare."),
    ("mikael", "Mikael Nyberg", "wilma", "Wilma Nyberg", "Du är vårdnadshavare."),
    # Marina lives in Finland: the variant follows her country, and so does the word.
    ("marina", "Marina Lindqvist", "bertil", "Bertil Sjöberg", "Du är intressebevakare."),
    ("gosta", "Gösta Andersson", "viola", "Viola Andersson", "Viola har gett dig fullmakt."),
])
def test_representatives_can_act(client, page, demo_ids, who, me, target, target_name, reason):
    sign_in(client, who)
    offered = choices(page("/vem"))
    assert set(offered) == {f"{me} (du själv)", target_name}
    assert offered[target_name]["person"] == demo_ids[target]
    assert offered[target_name]["reason"] == reason
    assert choose(client, page, target_name).status_code == 303
    shown = page("/")
    assert f"Du använder tjänsten för: {target_name}" in banner(shown)
    assert f"Inloggad: {me}" in header(shown)
    assert f"Nu ser du uppgifter om {target_name}." in shown.text()


# --- Permission changes act on the next request ------------------------------

@pytest.fixture
def edit_representation(database_url, demo_ids):
    """Change a demo representation's dates (rows are not append-only); put them back after."""
    originals = {}

    def rep_query(who, whom):
        return select(Representation).where(
            Representation.representative_id == demo_ids[who],
            Representation.represented_id == demo_ids[whom])

    def edit(who: str, whom: str, **changes):
        async def work(db):
            rep = (await db.exec(rep_query(who, whom))).one()
            originals.setdefault((who, whom), {k: getattr(rep, k) for k in changes})
            for key, value in changes.items():
                setattr(rep, key, value)
            db.add(rep)
            await db.commit()

        run_db(database_url, work)

    yield edit
    for (who, whom), values in originals.items():
        async def restore(db, who=who, whom=whom, values=values):
            rep = (await db.exec(rep_query(who, whom))).one()
            for key, value in values.items():
                setattr(rep, key, value)
            db.add(rep)
            await db.commit()

        run_db(database_url, restore)


def test_an_ended_proxy_stops_at_the_next_request(client, page, demo_ids, edit_representation):
    login(client, "johan")
    choose(client, page, "Viola Andersson")
    assert "Viola Andersson" in banner(page("/kontakt"))

    edit_representation("johan", "viola", valid_to=date.today() - timedelta(days=1))

    shown = page("/")
    assert warnings(shown) == [ENDED]
    assert banner(shown) == ""
    assert not shown.select(".acting-banner")
    assert "Inloggad: Johan Andersson" in header(shown)
    assert shown.h1 == "Hej Johan!"
    assert OWN_START in shown.text()
    assert "Viola" not in shown.text()

    again = page("/kontakt")
    assert warnings(again) == [], "the warning is shown once"
    assert banner(again) == ""
    assert "Viola" not in page("/vem").text()
    response = post_choice(client, page, demo_ids["viola"])
    assert response.headers["location"] == "/vem"
    assert banner(page("/")) == ""


def test_a_proxy_that_ends_today_still_counts_today(client, page, edit_representation):
    # "Today" is Viola's date in Stockholm, also when the machine's (UTC) date is another.
    edit_representation("johan", "viola", valid_to=today_in("SE"))
    login(client, "johan")
    assert choose(client, page, "Viola Andersson").status_code == 303
    assert "Viola Andersson" in banner(page("/"))


def test_a_proxy_that_starts_tomorrow_does_not_count_yet(client, page, edit_representation):
    edit_representation("gosta", "viola", valid_from=today_in("SE") + timedelta(days=1))
    sign_in(client, "gosta")
    assert "Viola Andersson" not in choices(page("/vem"))
    assert ONLY_SELF in page("/vem").text()


# --- The guardian's right ends on a birthday --------------------------------

def _guardian(child_born: date, country: str) -> tuple[Representation, Person]:
    child = Person(national_id="x", given_name="Barn", family_name="Test",
                   birth_date=child_born, country=country)
    rep = Representation(representative_id="p", represented_id="c", kind="guardian",
                         scope="plan:read", valid_from=child_born, valid_to=None,
                         source="population_register")
    return rep, child


@pytest.mark.parametrize(("country", "limit"), [("SE", 13), ("FI", 18)])
def test_guardian_right_ends_on_the_birthday(country, limit):
    assert guardian_age_limit(country) == limit
    born = date(2010, 5, 10)
    rep, child = _guardian(born, country)
    birthday = date(born.year + limit, 5, 10)
    assert is_valid(rep, child, born)
    assert is_valid(rep, child, birthday - timedelta(days=365))
    assert is_valid(rep, child, birthday - timedelta(days=1))
    assert not is_valid(rep, child, birthday)
    assert not is_valid(rep, child, birthday + timedelta(days=1))
    assert not is_valid(rep, child, birthday + timedelta(days=3650))


def test_swedish_guardian_right_does_not_run_to_eighteen():
    rep, child = _guardian(date(2010, 5, 10), "SE")
    assert not is_valid(rep, child, date(2027, 5, 9))  # 16 years old
    rep, child = _guardian(date(2010, 5, 10), "FI")
    assert is_valid(rep, child, date(2027, 5, 9))


def test_age_limit_does_not_apply_to_a_proxy_or_god_man():
    for kind in ("proxy", "legal_representative"):
        rep, adult = _guardian(date(1948, 5, 14), "SE")
        rep.kind = kind
        assert is_valid(rep, adult, date(2026, 11, 23))


def test_representation_dates_are_inclusive():
    rep, child = _guardian(date(2020, 1, 1), "SE")
    rep.valid_from = date(2026, 1, 10)
    rep.valid_to = date(2026, 1, 20)
    assert not is_valid(rep, child, date(2026, 1, 9))
    assert is_valid(rep, child, date(2026, 1, 10))
    assert is_valid(rep, child, date(2026, 1, 20))
    assert not is_valid(rep, child, date(2026, 1, 21))


# --- Staff ---------------------------------------------------------------------

def test_staff_gets_the_403_page_on_vem(client, page):
    login(client, "anna")
    shown = page("/vem", status=403)
    assert shown.h1 == "Du kan inte se den här sidan"
    assert "Inloggad: Anna Berg" in header(shown)
    token = shown.csrf()
    response = client.post("/vem", data={"csrf_token": token, "person": "self"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert Page(response).h1 == "Du kan inte se den här sidan"


def test_anonymous_is_sent_to_the_start_page(client):
    response = client.get("/vem", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def _h2s(shown) -> list[str]:
    return [h.get_text(" ", strip=True) for h in shown.select("main h2")]


def test_someone_who_only_acts_for_others_sees_them_first(client, page):
    """Johan's case: no SIP of his own. His own cards come when there is something."""
    from tests.factories import VC, decide_directly, new_person, represent

    son = new_person(client, units=(VC,))
    mother = new_person(client, units=(VC,))
    represent(client, son, mother, "proxy")
    assert login(client, son.given_name).status_code == 303
    start = page("/")
    assert OTHERS_FIRST in start.text()
    assert _h2s(start)[0] == "Vem vill du använda tjänsten för?"
    assert "Din plan" not in _h2s(start) and "Samtycke" not in _h2s(start)
    assert mother.name in [c.get_text(" ", strip=True) for c in start.select(".person-list strong")]

    decide_directly(client, son.id, "give", (VC,))
    start = page("/")
    assert OTHERS_FIRST not in start.text()
    assert _h2s(start)[:2] == ["Din plan", "Samtycke"]
    assert "Vem vill du använda tjänsten för?" in _h2s(start)


def test_a_representative_reads_the_cards_about_the_person_not_about_du(client, page):
    from tests.factories import VC, decide_directly, new_person, represent

    son = new_person(client, units=(VC,))
    mother = new_person(client, units=(VC,))
    represent(client, son, mother, "proxy")
    decide_directly(client, mother.id, "give", (VC,))
    assert login(client, son.given_name).status_code == 303
    assert choose(client, page, mother.name).status_code == 303
    start = page("/")
    assert _h2s(start)[:2] == [f"{mother.given_name}s plan", "Samtycke"]
    assert f"Det finns samtycke till att 1 verksamhet samarbetar kring {mother.given_name}." in start.text()
    assert "Du har sagt ja" not in start.text()


def test_names_take_the_swedish_genitive():
    from portal.core.i18n import genitive

    assert [genitive(n) for n in ("Viola", "Lars", "Max", "Inez", "Agnes ")] == [
        "Violas", "Lars", "Max", "Inez", "Agnes"]


def test_someone_with_no_one_to_act_for_sees_their_own_cards(client, page):
    from tests.factories import VC, new_person

    alone = new_person(client, units=(VC,))
    assert login(client, alone.given_name).status_code == 303
    start = page("/")
    assert OWN_START in start.text()
    assert _h2s(start)[:2] == ["Din plan", "Samtycke"]


def test_the_menu_offers_only_what_the_right_allows(client, page, demo_ids):
    """Gösta may read Viola's plan but not answer about her consent: no dead-end link."""
    login(client, "gösta")
    assert choose(client, page, "Viola Andersson").status_code == 303
    menu = page("/").select_one("nav.site-nav, .site-nav nav")
    links = {a.get_text(" ", strip=True) for a in menu.select("a")}
    assert "Violas plan" in links and "Din plan" not in links
    assert "Samtycke" not in links
