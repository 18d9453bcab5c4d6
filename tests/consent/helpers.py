"""Helpers for the consent tests: fresh people in the shared test database, forms, sessions.

The demo database is shared by every test of a session, so tests that need a
known consent log create their own people (unique random given names; the
development identity provider lists every person, so they can log in).
"""

from __future__ import annotations

import json
import time

from bs4 import BeautifulSoup
from sqlmodel import col, func, select

from portal.audit.models import AuditEvent
from portal.consent.models import ConsentAct, ConsentEvent
from portal.notices.models import OutboxMessage
from tests.conftest import Page, check_page, choose_at_provider, login
from tests.factories import Who, db_run

FORBIDDEN_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"


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


def staff_form(page: Page) -> dict:
    form = page.select_one("form#form-field")
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
