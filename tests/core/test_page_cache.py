"""Kept pages (portal.core.page_cache), over HTTP with real logins on both backends.

A key page seen again in the same session is sent as kept (the same bytes, the handler
not run) while nothing it shows has changed; any committed change that concerns the
person or the unit shows on the next request, whichever app instance made it. A kept
page is never another session's, another language's, another person's or another
htmx target's; flash messages are shown once; authorization is not kept; and the
access log records a kept page's reads again once per access_log_repeat.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlmodel import select

from portal.audit.service import Actor
from portal.consent.forms import new_key
from portal.messages import services as messages
from portal.people.models import Person, Unit
from tests.conftest import BASE_URL, Page, build_app
from tests.consent.helpers import (
    act_for,
    acts_of,
    audit_of,
    consent_form,
    sign_in,
    states_on_page,
    withdraw_forms,
)
from tests.factories import (
    SOC,
    VC,
    db_run,
    new_person,
    person_with_consent,
    publish_plan,
    represent,
    unit_ids,
    unit_names,
)
from tests.plans.helpers import as_staff
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def cache(client):
    return client.app.state.page_cache


def csrf_of(html: str) -> str:
    return BeautifulSoup(html, "html.parser").select_one('input[name="csrf_token"]')["value"]


ONE_TIME_KEY = re.compile(rb'name="idempotency_key" value="[^"]*"')


def same_page(one: httpx.Response, other: httpx.Response) -> bool:
    """The same page, but for its forms' idempotency keys: new on every view, kept or not."""
    def without(response: httpx.Response) -> bytes:
        return ONE_TIME_KEY.sub(b'name="idempotency_key"', response.content)
    return without(one) == without(other)


def kept_get(client, path: str, **kwargs) -> httpx.Response:
    """GET `path`, asserting it was sent as kept (a hit, no miss)."""
    hits, misses = cache(client).hits, cache(client).misses
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    assert (cache(client).hits, cache(client).misses) == (hits + 1, misses), f"{path} not kept"
    return response


def made_get(client, path: str, **kwargs) -> httpx.Response:
    """GET `path`, asserting the page was made afresh (a miss, or not kept at all)."""
    hits = cache(client).hits
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    assert cache(client).hits == hits, f"{path} was sent as kept"
    return response


def settled(client, path: str, **kwargs) -> httpx.Response:
    """GET `path` until it is kept (a first visit can change what the page shows: a plan
    seen is remembered), at most three times; return the kept response."""
    for _ in range(3):
        hits = cache(client).hits
        response = client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code)
        if cache(client).hits == hits + 1:
            return response
    raise AssertionError(f"{path} is never kept")


@contextmanager
def another_session(client) -> Iterator[None]:
    """A second browser of the same app: its own cookie jar, the first's restored after."""
    saved = httpx.Cookies(client.cookies)
    client.cookies.clear()
    try:
        yield
    finally:
        client.cookies = saved


def with_plan(client, text: str = "Första versionen."):
    person = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    publish_plan(client, person.id, text)
    return person


# ------------------------------------------------------------------ a. kept, and not


def test_a_page_seen_again_is_sent_kept_and_identical(client) -> None:
    person = with_plan(client)
    sign_in(client, person)
    for path in ("/plan", "/"):
        first = settled(client, path)
        again = kept_get(client, path)
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        Page(again)  # a whole page, with the house checks


def test_a_kept_page_is_compressed_as_the_client_accepts_with_the_same_headers(client) -> None:
    """A phone asks for brotli (or gzip): the kept page comes compressed as a page made
    anew does, with the same headers, and is the same page."""
    person = with_plan(client)
    sign_in(client, person)
    settled(client, "/plan")
    for encoding in ("br", "gzip"):
        asked = {"Accept-Encoding": encoding}
        cache(client).clear()
        made = made_get(client, "/plan", headers=asked)
        kept = kept_get(client, "/plan", headers=asked)
        assert made.headers["content-encoding"] == kept.headers["content-encoding"] == encoding
        assert kept.content == made.content  # as decompressed by httpx
        assert dict(kept.headers) == dict(made.headers)  # vary, length, CSP, no-store …
    plain = kept_get(client, "/plan", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_logging_out_drops_the_sessions_kept_pages(client) -> None:
    person = with_plan(client)
    sign_in(client, person)
    settled(client, "/plan")
    settled(client, "/")
    token = csrf_of(client.get("/").text)
    kept = [key for key in cache(client).pages if token in key]
    assert len(kept) >= 2
    assert client.post("/auth/logout", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert not [key for key in cache(client).pages if token in key]


def test_with_page_cache_seconds_0_nothing_is_kept(settings) -> None:
    app_ = build_app(dataclasses.replace(settings, page_cache_seconds=0))
    with TestClient(app_, base_url=BASE_URL) as other:
        person = with_plan(other)
        sign_in(other, person)
        for path in ("/plan", "/", "/plan", "/"):
            assert other.get(path).status_code == 200
        assert (cache(other).hits, cache(other).misses) == (0, 0)


# ------------------------------------------------------------------ b. changes show at once


def test_consent_given_through_a_second_instance_shows_on_the_first(client, settings) -> None:
    person = new_person(client, units=(VC, SOC))
    (vc,) = unit_ids(client, VC)
    (vc_name,) = unit_names(client, VC)
    sign_in(client, person)
    shown = Page(settled(client, "/samtycke"))
    assert states_on_page(shown) == {}
    start = settled(client, "/")

    second = build_app(settings)  # another process on the same database: its own memory
    with TestClient(second, base_url=BASE_URL) as b:
        sign_in(b, person)
        form = consent_form(Page(b.get("/samtycke")))
        given = b.post("/samtycke", data={**form, "decision": "give", "unit": [vc]},
                       follow_redirects=False)
        assert given.status_code == 303, given.text[:500]

    now = Page(made_get(client, "/samtycke"))
    assert states_on_page(now) == {vc_name: "Ja"}
    assert made_get(client, "/").text != start.text


def test_a_plan_version_published_by_staff_shows_at_once(client) -> None:
    person = with_plan(client, "Första versionen.")
    sign_in(client, person)
    assert "Första versionen." in Page(settled(client, "/plan")).text()
    publish_plan(client, person.id, "Andra versionen.")
    assert "Andra versionen." in Page(made_get(client, "/plan")).text()


def _thread_to(client, person_id: str, unit_code: str, subject: str) -> None:
    now = client.app.state.clock.now()

    async def work(db):
        person = await db.get(Person, person_id)
        unit = (await db.exec(select(Unit).where(Unit.code == unit_code))).one()
        await messages.start_thread(db, person=person, unit=unit, subject=subject,
                                    body="När kommer hemtjänsten?",
                                    actor=Actor("person", person.id, "self"), key=new_key(),
                                    now=now)

    db_run(client, work)


def test_a_new_question_to_the_unit_shows_in_the_staff_inbox_at_once(client) -> None:
    person = new_person(client, units=(VC,))
    as_staff(client, "Anna")
    before = settled(client, "/personal/inkorg")
    assert person.given_name not in before.text
    _thread_to(client, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
    assert person.given_name in made_get(client, "/personal/inkorg").text


def test_a_question_to_another_unit_leaves_the_inbox_kept(client) -> None:
    person = new_person(client, units=(VC, SOC))
    as_staff(client, "Anna")
    before = settled(client, "/personal/inkorg")
    _thread_to(client, person.id, SOC, "Hemtjänsten " + secrets.token_hex(3))
    assert kept_get(client, "/personal/inkorg").content == before.content


# ------------------------------------------------------------------ c. sessions


def test_another_session_of_the_same_person_gets_its_own_page(client) -> None:
    person = with_plan(client)
    sign_in(client, person)
    first = settled(client, "/samtycke")
    first_token = csrf_of(first.text)
    with another_session(client):
        sign_in(client, person)
        own = Page(made_get(client, "/samtycke"))
        assert own.response.content != first.content
        own_token = own.csrf()
        assert own_token != first_token
        # Every form of its page carries its own token, kept or not.
        tokens = {i["value"] for i in own.select('input[name="csrf_token"]')}
        assert tokens == {own_token}
        again = Page(settled(client, "/samtycke"))
        assert {i["value"] for i in again.select('input[name="csrf_token"]')} == {own_token}
    # The first session still gets its own.
    assert same_page(kept_get(client, "/samtycke"), first)


def test_two_tabs_of_one_kept_consent_page_do_not_share_a_decision(client) -> None:
    """Two tabs opened on the same kept /samtycke: what is decided in the second is its
    own decision, not taken for the first tab's form sent again."""
    person = new_person(client, units=(VC, SOC))
    vc, soc = unit_ids(client, VC, SOC)
    vc_name, soc_name = unit_names(client, VC, SOC)
    sign_in(client, person)
    settled(client, "/samtycke")
    tab_one = consent_form(Page(kept_get(client, "/samtycke")))
    tab_two = consent_form(Page(kept_get(client, "/samtycke")))
    # Each view of the kept page has keys of its own, as a page made anew has.
    assert tab_one["idempotency_key"] != tab_two["idempotency_key"]
    given = client.post("/samtycke", data={**tab_one, "decision": "give", "unit": [vc]},
                        follow_redirects=False)
    assert given.status_code == 303, given.text[:500]
    # The first tab's form sent again is one act.
    again = client.post("/samtycke", data={**tab_one, "decision": "give", "unit": [vc]},
                        follow_redirects=False)
    assert again.headers.get("location") == given.headers["location"]
    # The second tab's form is stale now: refused, as it was before pages were kept.
    stale = client.post("/samtycke", data={**tab_two, "decision": "give", "unit": [soc]},
                        follow_redirects=False)
    assert stale.status_code == 409, (stale.status_code, stale.headers.get("location"))
    assert [a.decision for a in acts_of(client, person.id)] == ["give"]
    # A withdrawal from it is never stale: it is recorded.
    withdrawn = client.post("/samtycke", data={**tab_two, "decision": "withdraw", "unit": [vc]},
                            follow_redirects=False)
    assert withdrawn.status_code == 303, withdrawn.text[:500]
    assert [a.decision for a in acts_of(client, person.id)] == ["give", "withdraw"]
    assert states_on_page(Page(client.get("/samtycke"))).get(vc_name) != "Ja"
    assert soc_name not in states_on_page(Page(client.get("/samtycke")))


# ------------------------------------------------------------------ d., f. flash, ended rights


def _represented_with_plan(client):
    person = with_plan(client, "Mammas plan " + secrets.token_hex(3))
    proxy = new_person(client, prefix="Ombud")
    representation = represent(client, proxy, person, "proxy")
    return person, proxy, representation


def _end_proxy_as(client, person, representation_id: str) -> None:
    with another_session(client):
        sign_in(client, person)
        path = f"/ombud/fullmakter/{representation_id}/avsluta"
        form = Page(client.get(path)).select_one(f'form[action="{path}"]')
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        ended = client.post(path, data=data, follow_redirects=False)
        assert ended.status_code == 303, ended.text[:500]


def test_an_ended_representation_is_not_kept_and_its_flash_shows_once(client) -> None:
    person, proxy, representation = _represented_with_plan(client)
    sign_in(client, proxy)
    assert act_for(client, _page(client), person.id).status_code == 303
    kept_plan = Page(settled(client, "/plan"))
    assert person.given_name in kept_plan.text(".acting-banner")

    _end_proxy_as(client, person, representation)

    # The next request of the kept page: not the person's page, with the flash.
    ended = client.get("/plan", follow_redirects=True)
    assert ended.status_code in (200, 403)
    shown = Page(ended)
    assert person.given_name not in shown.text(".acting-banner")
    assert "Mammas plan" not in ended.text
    assert "avslutat din fullmakt" in shown.text("body"), shown.text("body")[:300]
    # The flash is shown once: the next page is not the flash page, nor kept with it.
    for _ in range(2):
        after = client.get("/plan", follow_redirects=True)
        assert "avslutat din fullmakt" not in Page(after).text("body")
        assert "Mammas plan" not in after.text
    start = client.get("/")
    assert "avslutat din fullmakt" not in Page(start).text("body")


ALREADY_WITHDRAWN = "Samtycket var redan borttaget. Här ser du det som gäller nu."


def test_a_flash_on_a_kept_page_is_shown_once_and_never_kept(client) -> None:
    person = person_with_consent(client, units=(VC, SOC), consent=(VC, SOC))
    vc, soc = unit_ids(client, VC, SOC)
    sign_in(client, person)
    shown = Page(settled(client, "/samtycke"))
    one_unit = next(f for f in withdraw_forms(shown) if f["unit"] == [vc])
    every_unit = next(f for f in withdraw_forms(shown) if set(f["unit"]) == {vc, soc})
    assert client.post("/samtycke", data=every_unit, follow_redirects=False).status_code == 303
    # The first unit's own form, from the same page: nothing left to withdraw there.
    again = client.post("/samtycke", data=one_unit, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/samtycke")
    flashed = made_get(client, "/samtycke")
    assert ALREADY_WITHDRAWN in Page(flashed).text()
    after = made_get(client, "/samtycke")
    assert ALREADY_WITHDRAWN not in Page(after).text()
    kept = kept_get(client, "/samtycke")
    assert ALREADY_WITHDRAWN not in kept.text and same_page(kept, after)


def test_a_page_refused_is_not_kept(client) -> None:
    person = with_plan(client)
    proxy = new_person(client, prefix="Ombud")
    represent(client, proxy, person, "proxy", scope="consent")  # not plan:read
    sign_in(client, proxy)
    assert act_for(client, _page(client), person.id).status_code == 303
    hits, misses = cache(client).hits, cache(client).misses
    for _ in range(2):
        refused = client.get("/plan")
        assert refused.status_code == 403
        assert "Första versionen." not in refused.text
    assert (cache(client).hits, cache(client).misses) == (hits, misses)


def _page(client):
    def get(path: str) -> Page:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return Page(response)

    return get


# ------------------------------------------------------------------ e. the access log


def _plan_reads(client, person_id: str) -> int:
    return len(audit_of(client, person_id, "plan.read"))


def test_a_representative_reading_a_kept_plan_again_is_one_access(client) -> None:
    person, proxy, _ = _represented_with_plan(client)
    sign_in(client, proxy)
    assert act_for(client, _page(client), person.id).status_code == 303
    made_get(client, "/plan")  # the first visit: the plan is seen (the page changes)
    made_get(client, "/plan")
    before = _plan_reads(client, person.id)
    kept_get(client, "/plan")
    kept_get(client, "/plan")
    assert _plan_reads(client, person.id) == before  # recorded when it was made, just now


def test_a_representative_reading_a_kept_plan_is_logged_every_time_with_repeat_0(settings) -> None:
    app_ = build_app(dataclasses.replace(settings, access_log_repeat=0))
    with TestClient(app_, base_url=BASE_URL) as other:
        person, proxy, _ = _represented_with_plan(other)
        sign_in(other, proxy)
        assert act_for(other, _page(other), person.id).status_code == 303
        settled(other, "/plan")
        before = _plan_reads(other, person.id)
        kept_get(other, "/plan")
        kept_get(other, "/plan")
        assert _plan_reads(other, person.id) == before + 2
        events = audit_of(other, person.id, "plan.read")[-2:]
        assert {(e.actor_id, e.on_behalf_of) for e in events} == {(proxy.id, person.id)}


def test_the_inbox_kept_for_staff_is_logged_again_with_repeat_0(settings) -> None:
    app_ = build_app(dataclasses.replace(settings, access_log_repeat=0))
    with TestClient(app_, base_url=BASE_URL) as other:
        person = new_person(other, units=(VC,))
        _thread_to(other, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
        as_staff(other, "Anna")
        other.get("/personal/inkorg")  # the page, then its polls
        settled(other, "/personal/inkorg", headers={"HX-Request": "true"})
        before = len(audit_of(other, person.id, "inbox.listed_for_staff"))
        kept_get(other, "/personal/inkorg", headers={"HX-Request": "true"})
        assert len(audit_of(other, person.id, "inbox.listed_for_staff")) == before + 1


def test_the_inbox_and_its_first_poll_are_one_access(client) -> None:
    """The page and the list its poll brings show the same rows: one access (trial)."""
    person = new_person(client, units=(VC,))
    _thread_to(client, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
    as_staff(client, "Anna")
    before = len(audit_of(client, person.id, "inbox.listed_for_staff"))
    assert client.get("/personal/inkorg").status_code == 200
    assert len(audit_of(client, person.id, "inbox.listed_for_staff")) == before + 1
    polled = client.get("/personal/inkorg", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and "<html" not in polled.text
    assert len(audit_of(client, person.id, "inbox.listed_for_staff")) == before + 1


def test_the_inbox_polled_again_within_the_repeat_is_one_access(client) -> None:
    person = new_person(client, units=(VC,))
    _thread_to(client, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
    as_staff(client, "Anna")
    client.get("/personal/inkorg")  # the page, then its polls
    settled(client, "/personal/inkorg", headers={"HX-Request": "true"})
    before = len(audit_of(client, person.id, "inbox.listed_for_staff"))
    for _ in range(3):
        kept_get(client, "/personal/inkorg", headers={"HX-Request": "true"})
    assert len(audit_of(client, person.id, "inbox.listed_for_staff")) == before


def test_the_person_reading_their_own_kept_plan_is_not_in_the_access_log(client) -> None:
    person = with_plan(client)
    sign_in(client, person)
    settled(client, "/plan")
    kept_get(client, "/plan")
    assert _plan_reads(client, person.id) == 0


# ------------------------------------------------------------------ g. language


def test_switching_language_gives_the_other_variant_not_the_kept_page(client) -> None:
    person = with_plan(client)
    sign_in(client, person)
    swedish = settled(client, "/plan")
    assert BeautifulSoup(swedish.text, "html.parser").html["lang"] == "sv"
    assert client.get("/sprak/sv_FI?next=/plan").status_code in (200, 303)
    finnish = client.get("/plan")
    assert BeautifulSoup(finnish.text, "html.parser").html["lang"] == "sv-FI"
    assert finnish.content != swedish.content
    # Both are kept, each for its own variant.
    assert kept_get(client, "/plan").content == settled(client, "/plan").content
    client.get("/sprak/sv_SE?next=/plan")
    assert kept_get(client, "/plan").content == swedish.content


# ------------------------------------------------------------------ h. htmx


def test_the_inbox_polled_by_htmx_is_the_list_and_the_full_get_the_page(client) -> None:
    as_staff(client, "Anna")
    full = settled(client, "/personal/inkorg")
    polled = settled(client, "/personal/inkorg", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in polled.text
    assert BeautifulSoup(polled.text, "html.parser").select_one("#inbox-list") is not None
    assert kept_get(client, "/personal/inkorg").content == full.content
    assert kept_get(client, "/personal/inkorg",
                    headers={"HX-Request": "true"}).content == polled.content


def test_a_staff_member_of_another_unit_never_gets_anothers_kept_inbox(client) -> None:
    person = new_person(client, units=(VC, SOC))
    _thread_to(client, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
    as_staff(client, "Anna")
    assert person.given_name in settled(client, "/personal/inkorg").text
    as_staff(client, "Maria")
    marias = made_get(client, "/personal/inkorg")
    assert person.given_name not in marias.text
