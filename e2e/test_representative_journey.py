"""Issue 11 on a phone, in both variants: Viola chooses who may act for her and sees who looked.

Viola invites Johan to read her plan and ask questions for her (after logging in again, as
for consent). Johan logs in, accepts, and reads her plan. Viola sees his read in "Vem har
tittat", ends his fullmakt, and Johan's next click tells him so in plain words. Viola then
downloads everything the portal stores about her: the readable document and the FHIR file,
which opens as a Bundle about her.

Johan has a fullmakt for Viola in the demo data; the journey starts by ending it in the
database (so the invitation is what gives him access) and gives it back afterwards, for the
journeys that follow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import Server, allow_console, check, open_menu
from playwright.sync_api import Page, expect
from test_consent_journeys import log_in

from portal.people.demo import PEOPLE
from portal.people.national_id import display

_SETUP = """
import asyncio
from datetime import UTC, date, datetime
from sqlmodel import select
from portal.config import get_settings
from portal.core.db import make_async_engine, make_sessionmaker
from portal.people.models import Person, Representation, StaffMember
from portal.people.representation import ALL_SCOPES
from portal.plans import content as plan_content, services as plans
from portal.plans.models import Plan, PlanVersion

async def main():
    engine = make_async_engine(get_settings().database_url)
    async with make_sessionmaker(engine)() as db:
        viola = (await db.exec(select(Person).where(Person.given_name == "Viola"))).one()
        johan = (await db.exec(select(Person).where(Person.given_name == "Johan"))).one()
        rights = (await db.exec(select(Representation).where(
            Representation.representative_id == johan.id,
            Representation.represented_id == viola.id,
            Representation.ended_at.is_(None)))).all()
        for right in rights:
            right.ended_at = datetime.now(UTC)
            right.ended_by = viola.id
            db.add(right)
        published = (await db.exec(select(Plan).where(Plan.person_id == viola.id,
                                                       Plan.current_version > 0))).first()
        if published is None:  # a plan for Johan to read (the demo here has people only)
            anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()
            plan = await plans.open_plan(db, viola.id) or await plans.create_plan(db, viola, anna)
            content = plan_content.load(plan.draft)
            content.update(coordinator_id=anna.id)
            plan = await plans.save_draft(db, plan, anna, plan.draft_revision, content)
            plan.current_version += 1
            plan.status = "active"
            plan.draft_revision += 1
            db.add(plan)
            db.add(PlanVersion(plan_id=plan.id, number=plan.current_version, content=plan.draft,
                               published_by=anna.id, published_at=datetime.now(UTC)))
        if RESTORE:
            db.add(Representation(representative_id=johan.id, represented_id=viola.id,
                                  kind="proxy", scope=ALL_SCOPES, valid_from=date(2026, 1, 15),
                                  source="person"))
        await db.commit()
    await engine.dispose()

asyncio.run(main())
"""


def johans_rights(portal_server: Server, *, restore: bool) -> None:
    """End every right Johan has for Viola; with `restore`, give back the demo's fullmakt."""
    portal_server.python(f"RESTORE = {restore}\n{_SETUP}")


def johans_number() -> str:
    number, country = PEOPLE["johan"][3:5]
    return display(number, country)


@pytest.fixture
def johan_without_rights(portal_server: Server):
    johans_rights(portal_server, restore=False)
    yield
    johans_rights(portal_server, restore=True)


@pytest.mark.parametrize("lang", ["sv", "sv-FI"])
def test_viola_invites_johan_sees_his_read_ends_it_and_takes_her_data(
        new_page, johan_without_rights, lang: str) -> None:
    viola: Page = new_page()
    johan: Page = new_page()

    # Viola invites Johan to read her plan and to ask questions for her.
    log_in(viola, "Viola Andersson", lang=lang)
    open_menu(viola).locator('a[href="/ombud"]').click()
    expect(viola).to_have_url(re.compile(r"/ombud$"))
    check(viola, f"representatives-{lang}")
    viola.locator('main a[href="/ombud/bjud-in"]').click()
    viola.locator('input[name="number"]').fill(johans_number())
    viola.locator('input[name="scope"][value="plan:read"]').check()
    viola.locator('input[name="scope"][value="messages"]').check()
    check(viola, f"invite-{lang}")
    viola.locator("main form button[type=submit]").click()
    # She logged in a moment ago: no new login is needed before she confirms.
    expect(viola).to_have_url(re.compile(r"/ombud/bjud-in/bekrafta$"))
    expect(viola.locator("main")).not_to_contain_text(johans_number())
    check(viola, f"invite-confirm-{lang}")
    viola.locator("main form button[type=submit]").click()
    expect(viola).to_have_url(re.compile(r"/ombud$"))
    expect(viola.locator('main a[href*="/ta-tillbaka"]')).to_have_count(1)

    # Johan finds the invitation when he logs in, accepts, and reads Viola's plan.
    log_in(johan, "Johan Andersson", lang=lang)
    johan.locator('main a[href^="/ombud/inbjudningar/"]').first.click()
    expect(johan.locator("main")).to_contain_text("Viola Andersson")
    check(johan, f"invitation-{lang}")
    johan.locator('main button[value="accept"]').click()
    johan.goto("/vem")
    johan.get_by_role("button", name=re.compile(r"^Viola Andersson\b")).click()
    expect(johan.locator(".acting-banner")).to_contain_text("Viola Andersson")
    open_menu(johan).locator('a[href="/plan"]').click()
    expect(johan).to_have_url(re.compile(r"/plan$"))
    expect(johan.get_by_role("heading", level=1)).not_to_contain_text("ingen")
    check(johan, f"plan-as-proxy-{lang}")
    # What he was not given stays closed: consent is not his to answer.
    allow_console(johan, r"/samtycke: Failed to load resource: .* 403")
    johan.goto("/samtycke")
    expect(johan.get_by_role("heading", level=1)).to_have_text("Det här kan du inte göra för Viola")
    johan.goto("/plan")

    # Viola sees Johan's read in the access log.
    open_menu(viola).locator('a[href="/logg"]').click()
    expect(viola).to_have_url(re.compile(r"/logg$"))
    read = viola.locator("li.log-entry", has_text="Läste planen.").first
    expect(read).to_contain_text("Johan Andersson")
    check(viola, f"access-log-{lang}")

    # Viola ends the fullmakt; Johan's next click says so, plainly.
    viola.goto("/ombud")
    viola.locator('main a[href*="/fullmakter/"][href$="/avsluta"]', has_text="Johan").click()
    check(viola, f"end-proxy-{lang}")
    viola.locator("main form button[type=submit]").click()
    expect(viola).to_have_url(re.compile(r"/ombud$"))
    expect(viola.locator('main a[href*="/fullmakter/"]', has_text="Johan")).to_have_count(0)

    johan.locator('header a[href="/"]').first.click()
    ended = {"sv": "Viola har avslutat din fullmakt.",
             "sv-FI": "Viola har tagit tillbaka din rätt att sköta ärenden åt hen."}[lang]
    expect(johan.locator("body")).to_contain_text(
        f"{ended} Du kan inte längre använda tjänsten för Viola.")
    expect(johan.locator(".acting-banner")).to_have_count(0)
    check(johan, f"proxy-ended-{lang}")

    # Viola takes her data: the readable document and the FHIR file, which opens.
    open_menu(viola).locator('a[href="/mina-uppgifter"]').click()
    check(viola, f"my-data-{lang}")
    with viola.expect_download() as download:
        viola.locator('main a[href="/mina-uppgifter/fhir.json"]').click()
    assert "19" not in download.value.suggested_filename  # no national id in the name
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "CarePlan", "CareTeam"} <= kinds
    [patient] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient["name"][0]["given"] == ["Viola"]
    viola.locator('main a[href="/mina-uppgifter/dokument"]').click()
    expect(viola.locator("main")).to_contain_text("Johan Andersson")
    check(viola, f"my-data-document-{lang}")
