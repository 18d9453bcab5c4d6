"""Every statement the key pages and the outbox worker's round send is served by an index.

PostgreSQL only. A database of its own gets the demo (with its stories) and 1 000
generated persons (bench/generate.py: tens of consent events each, plans with versions,
requests, long threads, hash-chained audit, outbox) and is ANALYZEd. The statements the
key pages run, for a citizen, a guardian acting for a child and staff members, are
captured (`before_cursor_execute`) and EXPLAINed with `enable_seqscan = off` (and joins by
nested loop only): the planner
then takes any index that can serve the query however small the table, so a "Seq Scan"
left on a large table (or an index scan with no index condition, a whole-table read in
index order) means that no index can, and at 100 000 persons the page would read the
whole table. The worker's round (slipped follow-ups) is checked the same way, and
against the old rule: reading every active plan finds the same follow-ups.

Exempt, small by nature: `unit` (the actors of one region or well-being services
county: hundreds), `consent_wording` (one row per wording version and language variant)
and `alembic_version`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import event

from portal.config import Settings
from portal.core.migrate import upgrade
from portal.people.demo import load_demo
from tests.conftest import BASE_URL, PG_ENV, _postgres_database, build_app, run_db

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV),
                                reason=f"query plans are PostgreSQL's: set {PG_ENV}")

LARGE = {"person", "representation", "care_relation", "consent_act", "consent_event", "plan",
         "plan_version", "plan_seen", "coordination_request", "request_unit", "request_event",
         "coordination_meeting", "internal_note", "message_thread", "message", "audit_event",
         "outbox_message", "login_identity", "proxy_invitation", "staff_member"}
CITIZEN_PAGES = ["/", "/plan", "/plan/versioner", "/samtycke", "/samtycke/historik", "/arenden",
                 "/meddelanden", "/logg", "/mina-uppgifter"]
STAFF_PAGES = ["/", "/personal/inkorg", "/personal/personer"]
GENERATED = 1000
MANY = 300
# No sequential scans, and joins by nested loop: then every join reads its inner table
# through an index when one can serve it (a hash join may otherwise read a whole
# 10 000-row table of the test because a tenth of it is wanted).
PLANNER = "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off"


@pytest.fixture(scope="module")
def big_database():
    from bench.generate import generate

    for url in _postgres_database(os.environ[PG_ENV]):
        upgrade(url)

        run_db(url, load_demo)
        # Units with a realistic share of everyone (1/30, not 1/4): the planner picks a
        # whole-table scan when a third of the rows match, which no real unit has.
        generate(url, GENERATED, seed=7, per_unit=30)
        yield url


@pytest.fixture(scope="module")
def big_app(big_database, dev_key_file):
    return build_app(Settings(base_url=BASE_URL, database_url=big_database, session_dir=":memory:",
                              allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                              login_rate_limit=1000))


def _rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    from bench.generate import _conninfo

    with psycopg.connect(_conninfo(url)) as conn:
        return conn.execute(sql, params).fetchall()


def _login(client: TestClient, kind: str, who_id: str) -> None:
    """The real flow through the development provider, naming the person by login_hint."""
    start = client.get(f"/auth/login/{kind}", follow_redirects=False)
    page = client.get(f"{start.headers['location']}&login_hint={who_id}")
    form = BeautifulSoup(page.text, "html.parser").select_one('form[action="/dev-idp/authorize"]')
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    choice = client.post("/dev-idp/authorize", data={**data, "who": who_id}, follow_redirects=False)
    assert choice.status_code == 303, choice.text
    callback = client.get(choice.headers["location"], follow_redirects=False)
    assert callback.status_code == 303 and "/auth/login" not in callback.headers["location"]


def _capture(app, client: TestClient, pages: list[str]) -> list[tuple[str, str, object]]:
    engine = app.state.sessionmaker.kw["bind"].sync_engine
    seen: list[tuple[str, str, object]] = []
    current = {"page": ""}

    def on_execute(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((current["page"], statement, parameters))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for path in pages:
            current["page"] = path
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return seen


def _seq_scans(node: dict, rows: dict[str, float]) -> set[str]:
    """Large tables read whole: a Seq Scan, or (what enable_seqscan = off turns it into
    when the table has any index at all) an index scan with no condition on the index.
    The second only where the test's table holds MANY rows: on a table of twenty rows
    the planner may walk any index whole, however good the others."""
    found = set()
    table = node.get("Relation Name")
    whole = node.get("Node Type") == "Seq Scan" or (
        node.get("Node Type") in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
        and rows.get(table, 0) >= MANY)
    if whole and table in LARGE:
        found.add(table)
    for child in node.get("Plans", []):
        found |= _seq_scans(child, rows)
    return found


def _explain(url: str, statements: list[tuple[str, str, object]]) -> list[str]:
    """"page: table: statement" for every statement with a sequential scan of a large table."""
    import psycopg

    from bench.generate import _conninfo

    problems = []
    with psycopg.connect(_conninfo(url)) as conn:
        rows = dict(conn.execute("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'").fetchall())
        conn.execute(PLANNER)
        for page, statement, parameters in statements:
            if "pg_advisory_xact_lock" in statement:
                continue
            (plan,), = conn.execute("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchall()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            for table in sorted(_seq_scans(plan[0]["Plan"], rows)):
                problems.append(f"{page}: {table}: {' '.join(statement.split())[:300]}")
                if os.environ.get("QUERY_PLANS_VERBOSE"):
                    text_plan = conn.execute("EXPLAIN " + statement, parameters).fetchall()
                    problems.append(" ".join(statement.split()) + "\n" + "\n".join(r[0] for r in text_plan))
            conn.rollback()
            conn.execute(PLANNER)
    return problems


def test_the_key_pages_read_large_tables_only_through_indexes(big_app, big_database):
    citizen, = _rows(big_database, """
        SELECT p.id FROM person p JOIN plan ON plan.person_id = p.id AND plan.status = 'active'
          AND plan.current_version >= 2
        JOIN message_thread t ON t.person_id = p.id
        WHERE NOT EXISTS (SELECT 1 FROM representation r WHERE r.representative_id = p.id)
          AND NOT p.protected_identity AND p.birth_date < now() - interval '18 years'
        ORDER BY p.id LIMIT 1""")
    guardian, child, child_name = _rows(big_database, """
        SELECT representative_id, represented_id, c.given_name FROM representation
        JOIN plan ON plan.person_id = represented_id JOIN person c ON c.id = represented_id
        WHERE kind = 'guardian' AND c.birth_date > now() - interval '12 years'
        ORDER BY 1 LIMIT 1""")[0]
    staff = [row[0] for row in _rows(big_database, """
        SELECT s.id FROM staff_member s JOIN care_relation c ON c.unit_id = s.unit_id
        GROUP BY s.id ORDER BY count(*) DESC, s.id LIMIT 1""")]
    staff += [row[0] for row in _rows(big_database, "SELECT id FROM staff_member WHERE given_name = 'Anna'")]
    statements = []
    with TestClient(big_app, base_url=BASE_URL) as client:
        _login(client, "citizen", citizen[0])
        statements += _capture(big_app, client, CITIZEN_PAGES)
        client.cookies.clear()
        _login(client, "citizen", guardian)
        token = BeautifulSoup(client.get("/").text, "html.parser").select_one("input[name=csrf_token]")
        chosen = client.post("/vem", data={"csrf_token": token["value"], "person": child},
                             follow_redirects=False)
        assert chosen.status_code == 303, chosen.text
        assert child_name in client.get("/plan").text  # acting for the child
        statements += [(f"guardian {p}", s, a) for p, s, a in _capture(big_app, client, CITIZEN_PAGES[:-1])]
        for member in staff:
            client.cookies.clear()
            _login(client, "staff", member)
            statements += [(f"staff {p}", s, a) for p, s, a in _capture(big_app, client, STAFF_PAGES)]
    assert len(statements) > 60  # every page was captured
    problems = _explain(big_database, statements)
    assert not problems, "sequential scans of large tables:\n" + "\n".join(problems)


def test_the_worker_round_finds_every_slipped_follow_up_through_an_index(big_app, big_database):
    from portal.core.clock import local_date
    from portal.plans import content as plan_content
    from portal.plans.calendar import follow_up_start
    from portal.plans.follow_ups import check_follow_ups, slipped

    now = datetime.now(UTC) + timedelta(days=1)

    async def old_rule_and_new(db):
        """The rule before the index: every active plan's current version read."""
        from sqlmodel import select

        from portal.people.models import Person
        from portal.plans.models import Plan, PlanVersion

        rows = (await db.exec(select(Plan, PlanVersion, Person)
                              .join(PlanVersion, (PlanVersion.plan_id == Plan.id)
                                    & (PlanVersion.number == Plan.current_version))
                              .join(Person, Person.id == Plan.person_id)
                              .where(Plan.status == "active"))).all()
        expected = set()
        for plan, version, person in rows:
            start = follow_up_start(plan_content.load(version.content), person)
            if start and start.date() < local_date(now, person) and version.published_at < start:
                expected.add(plan.id)
        return expected, {s.plan.id for s in await slipped(db, now)}

    async def round_(db):
        return await check_follow_ups(db, now)

    def run(work):
        return run_db(big_database, work)

    expected, found = run(old_rule_and_new)
    assert len(expected) >= 10 and found == expected
    engine_statements: list[tuple[str, str, object]] = []

    def on_execute(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            engine_statements.append(("worker round", statement, parameters))

    from sqlalchemy.engine import Engine
    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        told = run(round_)
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
    assert told >= 10  # one notice per slipped follow-up with a coordinator who has e-mail
    assert run(round_) == 0  # told once
    assert engine_statements
    problems = _explain(big_database, engine_statements)
    assert not problems, "sequential scans of large tables:\n" + "\n".join(problems)


def test_the_generated_data_is_what_the_app_would_have_written(big_database):
    """The audit chains verify, the national ids are valid (and none is a demo person's),
    every person's consent events count 1, 2, 3 ... and every plan's versions do too."""
    from stdnum.fi import hetu
    from stdnum.se import personnummer

    from portal.audit.service import verify_chains
    from portal.people.demo import PEOPLE

    assert run_db(big_database, verify_chains) == []
    demo = {number for _, _, _, number, _, _ in PEOPLE.values()}
    ids = _rows(big_database, "SELECT national_id, country FROM person")
    assert len(ids) >= GENERATED and len({n for n, _ in ids}) == len(ids)
    for number, country in ids:
        assert (hetu.is_valid(number, allow_temporary=True) if country == "FI"
                else personnummer.is_valid(number)), number
    assert len([n for n, _ in ids if n in demo]) == len(demo)  # only the demo's own rows
    gaps = _rows(big_database, """
        SELECT count(*) FROM (SELECT person_id, max(seq) AS top, count(*) AS n
                              FROM consent_event GROUP BY person_id) s WHERE top != n""")
    versions = _rows(big_database, """
        SELECT count(*) FROM plan WHERE current_version !=
            (SELECT count(*) FROM plan_version v WHERE v.plan_id = plan.id)""")
    assert gaps == [(0,)] and versions == [(0,)]
