"""Helpers for the inbox tests: requests sent through the services, staff sessions, forms."""

from __future__ import annotations

from sqlmodel import col, select

from portal.audit.service import Actor
from portal.coordination import services
from portal.coordination.models import CoordinationRequest
from portal.people.models import Person, Unit
from tests.conftest import Page, login
from tests.factories import db_run

VC, SOC, AVD12, HAB = "se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12", "se-kalmar-hab"
VASA_HS, VASA_SOC = "fi-vasa-hs", "fi-vasa-soc"


def as_staff(client, given: str) -> None:
    client.cookies.clear()
    assert login(client, given, "staff").status_code == 303


def send_request(client, person_id: str, *codes: str, hard: str = "Jag orkar inte ringa alla.",
                 actor: Actor | None = None, answers: dict | None = None) -> CoordinationRequest:
    """A request about the person, sent by the person (or `actor`) to the units with `codes`,
    at the app clock's now."""
    now = client.app.state.clock.now()

    async def work(db):
        person = await db.get(Person, person_id)
        who = actor or Actor("person", person.id, "self")
        units = list((await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all())
        draft = await services.start_draft(db, person, who)
        await services.save_answers(db, draft, {"hard": hard, **(answers or {})}, now)
        return await services.send(db, draft, person, who, units, now)

    return db_run(client, work)


def reload_request(client, request_id: str) -> CoordinationRequest:
    async def work(db):
        return await db.get(CoordinationRequest, request_id)

    return db_run(client, work)


def form_data(page: Page, action_suffix: str) -> dict:
    """The hidden fields of the form whose action ends with `action_suffix`."""
    found = [f for f in page.select("form") if f.get("action", "").endswith(action_suffix)]
    assert found, f"no form ending in {action_suffix}"
    return {i["name"]: i.get("value", "") for i in found[0].select("input[type=hidden]")}


def inbox_rows(page: Page) -> list[str]:
    """The text of each inbox row."""
    return [" ".join(card.get_text(" ").split()) for card in page.select("#inbox-list .card")]
