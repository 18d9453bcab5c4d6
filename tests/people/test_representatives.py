"""Vem kan se och göra saker åt dig: who acts for the person and why, inviting a proxy
(with re-authentication), the invitee's answer, withdrawing and ending, and what the
proxy meets on the next request. Through HTTP with real logins, fresh people each test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.people.models import Person, ProxyInvitation, Representation
from portal.people.national_id import display, finnish_with_check_character, swedish_with_check_digit
from portal.people.representation import guardian_age_limit
from tests.conftest import BASE_URL, Page
from tests.consent.helpers import age_login, outbox_of, reauthenticate, sign_in
from tests.factories import Who, db_run, new_person, today_in

H1 = "Vem kan se och göra saker åt dig"
INVITE_H1 = "Bjud in någon att använda tjänsten åt dig"
PROTECTED_H1 = "Så får du ett ombud"
REAUTH = "/auth/login/citizen?reauth=true&next=/ombud/bjud-in/bekrafta"
NOT_FOUND_H1 = "Sidan finns inte"


# --- helpers ---------------------------------------------------------------------------------


def add_rep(client, representative: Who, person: Who, kind: str = "proxy", *,
            source: str = "person", scope: str = "plan:read messages",
            appointment: str | None = None, valid_from: date | None = None,
            valid_to: date | None = None, ended: bool = False) -> str:
    async def work(db):
        rep = Representation(representative_id=representative.id, represented_id=person.id,
                             kind=kind, scope=scope, source=source, appointment=appointment,
                             valid_from=valid_from or date.today() - timedelta(days=60),
                             valid_to=valid_to)
        if ended:
            rep.ended_at = datetime.now(UTC) - timedelta(days=3)
            rep.ended_by = person.id
        db.add(rep)
        await db.flush()
        return rep.id

    return db_run(client, work)


def protect(client, who: Who) -> None:
    async def work(db):
        person = await db.get(Person, who.id)
        person.protected_identity = True
        db.add(person)

    db_run(client, work)


def invitations_of(client, person_id: str) -> list[ProxyInvitation]:
    async def work(db):
        return list((await db.exec(select(ProxyInvitation).where(
            ProxyInvitation.person_id == person_id).order_by(col(ProxyInvitation.created_at)))).all())

    return db_run(client, work)


def proxies(client, representative_id: str, person_id: str) -> list[Representation]:
    async def work(db):
        return list((await db.exec(select(Representation).where(
            Representation.representative_id == representative_id,
            Representation.represented_id == person_id)
            .order_by(col(Representation.created_at)))).all())

    return db_run(client, work)


def actions(client, person_id: str) -> list[str]:
    async def work(db):
        return [e.action for e in (await db.exec(select(AuditEvent).where(
            AuditEvent.subject_person_id == person_id).order_by(col(AuditEvent.id)))).all()]

    return db_run(client, work)


class ErrorPage(Page):
    """A form shown again with errors: its title starts "Fel: " before the h1."""

    def __init__(self, response) -> None:
        self.response = response
        self.soup = BeautifulSoup(response.text, "html.parser")
        assert len(self.soup.find_all("h1")) == 1


def hidden(page: Page, action: str) -> dict[str, str]:
    form = page.select_one(f'form[action="{action}"]')
    assert form is not None, f"no form posting to {action}"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def fill(page: Page, number: str, scopes=("plan:read", "messages"), valid_to: str = "") -> dict:
    data = {**hidden(page, "/ombud/bjud-in"), "number": number, "valid_to": valid_to}
    data["scope"] = list(scopes)
    return data


def errors(page: Page) -> list[str]:
    return [" ".join(a.get_text(" ").split()) for a in page.select(".error-summary li")]


def flashes(page: Page) -> str:
    return " ".join(" ".join(n.get_text(" ").split()) for n in page.select("main .notification"))


def invite(client, page, inviter: Who, invitee: Who, scopes=("plan:read", "messages")) -> str:
    """Invite through the pages (login fresh: no re-authentication); the invitation id."""
    form = page("/ombud/bjud-in")
    sent = client.post("/ombud/bjud-in", data=fill(form, display(invitee.national_id, invitee.country),
                                                   scopes), follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/ombud/bjud-in/bekrafta"
    confirm = page("/ombud/bjud-in/bekrafta")
    done = client.post("/ombud/bjud-in/bekrafta", data=hidden(confirm, "/ombud/bjud-in/bekrafta"),
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/ombud"
    return invitations_of(client, inviter.id)[-1].id


def switch(client, who: Who) -> None:
    client.cookies.clear()
    sign_in(client, who)


# --- the page, for each kind of basis ----------------------------------------------------------


def test_the_person_sees_everyone_who_acts_for_them_and_why(client, page):
    person = new_person(client, prefix="Rp")
    god_man, proxy, old, suomi = (new_person(client, prefix=p) for p in ("Rg", "Rx", "Ro", "Rs"))
    add_rep(client, god_man, person, "legal_representative", source="court",
            appointment="god_man", scope="plan:read consent")
    proxy_rep = add_rep(client, proxy, person, valid_to=today_in() + timedelta(days=30))
    add_rep(client, old, person, ended=True)
    add_rep(client, suomi, person, source="suomi_fi")
    sign_in(client, person)
    shown = page("/ombud")
    assert shown.h1 == H1
    now = shown.text('section[aria-labelledby="now-title"]')
    assert god_man.name in now and "God man. Tingsrätten har utsett hen." in now
    assert "läsa planen" in now and "svara om samtycke" in now
    assert "Uppdraget kan du inte ändra här." in now
    assert proxy.name in now and "Fullmakt. Du har själv valt att ge den." in now
    assert "till och med" in now
    assert "Suomi.fi-fullmakt. Du har gett den i Suomi.fi." in now
    assert "Du ändrar eller tar bort den i Suomi.fi." in now
    # Only the proxy the person chose here can be ended here.
    ends = [a["href"] for a in shown.select('section[aria-labelledby="now-title"] a')]
    assert ends == [f"/ombud/fullmakter/{proxy_rep}/avsluta"]
    assert old.name not in now
    earlier = shown.text('section[aria-labelledby="earlier-title"]')
    assert old.name in earlier and "Fullmakten avslutades" in earlier
    # The menu leads here.
    assert shown.select_one('nav a[href="/ombud"]') is not None


def test_guardians_and_the_child_read_the_age_limit_in_words(client, page):
    born = today_in() - timedelta(days=6 * 365)
    child = new_person(client, born=born, prefix="Rc")
    parent = new_person(client, prefix="Rf")
    add_rep(client, parent, child, "guardian", source="population_register",
            scope="plan:read consent requests messages log:read", valid_from=born)
    limit = guardian_age_limit("SE")
    sign_in(client, child)
    own = page("/ombud").text('section[aria-labelledby="now-title"]')
    assert parent.name in own
    assert "Vårdnadshavare. Det står i folkbokföringen hos Skatteverket." in own
    assert f"Dina vårdnadshavare kan använda tjänsten åt dig tills du fyller {limit}." in own
    assert "Vårdnaden kan du inte ändra här." in own
    assert "Avsluta" not in own

    switch(client, parent)
    mine = page("/ombud").text('section[aria-labelledby="mine-title"]')
    assert child.name in mine
    assert f"Du kan använda tjänsten för {child.given_name} tills {child.given_name} fyller {limit}" in mine
    # Acting for the child: what the parent may do, read-only, nothing about anyone else.
    token = page("/").csrf()
    client.post("/vem", data={"csrf_token": token, "person": child.id})
    acting = page("/ombud")
    assert acting.h1 == f"Det här kan du göra för {child.given_name}"
    assert f"Du är vårdnadshavare för {child.given_name}." in acting.text()
    assert "skicka och läsa meddelanden" in acting.text()
    assert acting.select('a[href^="/ombud/fullmakter/"]') == []
    assert "representation.viewed" in actions(client, child.id)
    # A representative cannot invite for the person.
    assert client.get("/ombud/bjud-in").status_code == 403


def test_finland_swedish_speaks_of_intressebevakare_and_befolkningsdatasystemet(client, page):
    person = new_person(client, country="FI", prefix="Rq")
    bevakare = new_person(client, country="FI", prefix="Rb")
    add_rep(client, bevakare, person, "legal_representative", source="court",
            appointment="intressebevakare", scope="plan:read")
    sign_in(client, person)
    client.get("/sprak/sv-FI?next=/")
    shown = page("/ombud")
    assert "Intressebevakare. Hen har förordnats av tingsrätten" in shown.text()
    assert "god man" not in shown.text().lower()
    assert "Personbeteckning" in page("/ombud/bjud-in").text()


# --- inviting ----------------------------------------------------------------------------------


def test_invite_with_reauthentication_accept_and_end(app, client, page):
    viola, johan = new_person(client, prefix="Iv"), new_person(client, prefix="Ij")
    sign_in(client, viola)
    age_login(client)
    form = page("/ombud/bjud-in")
    assert form.h1 == INVITE_H1
    sent = client.post("/ombud/bjud-in", data=fill(form, display(johan.national_id, "SE")),
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == REAUTH
    assert invitations_of(client, viola.id) == []  # nothing before the confirmation
    callback = reauthenticate(client, viola.given_name, REAUTH)
    assert callback.headers["location"] == "/ombud/bjud-in/bekrafta"
    confirm = page("/ombud/bjud-in/bekrafta")
    # Only the birth date is shown back; the number is in no page, form or URL.
    assert johan.national_id not in confirm.response.text
    assert johan.national_id[8:] not in confirm.response.text
    assert "läsa planen" in confirm.text() and "skicka och läsa meddelanden" in confirm.text()
    done = client.post("/ombud/bjud-in/bekrafta", data=hidden(confirm, "/ombud/bjud-in/bekrafta"),
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/ombud"
    assert johan.national_id not in done.headers["location"]
    [invitation] = invitations_of(client, viola.id)
    assert invitation.status == "pending" and invitation.scopes == {"plan:read", "messages"}
    overview = page("/ombud")
    assert "Inbjudan är skickad." in flashes(overview)
    assert overview.select(f'a[href="/ombud/inbjudningar/{invitation.id}/ta-tillbaka"]')
    assert {"proxy_invitation.prepared", "proxy_invitation.created"} <= set(actions(client, viola.id))

    # Johan hears that he has an invitation, without a name in the notice.
    assert [m.template for m in outbox_of(client, johan.id)] == ["proxy_invited"]
    # Nothing is shared before Johan accepts.
    switch(client, johan)
    assert viola.name not in page("/vem").text()
    start = page("/")
    assert "Du har en inbjudan" in start.text()
    assert f"{viola.name} vill att du ska kunna använda tjänsten åt hen." in start.text()
    answer = page(f"/ombud/inbjudningar/{invitation.id}")
    assert "läsa planen" in answer.text()
    accepted = client.post(f"/ombud/inbjudningar/{invitation.id}",
                           data={**hidden(answer, f"/ombud/inbjudningar/{invitation.id}"),
                                 "decision": "accept"}, follow_redirects=False)
    assert accepted.status_code == 303
    [rep] = proxies(client, johan.id, viola.id)
    assert (rep.kind, rep.source, rep.scopes) == ("proxy", "invitation", {"plan:read", "messages"})
    assert rep.valid_from == today_in()
    assert viola.name in page("/vem").text()
    # Twice (another tab): nothing more, and it says what happened.
    again = client.post(f"/ombud/inbjudningar/{invitation.id}",
                        data={**hidden(answer, f"/ombud/inbjudningar/{invitation.id}"),
                              "decision": "decline"}, follow_redirects=True)
    assert "Du har redan svarat på inbjudan." in again.text
    assert "Du har tackat ja" in again.text
    assert len(proxies(client, johan.id, viola.id)) == 1
    assert invitations_of(client, viola.id)[0].status == "accepted"
    assert "proxy_invitation.accepted" in actions(client, viola.id)

    # Johan acts for Viola; Viola ends the proxy in her own browser meanwhile.
    client.post("/vem", data={"csrf_token": page("/").csrf(), "person": viola.id})
    stale = page("/installningar")
    with TestClient(app, base_url=BASE_URL) as other:
        sign_in(other, viola)
        listing = Page(other.get("/ombud"))
        assert johan.name in listing.text('section[aria-labelledby="now-title"]')
        url = f"/ombud/fullmakter/{rep.id}/avsluta"
        confirm = Page(other.get(url))
        assert confirm.h1 == f"Vill du avsluta fullmakten för {johan.name}?"
        ended = other.post(url, data=hidden(confirm, url), follow_redirects=False)
        assert ended.status_code == 303
        assert f"{johan.name} kan inte längre använda tjänsten för dig" in other.get("/ombud").text
        twice = other.post(url, data=hidden(confirm, url), follow_redirects=True)
        assert "Fullmakten var redan avslutad." in twice.text
        earlier = Page(other.get("/ombud")).text('section[aria-labelledby="earlier-title"]')
        assert johan.name in earlier
    assert proxies(client, johan.id, viola.id)[0].ended_by == viola.id
    assert [m.template for m in outbox_of(client, johan.id)] == ["proxy_invited", "proxy_ended"]
    assert "representation.ended" in actions(client, viola.id)

    # Johan's next POST, from the page he had open, saves nothing and lands on a plain page.
    data = {**hidden(stale, "/installningar"), "channel": "email", "email": "x@example.invalid"}
    posted = client.post("/installningar", data=data, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/"
    landed = page("/")
    said = flashes(landed)
    assert (f"{viola.given_name} har avslutat din fullmakt. Du kan inte längre använda "
            f"tjänsten för {viola.given_name}.") in said
    assert "Det du skickade sparades inte." in said
    assert not landed.select(".acting-banner")


def test_a_proxy_ended_mid_session_is_told_on_the_next_get_and_htmx(client, page):
    person, proxy = new_person(client, prefix="Mp"), new_person(client, prefix="Mx")
    rep = add_rep(client, proxy, person)
    sign_in(client, proxy)
    client.post("/vem", data={"csrf_token": page("/").csrf(), "person": person.id})
    assert person.name in page("/plan").text(".acting-banner")

    async def end(db):
        found = await db.get(Representation, rep)
        found.ended_at, found.ended_by = datetime.now(UTC), person.id
        db.add(found)

    db_run(client, end)
    shown = page("/plan")
    assert f"{person.given_name} har avslutat din fullmakt." in flashes(shown)
    assert not shown.select(".acting-banner")

    # htmx: the whole tab goes to the start page, which says it.
    rep2 = add_rep(client, proxy, person)
    client.post("/vem", data={"csrf_token": page("/").csrf(), "person": person.id})

    async def end_again(db):
        found = await db.get(Representation, rep2)
        found.ended_at, found.ended_by = datetime.now(UTC), person.id
        db.add(found)

    db_run(client, end_again)
    fragment = client.get("/plan", headers={"HX-Request": "true"})
    assert fragment.headers.get("hx-redirect") == "/"
    assert "har avslutat din fullmakt" in flashes(page("/"))


def test_a_protected_persons_name_is_not_said_when_the_proxy_ends(client, page):
    person, proxy = new_person(client, prefix="Pp"), new_person(client, prefix="Px")
    protect(client, person)
    rep = add_rep(client, proxy, person)  # added with staff involvement
    sign_in(client, proxy)
    client.post("/vem", data={"csrf_token": page("/").csrf(), "person": person.id})

    async def end(db):
        found = await db.get(Representation, rep)
        found.ended_at, found.ended_by = datetime.now(UTC), person.id
        db.add(found)

    db_run(client, end)
    shown = page("/")
    assert "Personen har avslutat din fullmakt." in flashes(shown)
    assert person.given_name not in shown.response.text


def test_every_validation_error_is_plain_and_the_typed_value_is_shown_again(client, page):
    viola = new_person(client, prefix="Vv")
    sign_in(client, viola)
    form = page("/ombud/bjud-in")
    wrong = "19121212-1213"
    cases = [
        (fill(form, wrong), "Personnumret stämmer inte. Kontrollera siffrorna och försök igen."),
        (fill(form, display(viola.national_id, "SE")),
         "Det är ditt eget personnummer. Skriv numret för den du vill bjuda in."),
        (fill(form, "19121212-1212", scopes=()), "Välj minst en sak som personen får göra."),
        (fill(form, "19121212-1212", valid_to=(today_in() - timedelta(days=1)).isoformat()),
         "Slutdatumet kan inte vara före i dag."),
        (fill(form, ""), "Skriv personnumret för den du vill bjuda in."),
        (fill(form, "١٢٣٤٥٦-١٢٣٤"), "Skriv personnumret med 12 siffror, till exempel 19121212-1212."),
    ]
    for data, message in cases:
        response = client.post("/ombud/bjud-in", data=data)
        assert response.status_code == 400, message
        shown = ErrorPage(response)
        assert shown.soup.title.get_text().startswith(f"Fel: {INVITE_H1}")
        assert message in errors(shown)
        assert shown.select_one("#number")["value"] == data["number"]
    assert invitations_of(client, viola.id) == []
    # A samordningsnummer is accepted wherever a personnummer is.
    coordination = swedish_with_check_digit("121272" + "921", "19")
    ok = client.post("/ombud/bjud-in", data=fill(form, f"{coordination[:8]}-{coordination[8:]}"),
                     follow_redirects=False)
    assert ok.status_code == 303


def test_finnish_numbers_are_checked_with_their_check_character(client, page):
    person = new_person(client, country="FI", prefix="Fp")
    sign_in(client, person)
    form = page("/ombud/bjud-in")
    good = finnish_with_check_character("010150", "-", "902")
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    response = client.post("/ombud/bjud-in", data=fill(form, bad))
    assert response.status_code == 400
    assert "Personbeteckningen stämmer inte. Kontrollera tecknen och försök igen." in errors(
        ErrorPage(response))
    ok = client.post("/ombud/bjud-in", data=fill(form, good), follow_redirects=False)
    assert ok.status_code == 303


def test_a_person_with_protected_personal_data_is_told_how_to_get_a_proxy(client, page):
    person, other = new_person(client, prefix="Sp"), new_person(client, prefix="So")
    protect(client, person)
    sign_in(client, person)
    shown = page("/ombud/bjud-in")
    assert shown.h1 == PROTECTED_H1
    assert "Kontakta din kontaktperson eller din mottagning." in shown.text()
    assert shown.select('form[action="/ombud/bjud-in"]') == []
    token = page("/").csrf()
    refused = client.post("/ombud/bjud-in", data={"csrf_token": token, "subject": person.id,
                                                  "number": display(other.national_id, "SE"),
                                                  "scope": "plan:read"})
    assert refused.status_code == 403 and PROTECTED_H1 in refused.text
    assert invitations_of(client, person.id) == []
    assert "proxy_invitation.refused" in actions(client, person.id)


def test_a_double_submit_makes_one_invitation(client, page):
    viola, johan = new_person(client, prefix="Dv"), new_person(client, prefix="Dj")
    sign_in(client, viola)
    form = page("/ombud/bjud-in")
    data = fill(form, display(johan.national_id, "SE"))
    client.post("/ombud/bjud-in", data=data)
    confirm = page("/ombud/bjud-in/bekrafta")
    fields = hidden(confirm, "/ombud/bjud-in/bekrafta")
    first = client.post("/ombud/bjud-in/bekrafta", data=fields, follow_redirects=False)
    second = client.post("/ombud/bjud-in/bekrafta", data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == "/ombud"
    assert "Inbjudan är redan skickad." in flashes(page("/ombud"))
    assert len(invitations_of(client, viola.id)) == 1
    # The same form sent again from the back button: still one.
    client.post("/ombud/bjud-in", data=data)
    client.post("/ombud/bjud-in/bekrafta", data=fields)
    assert len(invitations_of(client, viola.id)) == 1


def test_decline_and_withdraw_twice_and_only_the_invitee_sees_the_invitation(client, page):
    viola, johan, svea = (new_person(client, prefix=p) for p in ("Wv", "Wj", "Ws"))
    sign_in(client, viola)
    first = invite(client, page, viola, johan)
    url = f"/ombud/inbjudningar/{first}"
    # Not the inviter, nor anyone else: the same 404 as a made-up id.
    assert client.get(url).status_code == 404
    switch(client, svea)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": page("/").csrf(), "subject": svea.id,
                                  "decision": "accept"}).status_code == 404
    assert client.get(f"{url}/ta-tillbaka").status_code == 404
    switch(client, johan)
    answer = page(url)
    declined = client.post(url, data={**hidden(answer, url), "decision": "decline"},
                           follow_redirects=True)
    assert "Du har tackat nej." in declined.text
    assert proxies(client, johan.id, viola.id) == []
    missing = client.post(url, data=hidden(answer, url), follow_redirects=False)  # nothing more
    assert missing.status_code == 303

    switch(client, viola)
    second = invite(client, page, viola, johan)
    withdraw = f"/ombud/inbjudningar/{second}/ta-tillbaka"
    confirm = page(withdraw)
    assert confirm.h1 == "Vill du ta tillbaka inbjudan?"
    done = client.post(withdraw, data=hidden(confirm, withdraw), follow_redirects=True)
    assert "Du har tagit tillbaka inbjudan." in done.text
    again = client.post(withdraw, data=hidden(confirm, withdraw), follow_redirects=True)
    assert "Inbjudan gäller inte längre." in again.text
    assert [i.status for i in invitations_of(client, viola.id)] == ["declined", "withdrawn"]
    assert "proxy_invitation.withdrawn" in actions(client, viola.id)
    switch(client, johan)
    assert "Du har en inbjudan" not in page("/").text()
    gone = page(f"/ombud/inbjudningar/{second}")
    assert "Inbjudan har tagits tillbaka." in gone.text()
    assert client.post(f"/ombud/inbjudningar/{second}",
                       data={"csrf_token": gone.csrf(), "subject": johan.id, "decision": "accept"},
                       follow_redirects=False).status_code == 303
    assert proxies(client, johan.id, viola.id) == []


def test_an_accepted_invitation_replaces_the_earlier_proxy(client, page):
    viola, johan = new_person(client, prefix="Cv"), new_person(client, prefix="Cj")
    old = add_rep(client, johan, viola, scope="plan:read")
    sign_in(client, viola)
    invitation = invite(client, page, viola, johan, scopes=("plan:read", "requests"))
    switch(client, johan)
    url = f"/ombud/inbjudningar/{invitation}"
    client.post(url, data={**hidden(page(url), url), "decision": "accept"})
    reps = proxies(client, johan.id, viola.id)
    assert [r.id for r in reps if r.ended_at is not None] == [old]
    [current] = [r for r in reps if r.ended_at is None]
    assert current.scopes == {"plan:read", "requests"}


def test_an_invitation_past_its_end_date_or_from_a_now_protected_person_cannot_be_accepted(
        client, page):
    viola, johan = new_person(client, prefix="Ev"), new_person(client, prefix="Ej")
    sign_in(client, viola)
    first = invite(client, page, viola, johan)
    second = invite(client, page, viola, johan)

    async def expire(db):
        found = await db.get(ProxyInvitation, first)
        found.valid_to = today_in() - timedelta(days=1)
        db.add(found)

    db_run(client, expire)
    switch(client, johan)
    url = f"/ombud/inbjudningar/{first}"
    shown = page(url)
    assert "Inbjudan gäller inte längre." in shown.text()
    assert shown.select('button[name="decision"]') == []
    client.post(url, data={"csrf_token": shown.csrf(), "subject": johan.id, "decision": "accept"})
    assert proxies(client, johan.id, viola.id) == []
    protect(client, viola)
    assert "Du har en inbjudan" not in page("/").text()
    url = f"/ombud/inbjudningar/{second}"
    client.post(url, data={"csrf_token": page(url).csrf(), "subject": johan.id,
                           "decision": "accept"})
    assert proxies(client, johan.id, viola.id) == []
    assert viola.given_name not in page(url).response.text


# --- faults found by trying the pages as a new user -------------------------------------------


def test_a_child_cannot_be_invited_nor_invite(client, page):
    adult = new_person(client, prefix="Ca")
    child = new_person(client, prefix="Cc", born=today_in() - timedelta(days=17 * 365))
    sign_in(client, adult)
    form = page("/ombud/bjud-in")
    response = client.post("/ombud/bjud-in", data=fill(form, display(child.national_id,
                                                                     child.country)))
    assert response.status_code == 400
    refused = BeautifulSoup(response.text, "html.parser")
    assert errors(refused) == [("Personen är under 18 år. Du kan bara bjuda in någon som har "
                                "fyllt 18.")]
    assert invitations_of(client, adult.id) == []
    switch(client, child)
    shown = page("/ombud/bjud-in")
    assert shown.h1 == "Du kan inte bjuda in någon än"
    sent = client.post("/ombud/bjud-in", data={
        "csrf_token": page("/").csrf(), "subject": child.id, "scope": ["plan:read"],
        "number": display(adult.national_id, adult.country)}, follow_redirects=False)
    assert sent.status_code == 403 and invitations_of(client, child.id) == []
    assert "proxy_invitation.refused" in actions(client, child.id)


def test_the_confirm_page_says_an_invitation_replaces_what_the_proxy_has(client, page):
    person, proxy, other = (new_person(client, prefix=p) for p in ("Ra", "Rb", "Rc"))
    add_rep(client, proxy, person)
    sign_in(client, person)
    for invitee, warned in ((proxy, True), (other, False)):
        client.post("/ombud/bjud-in", data=fill(page("/ombud/bjud-in"), display(
            invitee.national_id, invitee.country)), follow_redirects=False)
        confirm = page("/ombud/bjud-in/bekrafta")
        assert ("Den här personen kan redan använda tjänsten åt dig."
                in confirm.response.text) is warned
        assert invitee.given_name not in confirm.response.text  # the number tells no name


def test_ending_a_protected_proxy_never_names_them_to_the_person(client, page):
    person, proxy = new_person(client, prefix="Ea"), new_person(client, prefix="Eb")
    rep = add_rep(client, proxy, person)
    protect(client, proxy)
    sign_in(client, person)
    url = f"/ombud/fullmakter/{rep}/avsluta"
    ended = client.post(url, data=hidden(page(url), url))
    assert "Fullmakten är avslutad." in ended.text
    assert proxy.given_name not in ended.text  # (every test person is a Provsson)


def test_waiting_invitations_say_to_whom_and_until_when(client, page):
    person, invitee = new_person(client, prefix="Wa"), new_person(client, prefix="Wb")
    sign_in(client, person)
    last_day = today_in() + timedelta(days=30)
    client.post("/ombud/bjud-in", data=fill(page("/ombud/bjud-in"), display(
        invitee.national_id, invitee.country), valid_to=last_day.isoformat()),
        follow_redirects=False)
    confirm = page("/ombud/bjud-in/bekrafta")
    client.post("/ombud/bjud-in/bekrafta", data=hidden(confirm, "/ombud/bjud-in/bekrafta"))
    from portal.core.i18n import format_date

    card = " ".join(page("/ombud").response.text.split())
    assert f"Till personen som är född {format_date(invitee_born(invitee), locale='sv')}." in card
    assert f"Sista dag: {format_date(last_day, locale='sv')}." in card


def invitee_born(who: Who) -> date:
    from portal.people.national_id import birth_date

    return birth_date(who.national_id, who.country)


def test_a_declined_invitation_is_not_called_a_proxy_in_the_log(client, page):
    person, invitee = new_person(client, prefix="Da"), new_person(client, prefix="Db")
    sign_in(client, person)
    invitation = invite(client, page, person, invitee)
    switch(client, invitee)
    url = f"/ombud/inbjudningar/{invitation}"
    client.post(url, data={**hidden(page(url), url), "decision": "decline"})
    switch(client, person)
    log = " ".join(page("/logg").response.text.split())
    assert f"{invitee.name}, inbjuden att bli ombud för dig" in log
    assert "ombud med fullmakt" not in log


def test_a_representative_reading_consent_and_versions_is_in_the_log(client, page):
    person, proxy = new_person(client, prefix="La"), new_person(client, prefix="Lb")
    add_rep(client, proxy, person, scope="plan:read consent")
    sign_in(client, proxy)
    client.post("/vem", data={"csrf_token": page("/").csrf(), "person": person.id})
    assert client.get("/samtycke").status_code == 200
    assert client.get("/samtycke/historik").status_code == 200
    logged = actions(client, person.id)
    assert logged.count("consent.read") == 1 and logged.count("consent.history_read") == 1


def test_logging_in_again_as_someone_else_changes_nothing(client, page):
    person, other = new_person(client, prefix="Ia"), new_person(client, prefix="Ib")
    sign_in(client, person)
    age_login(client)
    sent = client.post("/ombud/bjud-in", data=fill(page("/ombud/bjud-in"), display(
        other.national_id, other.country)), follow_redirects=False)
    assert sent.headers["location"] == REAUTH
    back = reauthenticate(client, other.name, REAUTH)
    assert back.headers["location"] == "/"
    start = page("/")
    assert f"Inloggad: {person.name}" in start.response.text
    assert "Du loggade in som en annan person. Inget har ändrats." in flashes(start)
    assert invitations_of(client, person.id) == []
