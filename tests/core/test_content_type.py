"""Every response names its charset at most once (text/* exactly once), whatever its type.

Litestar adds "; charset=utf-8" to a text/* media type itself (Response's `encoding`),
so a handler that writes `media_type="text/calendar; charset=utf-8"` sent
"text/calendar; charset=utf-8; charset=utf-8", which strict clients refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import url
from tests.factories import person_with_consent
from tests.plans.helpers import as_person, as_staff, editor_url, ensure_plan, publish, save

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def assert_one_charset(response, where: str) -> str:
    kind = response.headers.get("content-type", "")
    assert kind.lower().count("charset") <= 1, (where, kind)
    if kind.startswith("text/"):
        assert kind.lower().endswith("charset=utf-8"), (where, kind)
    return kind


def test_no_media_type_in_the_code_names_a_charset():
    """The kind, not one case: Litestar adds the charset, so code never writes one."""
    for path in PORTAL.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"media_type\s*=.*charset", line):
                raise AssertionError(f"{path}:{number}: {line.strip()}")


def test_every_kind_of_response_has_one_charset(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "follow_up", {"date": "2026-12-08", "time": "10:00",
                                                "place": "Rum 3"})
    publish(client, page, person.id)
    editor = page(editor_url(client, person.id))
    lix = client.post(url(client.app, "plan_lix"), headers={"HX-Request": "true"},
                      data={"csrf_token": editor.csrf(), "section": "important",
                            "text": "Jag vill bo kvar hemma."})
    assert lix.status_code == 200
    assert assert_one_charset(lix, "lix").startswith("text/html")

    as_person(client, person)
    kinds = {}
    for where, expected in [
        (url(client.app, "plan_calendar"), "text/calendar"),
        ("/healthz", "application/json"),
        ("/dev-idp/jwks", "application/json"),
        ("/dev-idp/.well-known/openid-configuration", "application/json"),
        ("/static/css/portal.css", "text/css"),
        ("/static/js/portal.js", "text/javascript"),
        ("/static/robots.txt", "text/plain"),
        ("/", "text/html"),
        (url(client.app, "my_plan"), "text/html"),
        ("/kontakt", "text/html"),
        ("/finns-inte", "text/html"),
    ]:
        response = client.get(where)
        assert response.status_code in (200, 404), (where, response.status_code)
        kinds[where] = assert_one_charset(response, where)
        assert kinds[where].startswith(expected), (where, kinds[where])
    assert kinds[url(client.app, "plan_calendar")] == "text/calendar; charset=utf-8"
    token = client.post("/dev-idp/token", data={"grant_type": "nothing"})
    assert token.status_code in (400, 401)
    assert_one_charset(token, "token error")
