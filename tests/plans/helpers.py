"""Helpers for the plan tests: fresh people with consent, staff sessions, editor forms."""

from __future__ import annotations

from sqlmodel import col, select

from portal.plans.models import Plan, PlanVersion
from tests.conftest import Page, login, url
from tests.consent.helpers import sign_in
from tests.factories import Who, db_run

VC, SOC, AVD12 = "se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12"
VASA_HS = "fi-vasa-hs"
NO_ACCESS_H1 = "Du kan inte se den här sidan"
NOT_FOUND_H1 = "Sidan finns inte"


def as_staff(client, given: str) -> None:
    client.cookies.clear()
    response = login(client, given, "staff")
    assert response.status_code == 303, response.text


def as_person(client, who: Who | str) -> None:
    client.cookies.clear()
    sign_in(client, who)


def forms(page: Page, suffix: str) -> list:
    return [f for f in page.select("form") if f.get("action", "").endswith(suffix)]


def hidden(page: Page, suffix: str) -> dict:
    found = forms(page, suffix)
    assert found, f"no form ending in {suffix}"
    return {i["name"]: i.get("value", "") for i in found[0].select("input[type=hidden]")}


def editor_url(client, person_id: str) -> str:
    return url(client.app, "plan_editor", person_id=person_id)


def section_url(client, person_id: str, section: str) -> str:
    return url(client.app, "plan_save_section", person_id=person_id, section=section)


def ensure_plan(client, page, person_id: str) -> Page:
    """Open the editor, creating the plan if there is none; return the editor page."""
    editor = page(editor_url(client, person_id))
    if not forms(editor, "/plan/publicera"):
        response = client.post(url(client.app, "plan_create", person_id=person_id), data={"csrf_token": editor.csrf()},
                               follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        editor = page(editor_url(client, person_id))
    return editor


def save(client, page, person_id: str, section: str, data: dict, status: int = 303):
    editor = page(editor_url(client, person_id))
    response = client.post(section_url(client, person_id, section),
                           data={**hidden(editor, f"/avsnitt/{section}"), **data},
                           follow_redirects=False)
    assert response.status_code == status, (response.status_code, response.text[:600])
    return response


def publish(client, page, person_id: str, status: int = 303):
    editor = page(editor_url(client, person_id))
    response = client.post(url(client.app, "plan_publish", person_id=person_id),
                           data=hidden(editor, "/plan/publicera"), follow_redirects=False)
    assert response.status_code == status, (response.status_code, response.text[:600])
    return response


def plans_of(client, person_id: str) -> list[Plan]:
    async def work(db):
        return list((await db.exec(select(Plan).where(Plan.person_id == person_id)
                                   .order_by(col(Plan.created_at)))).all())

    return db_run(client, work)


def versions_of(client, plan_id: str) -> list[PlanVersion]:
    async def work(db):
        return list((await db.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                   .order_by(col(PlanVersion.number)))).all())

    return db_run(client, work)


def published_plan(client, page, person: Who, staff: str = "Anna", **sections) -> Plan:
    """Create (as `staff`), fill text sections and publish; return the plan row."""
    as_staff(client, staff)
    ensure_plan(client, page, person.id)
    for name, value in sections.items():
        if name == "follow_up":
            save(client, page, person.id, "follow_up", value)
        else:
            save(client, page, person.id, name, {"text": value})
    publish(client, page, person.id)
    return next(p for p in plans_of(client, person.id) if p.status == "active")
