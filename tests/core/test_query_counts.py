"""SQL statements per key page: a stated ceiling, and no growth with the data.

A signed-in request uses one database session (one connection checkout) and a
handful of statements; the number must not grow with the number of plan
versions, consent events, units or people. The ceilings are the measured counts
of issue 8 plus a little room; raise one only with a reason in the commit.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from tests.consent.helpers import act_for, sign_in
from tests.coordination.test_request_timeline import registered_by_anna as registered_request
from tests.factories import decide_directly, new_person, represent
from tests.plans.helpers import as_staff, ensure_plan, forms, hidden
from tests.shared_app import app, client, module_client, settings  # noqa: F401

VC, SOC, AVD12 = "se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12"

# page -> the most statements one GET may run (as measured after issue 8; before it:
# / 9 in 2 sessions, /plan 8 in 2, /samtycke 6 in 2, history 5+N in 2, staff list 6 per
# person, staff consent page 21+N in 2)
CEILING = {
    "/": 9,  # viewer, rights, invitations to the viewer, consent overview (3), plan with its
    # version, newest open request, new answers
    "/arenden": 4,  # viewer, requests, their staff authors, the draft
    "/plan": 7,  # viewer, plans (active and earlier), seen (+ its first insert), versions,
    # coordinator, publisher and staff contacts (one union), units
    "/samtycke": 4,  # viewer, consent overview (3: decisions, deciders, units near)
    "/samtycke/historik": 6,  # viewer, acts, events, units, staff and people named
    "/installningar": 2,  # viewer (the person's own settings are on the person)
    # viewer, actors, entries, months, then staff, people, staff systems (FHIR clients,
    # issue 13), representations, units, requests, threads named (one batch each)
    "/logg": 11,
    "proxy /logg": 15,  # + the right, and the access log of the read (lock, last hash, insert)
    "/ombud": 5,  # viewer, representatives, pending invitations, own rights, invitations to me
    "proxy /plan": 11,  # + the right, and the access log (lock, last hash, insert)
    "staff /personal/personer": 7,  # viewer, people, events, guardians, access log (3)
    "staff consent page": 12,  # viewer, person, overview (3), access log (3), history (4)
}


@dataclass
class Counted:
    statements: int = 0
    checkouts: int = 0


@contextmanager
def counting(app):
    engine = app.state.sessionmaker.kw["bind"].sync_engine
    counted = Counted()

    def on_execute(*_args, **_kwargs):
        counted.statements += 1

    def on_checkout(*_args, **_kwargs):
        counted.checkouts += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)


def measure(client, app, url: str) -> Counted:
    with counting(app) as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counted


def publish(client, page, person_id: str, times: int) -> None:
    """Publish `times` new versions of the person's plan through the staff editor."""
    for number in range(times):
        editor = ensure_plan(client, page, person_id)
        data = {**hidden(editor, "/plan/avsnitt/important"), "text": f"Version {number}."}
        assert client.post(forms(editor, "/plan/avsnitt/important")[0]["action"], data=data,
                           follow_redirects=False).status_code == 303
        editor = page(f"/personal/personer/{person_id}/plan")
        assert client.post(forms(editor, "/plan/publicera")[0]["action"],
                           data=hidden(editor, "/plan/publicera"),
                           follow_redirects=False).status_code == 303


def pages_for(client, page, app, person, proxy, staff_unit_people):
    """Statements per key page for `person` (and for staff Anna)."""
    counts = {}
    sign_in(client, person)
    for url in ("/", "/plan", "/samtycke", "/samtycke/historik", "/arenden", "/installningar",
                "/logg", "/ombud"):
        counts[url] = measure(client, app, url)
    client.cookies.clear()
    sign_in(client, proxy)
    act_for(client, page, person.id)
    counts["proxy /plan"] = measure(client, app, "/plan")
    counts["proxy /logg"] = measure(client, app, "/logg")
    client.cookies.clear()
    as_staff(client, "Anna")
    counts["staff /personal/personer"] = measure(client, app, "/personal/personer")
    counts["staff consent page"] = measure(client, app, f"/personal/personer/{person.id}/samtycke")
    return counts


@pytest.fixture
def person_with_history(client, page):
    person = new_person(client, units=(VC, SOC, AVD12), prefix="Qc")
    proxy = new_person(client, units=(), prefix="Qp")
    represent(client, proxy, person, "proxy")
    decide_directly(client, person.id, "give", (VC,))
    registered_request(client, person.id)
    as_staff(client, "Anna")
    publish(client, page, person.id, 1)
    client.cookies.clear()
    return person, proxy


def test_key_pages_use_one_session_and_few_statements(client, page, app, person_with_history):
    person, proxy = person_with_history
    counts = pages_for(client, page, app, person, proxy, None)
    report = {k: (v.statements, v.checkouts) for k, v in counts.items()}
    for name, ceiling in CEILING.items():
        statements, checkouts = report[name]
        assert checkouts == 1, f"{name}: {checkouts} sessions in one request ({report})"
        assert statements <= ceiling, f"{name}: {statements} statements > {ceiling} ({report})"


def test_statements_do_not_grow_with_versions_events_or_people(client, page, app,
                                                               person_with_history):
    person, proxy = person_with_history
    before = pages_for(client, page, app, person, proxy, None)
    # Ten more plan versions, twenty more consent events, three more people at the unit.
    as_staff(client, "Anna")
    publish(client, page, person.id, 10)
    for _ in range(10):
        decide_directly(client, person.id, "give", (SOC,))
        decide_directly(client, person.id, "withdraw", (SOC,))
    for _ in range(3):
        new_person(client, units=(VC,), prefix="Qx")
        registered_request(client, person.id)
    client.cookies.clear()
    after = pages_for(client, page, app, person, proxy, None)
    grown = {name: (before[name].statements, after[name].statements)
             for name in CEILING if after[name].statements > before[name].statements}
    assert not grown, f"statements grew with the data: {grown}"
