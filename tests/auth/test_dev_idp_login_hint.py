"""The development provider's login_hint (OIDC): the page offers only the hinted person or
staff member, so that a database with 100 000 generated persons (bench/generate.py) still
gets a page to log in from; without a hint it offers everyone, as before."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlmodel import select

from portal.people.models import StaffMember
from tests.factories import db_run
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def _choices(client, kind: str, hint: str | None = None) -> list[str]:
    start = client.get(f"/auth/login/{kind}", follow_redirects=False)
    location = start.headers["location"] + (f"&login_hint={hint}" if hint else "")
    page = client.get(location)
    assert page.status_code == 200
    return [b["value"] for b in BeautifulSoup(page.text, "html.parser").select("button[name=who]")]


def test_a_hint_offers_only_that_person_or_staff_member(client, demo_ids):
    viola = demo_ids["viola"]
    everyone = _choices(client, "citizen")
    assert viola in everyone and len(everyone) > 5
    assert _choices(client, "citizen", viola) == [viola]
    assert _choices(client, "citizen", "nobody-has-this-id") == []

    async def anna(db):
        return (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).first().id

    anna_id = db_run(client, anna)
    assert anna_id in _choices(client, "staff")
    assert _choices(client, "staff", anna_id) == [anna_id]
