"""SQL statements for the inbox and a request page: a stated ceiling, and no growth with the
number of requests (3 vs 30). The ceiling sits with the others' reasoning in
tests/core/test_query_counts.py: one session, a handful of statements."""

from __future__ import annotations

from tests.core.test_query_counts import counting
from tests.factories import new_person
from tests.inbox.helpers import VC, as_staff, send_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401

CEILING = {
    # viewer, requests and threads (each with person and assignee), slipped follow-ups (with
    # coordinators), access log (lock, last hashes, insert)
    "/personal/inkorg": 7,
    # viewer, request, addressed, person, access log (3), timeline, the person's consent
    # (decisions, deciders, units near: who may join a meeting), addressed units,
    # choices, units, notes, meetings, plan, (authors of other units)
    "request page": 18,
}


def _measure(client, app, url: str):
    """The statements of making the page (a kept page would cost one: it is dropped first)."""
    app.state.page_cache.clear()
    with counting(app) as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counted


def test_the_inbox_does_not_grow_with_the_requests(client, app):
    person = new_person(client, units=(VC,), prefix="Qi")
    found = [send_request(client, person.id, VC) for _ in range(3)]
    as_staff(client, "Anna")
    client.get("/personal/inkorg")  # slipped follow-ups told of before measuring
    few = _measure(client, app, "/personal/inkorg")
    page_few = _measure(client, app, f"/personal/arenden/{found[0].id}")
    for _ in range(27):
        other = new_person(client, units=(VC,), prefix="Qj")
        send_request(client, other.id, VC)
    many = _measure(client, app, "/personal/inkorg")
    page_many = _measure(client, app, f"/personal/arenden/{found[0].id}")
    report = {"few": few.statements, "many": many.statements, "page": page_many.statements}
    assert few.checkouts == many.checkouts == page_many.checkouts == 1, report
    assert many.statements <= CEILING["/personal/inkorg"], report
    assert many.statements <= few.statements, report
    assert page_many.statements <= min(CEILING["request page"], page_few.statements), report
