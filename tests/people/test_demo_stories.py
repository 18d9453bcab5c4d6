"""The demo tells the seeds' stories: consent, plans in plain words, follow-ups."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlmodel import func, select

from portal.audit.models import AuditEvent
from portal.audit.service import verify_chains
from portal.consent import services as consent
from portal.consent.models import ConsentAct
from portal.core.db import make_async_engine, make_sessionmaker
from portal.core.migrate import upgrade
from portal.people.demo import load_demo
from portal.people.models import Person, Unit
from portal.people.stories import plan_texts, stories
from portal.plans import content as plan_content
from portal.plans import services as plans
from portal.plans.models import Plan, PlanVersion
from portal.plans.readability import TARGET, analyse

FINLAND = ("klientplan", "egen kontaktperson", "sjukskötare", "hälsostation")


@pytest.mark.parametrize("story", stories(), ids=lambda s: s.person)
def test_every_demo_plan_text_reads_easily(story):
    for number, version in enumerate(story.versions, start=1):
        for text in plan_texts(version):
            lix = analyse(text).lix
            assert lix < TARGET, f"{story.person} v{number}: LIX {lix}: {text}"
        whole = " ".join(plan_texts(version))
        assert analyse(whole).lix < TARGET


def test_finnish_plans_use_finnish_words():
    finnish = [s for s in stories() if s.locale == "sv_FI"]
    assert {s.person for s in finnish} == {"elsa", "bertil", "wilma"}
    words = " ".join(str(v).lower() for s in finnish for v in s.versions)
    for word in ("egen kontaktperson", "sjukskötare", "hälsostation"):
        assert word in words
    assert "sjuksköterska" not in words and "vårdcentral" not in words
    assert "socialtjänst" not in words


@pytest.fixture(scope="module")
def fresh_demo(tmp_path_factory):
    """A database of its own: the stories as `make run` shows them, before any test."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    upgrade(url)

    async def go():
        engine = make_async_engine(url)
        maker = make_sessionmaker(engine)
        async with maker() as db:
            ids = await load_demo(db)
        async with maker() as db:
            counts_before = await _counts(db)
        async with maker() as db:
            again = await load_demo(db)
        async with maker() as db:
            facts = await _facts(db, ids)
            facts["counts"] = (counts_before, await _counts(db))
            facts["ids_again"] = again == ids
            facts["broken"] = await verify_chains(db)
        await engine.dispose()
        return facts

    return asyncio.run(go())


async def _counts(db) -> tuple[int, ...]:
    return tuple([(await db.exec(select(func.count()).select_from(model))).one()
                  for model in (Person, ConsentAct, Plan, PlanVersion, AuditEvent)])


async def _facts(db, ids) -> dict:
    names = {u.id: u.code for u in (await db.exec(select(Unit))).all()}
    facts: dict = {}
    for key in ("viola", "peter", "ylva", "elsa", "bertil", "wilma", "johan", "amina"):
        person = await db.get(Person, ids[key])
        overview = await consent.overview(db, person, date.today())
        plan = await plans.active_plan(db, person.id)
        versions = await plans.versions(db, plan.id) if plan else []
        newest = max(versions, key=lambda v: v.number) if versions else None
        current = plan_content.load(newest.content) if newest else None
        facts[key] = {
            "active": sorted(names[u.id] for u in overview.active_units),
            "withdrawn": sorted(names[u] for u, s in overview.states.items()
                                if s.status == "withdrawn"),
            "versions": len(versions),
            "follow_up": current["follow_up"] if current else None,
            "acts": [(a.decision, a.given_by_id) for a in (await db.exec(
                select(ConsentAct).where(ConsentAct.person_id == person.id)
                .order_by(ConsentAct.recorded_at))).all()],
        }
    from portal.coordination.models import CoordinationRequest
    from portal.messages.models import Message, Thread

    facts["requests"] = [(r.status, r.author_id, r.assigned_to is not None) for r in (await db.exec(
        select(CoordinationRequest).where(CoordinationRequest.person_id == ids["viola"]))).all()]
    threads = (await db.exec(select(Thread).where(Thread.person_id == ids["peter"]))).all()
    facts["threads"] = [(t.waiting_for, [m.author_type for m in (await db.exec(
        select(Message).where(Message.thread_id == t.id).order_by(Message.created_at))).all()])
        for t in threads]
    facts["ids"] = ids
    return facts


def test_loading_twice_adds_nothing(fresh_demo):
    before, after = fresh_demo["counts"]
    assert before == after
    assert fresh_demo["ids_again"]


def test_the_stories_leave_the_audit_chains_intact(fresh_demo):
    assert fresh_demo["broken"] == []


def test_viola_has_a_followed_up_plan_and_withdrew_one_consent(fresh_demo):
    viola = fresh_demo["viola"]
    assert viola["versions"] == 2
    assert viola["active"] == ["se-kalmar-soc", "se-kalmar-vc"]
    assert viola["withdrawn"] == ["se-lsk-avd12"]
    assert [d for d, _ in viola["acts"]] == ["give", "withdraw"]
    assert viola["follow_up"]["date"] > date.today().isoformat()


def test_peter_plan_was_made_with_his_god_man(fresh_demo):
    peter, ids = fresh_demo["peter"], fresh_demo["ids"]
    assert peter["versions"] == 1
    assert peter["acts"] == [("give", ids["karin"])]
    assert peter["active"] == ["se-kalmar-soc", "se-kalmar-vc"]


def test_both_of_ylvas_guardians_consented(fresh_demo):
    ylva, ids = fresh_demo["ylva"], fresh_demo["ids"]
    assert {by for _, by in ylva["acts"]} == {ids["amina"], ids["yusuf"]}
    assert ylva["active"] == ["se-kalmar-hab", "se-kalmar-soc", "se-kalmar-vc"]
    assert ylva["versions"] == 1


@pytest.mark.parametrize("key", ["elsa", "bertil", "wilma"])
def test_the_finnish_people_have_plans(fresh_demo, key):
    assert fresh_demo[key]["versions"] == 1
    assert fresh_demo[key]["active"] == ["fi-vasa-hs", "fi-vasa-soc"]


@pytest.mark.parametrize("key", ["johan", "amina"])
def test_those_who_only_act_for_others_have_no_story_of_their_own(fresh_demo, key):
    assert fresh_demo[key]["versions"] == 0 and fresh_demo[key]["acts"] == []


def test_the_demo_has_a_request_in_progress_and_an_answered_question(fresh_demo):
    """Johan's request for Viola is taken by a contact person; Peter's question is answered."""
    ids = fresh_demo["ids"]
    assert fresh_demo["requests"] == [("assigned", ids["johan"], True)]
    assert fresh_demo["threads"] == [("person", ["person", "staff"])]


def test_the_demo_command_loads_the_stories_in_a_process_of_its_own(tmp_path):
    """`make run` as on a fresh clone: `portal migrate` and `portal demo` in new processes,
    which import only what the commands import (a table that only tests imported, such as
    the one a foreign key names, failed here once)."""
    from tests.processes import free_port, portal_env, run_command

    env = portal_env(tmp_path, free_port())
    run_command(["migrate"], env)
    out = run_command(["demo"], env)
    assert "18" in out and "loaded" in out, out
