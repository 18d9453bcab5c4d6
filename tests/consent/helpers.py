"""Helpers for the consent tests: fresh people in the shared test database, forms, sessions.

The demo database is shared by every test of a session, so tests that need a
known consent log create their own people (unique random given names; the
development identity provider lists every person, so they can log in).
"""

from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta

from bs4 import BeautifulSoup
from sqlmodel import col, func, select

from portal.audit.models import AuditEvent
from portal.consent.models import CareRelation, ConsentAct, ConsentEvent
from portal.notices.models import OutboxMessage
from portal.people.models import Person, Representation, StaffMember, Unit
from portal.people.national_id import finnish_with_check_character, swedish_with_check_digit
from portal.people.representation import ALL_SCOPES
from tests.conftest import Page, check_page, choose_at_provider, login

FORBIDDEN_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"


def db_run(client, work):
    """Run `work(db)` on the app's own event loop with the app's sessionmaker."""
    maker = client.app.state.sessionmaker

    async def go():
        async with maker() as db:
            result = await work(db)
            await db.commit()  # services only flush: the request's policy commits
            return result

    return client.blocking_portal.call(go)


@dataclass
class Who:
    id: str
    given_name: str
    family_name: str
    email: str | None
    national_id: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _who(person: Person) -> Who:
    return Who(person.id, person.given_name, person.family_name, person.email,
               person.national_id, person.country)


def _national_id(country: str, born: date) -> str:
    if country == "FI":
        sign = "A" if born.year >= 2000 else "-"
        return finnish_with_check_character(born.strftime("%d%m%y"), sign,
                                            str(random.randint(900, 999)))
    return swedish_with_check_digit(born.strftime("%y%m%d") + f"{random.randint(100, 979):03d}",
                                    str(born.year)[:2])


def new_person(client, *, country: str = "SE", born: date | None = None, email: bool = True,
               units: tuple[str, ...] = (), prefix: str = "Tp") -> Who:
    """A fresh person with care relations to the units with these codes."""
    async def work(db):
        while True:
            day = born or date(1950, 1, 1) + timedelta(days=random.randint(0, 14000))
            number = _national_id(country, day)
            exists = (await db.exec(select(Person).where(Person.national_id == number))).first()
            if exists is None:
                break
        given = prefix + secrets.token_hex(4)
        person = Person(national_id=number, given_name=given, family_name="Provsson",
                        birth_date=day, country=country,
                        email=f"{given.lower()}@example.invalid" if email else None)
        db.add(person)
        await db.flush()
        for code in units:
            unit = (await db.exec(select(Unit).where(Unit.code == code))).one()
            db.add(CareRelation(person_id=person.id, unit_id=unit.id))
        await db.commit()
        return _who(person)

    return db_run(client, work)


def represent(client, representative: Who, represented: Who, kind: str,
              scope: str = ALL_SCOPES, valid_from: date | None = None,
              valid_to: date | None = None) -> None:
    async def work(db):
        db.add(Representation(representative_id=representative.id, represented_id=represented.id,
                              kind=kind, scope=scope,
                              valid_from=valid_from or date.today() - timedelta(days=30),
                              valid_to=valid_to, source="population_register"
                              if kind == "guardian" else "person"))
        await db.commit()

    db_run(client, work)


def family(client, *, country: str = "SE", guardians: int = 2,
           units: tuple[str, ...] = ("se-kalmar-vc", "se-kalmar-soc")) -> tuple[Who, list[Who]]:
    """A young child and its guardians (all fresh)."""
    child = new_person(client, country=country, born=date.today() - timedelta(days=5 * 365),
                       email=False, units=units, prefix="Tc")
    parents = [new_person(client, country=country, prefix="Tg") for _ in range(guardians)]
    for parent in parents:
        represent(client, parent, child, "guardian",
                  valid_from=date.today() - timedelta(days=5 * 365))
    return child, parents


def unit_ids(client, *codes: str) -> list[str]:
    async def work(db):
        rows = (await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all()
        by_code = {u.code: u.id for u in rows}
        return [by_code[c] for c in codes]

    return db_run(client, work)


def unit_names(client, *codes: str) -> list[str]:
    async def work(db):
        rows = (await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all()
        by_code = {u.code: u.name for u in rows}
        return [by_code[c] for c in codes]

    return db_run(client, work)


def staff_named(client, given: str) -> tuple[str, str]:
    """(staff id, unit id) of a demo staff member."""
    async def work(db):
        staff = (await db.exec(select(StaffMember).where(StaffMember.given_name == given))).first()
        return staff.id, staff.unit_id

    return db_run(client, work)


def sign_in(client, who: Who | str, kind: str | None = None):
    """Log in as a fresh person (by unique given name) or a demo key / staff name."""
    name = who.given_name if isinstance(who, Who) else who
    if isinstance(who, Who):
        kind = "citizen"
    response = login(client, name, kind)
    assert response.status_code == 303, response.text
    return response


def act_for(client, page, person_id: str):
    """Choose on /vem to use the service for someone; returns the redirect."""
    token = page("/").csrf()
    return client.post("/vem", data={"csrf_token": token, "person": person_id},
                       follow_redirects=False)


def csrf(page) -> str:
    return page("/").csrf()


def consent_form(page: Page) -> dict:
    form = page.select_one("form#form-field")
    assert form is not None, "no consent form on the page"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def withdraw_forms(page: Page) -> list[dict]:
    """Each withdraw form on the page: hidden fields, units as a list."""
    found = []
    for form in page.select("form"):
        decision = form.select_one('input[name=decision]')
        if decision is None or decision.get("value") != "withdraw":
            continue
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")
                if i["name"] != "unit"}
        data["unit"] = [i["value"] for i in form.select("input[name=unit]")]
        found.append(data)
    return found


def checked_units(page: Page, selector: str = "form#form-field") -> set[str]:
    return {b["value"] for b in page.select(f"{selector} input[name=unit][checked]")}


def states_on_page(page: Page) -> dict[str, str]:
    """Unit name -> status tag text in 'Det här gäller nu'."""
    result = {}
    for row in page.select(".consent-state .summary-list__row"):
        key = row.select_one(".summary-list__key").get_text(" ", strip=True)
        tag = row.select_one(".tag").get_text(" ", strip=True)
        result[key] = tag
    return result


def error_page(response) -> Page:
    """A page with errors: its title starts with "Fel: ", otherwise the house checks hold."""
    soup = BeautifulSoup(response.text, "html.parser")
    title = soup.title.get_text().strip()
    assert title.startswith("Fel: "), title
    soup.title.string = title.removeprefix("Fel: ")
    check_page(soup)
    soup.title.string = title
    page = object.__new__(Page)
    page.response, page.soup = response, soup
    return page


def error_links(page: Page) -> list[str]:
    return [a["href"] for a in page.select(".error-summary a")]


def assert_error_links_to(page: Page, field: str):
    """The error summary links to the first input of `field` in the form (for "form", an
    error about the whole form, to the form's first input), and that field is in error.
    Returns the input."""
    form = page.select_one("form#form-field")
    assert form is not None, "no form on the page"
    if field == "form":
        first = form.select_one(":is(input:not([type=hidden]), select, textarea, button)")
    else:
        first = form.select_one(f'[name="{field}"]:not([type=hidden])')
    assert first is not None and first.get("id"), f"no input for {field}"
    links = error_links(page)
    assert f"#{first['id']}" in links, (field, links)
    if field != "form" and first.name != "button":
        assert first.get("aria-invalid") == "true", first
        fieldset = first.find_parent("fieldset")
        described = (fieldset if fieldset is not None else first).get("aria-describedby", "")
        errors = [page.soup.find(id=ref) for ref in described.split()]
        assert any(e is not None and "field__error" in e.get("class", []) for e in errors), \
            f"{field}: no error message in aria-describedby={described!r}"
    return first


def age_login(client, seconds: int = 600) -> None:
    """Make the signed-in session's login older than `seconds`."""
    store = client.app.state.store
    key = f"session:{client.cookies.get('sip_session')}"

    async def go():
        data = json.loads(await store.get(key))
        data["auth_time"] = time.time() - seconds
        await store.set(key, json.dumps(data), expires_in=client.app.state.settings.idle_timeout)

    client.blocking_portal.call(go)


def session_data(client) -> dict:
    store = client.app.state.store
    key = f"session:{client.cookies.get('sip_session')}"

    async def go():
        return json.loads(await store.get(key))

    return client.blocking_portal.call(go)


def set_session(client, **changes) -> None:
    store = client.app.state.store
    key = f"session:{client.cookies.get('sip_session')}"

    async def go():
        data = json.loads(await store.get(key))
        data.update(changes)
        await store.set(key, json.dumps(data), expires_in=client.app.state.settings.idle_timeout)

    client.blocking_portal.call(go)


def reauthenticate(client, who: str, location: str):
    """Follow a re-authentication redirect through the development provider."""
    start = client.get(location, follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert "prompt=login" in authorize and "max_age=0" in authorize
    choice = choose_at_provider(client, authorize, who)
    callback = client.get(choice.headers["location"], follow_redirects=False)
    assert callback.status_code == 303, callback.text
    return callback


def acts_of(client, person_id: str) -> list[ConsentAct]:
    async def work(db):
        return list((await db.exec(select(ConsentAct).where(ConsentAct.person_id == person_id)
                                   .order_by(col(ConsentAct.recorded_at)))).all())

    return db_run(client, work)


def events_of(client, person_id: str) -> list[ConsentEvent]:
    async def work(db):
        return list((await db.exec(select(ConsentEvent).where(ConsentEvent.person_id == person_id)
                                   .order_by(col(ConsentEvent.seq)))).all())

    return db_run(client, work)


def outbox_of(client, person_id: str) -> list[OutboxMessage]:
    async def work(db):
        return list((await db.exec(select(OutboxMessage).where(
            OutboxMessage.person_id == person_id).order_by(col(OutboxMessage.created_at)))).all())

    return db_run(client, work)


def audit_of(client, person_id: str, action: str | None = None) -> list[AuditEvent]:
    async def work(db):
        query = select(AuditEvent).where(AuditEvent.subject_person_id == person_id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list((await db.exec(query.order_by(col(AuditEvent.id)))).all())

    return db_run(client, work)


def count_acts(client) -> int:
    async def work(db):
        return (await db.exec(select(func.count()).select_from(ConsentAct))).one()

    return db_run(client, work)


def decide_directly(client, person_id: str, decision: str, codes: tuple[str, ...] = (), *,
                    actor_id: str | None = None, role: str = "self",
                    given_by: str | None = None) -> str:
    """Store a consent act through the service (not HTTP); return the act id."""
    from portal.audit.service import Actor
    from portal.consent import services
    from portal.consent.forms import new_key

    async def work(db):
        person = await db.get(Person, person_id)
        ids = [u.id for u in (await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all()]
        seq = (await services.overview(db, person, date.today())).seq
        outcome = await services.decide(
            db, person=person, actor=Actor("person", actor_id or person_id, role),
            given_by=given_by or person_id, decision=decision, unit_ids=ids,
            idempotency_key=new_key(), seen_seq=seq, locale="sv", today=date.today())
        return outcome.act.id

    return db_run(client, work)


def staff_form(page: Page) -> dict:
    form = page.select_one("form#form-field")
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
