"""The access log's "once per access_log_repeat" holds with the default settings.

README (PORTAL_ACCESS_LOG_REPEAT, 300): the same unchanged page seen again by the same
staff member or representative in one session within this time is one access in the
person's log. A kept page lives only page_cache_seconds (60): found in a trial, a page made
again after its minute recorded its reads again (Anna's inbox left open: once a minute).
The pages recorded are remembered apart from the kept pages (PageCache.logged).

The clock of portal.core.page_cache is moved forward here (its `time` module only: the
TTLCaches take their timer when the app is built), so nothing waits for real.
"""

from __future__ import annotations

import dataclasses
import secrets
import time as real_time
import types

from litestar.testing import TestClient

import portal.core.page_cache as page_cache_module
from tests.conftest import BASE_URL, Page, build_app
from tests.consent.helpers import act_for, audit_of, sign_in
from tests.core.test_page_cache import _represented_with_plan, _thread_to
from tests.factories import VC, new_person
from tests.plans.helpers import as_staff
from tests.shared_app import settings  # noqa: F401


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return real_time.monotonic() + self.offset


def _app_with_clock(settings, monkeypatch, clock: _Clock):
    monkeypatch.setattr(page_cache_module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    # The defaults: pages kept 60 s, the same page one access per 300 s.
    return build_app(dataclasses.replace(settings, page_cache_seconds=60, access_log_repeat=300))


def test_the_inbox_polled_for_four_minutes_is_one_access_with_the_default_settings(
        settings, monkeypatch) -> None:
    clock = _Clock()
    with TestClient(_app_with_clock(settings, monkeypatch, clock), base_url=BASE_URL) as other:
        person = new_person(other, units=(VC,))
        _thread_to(other, person.id, VC, "Hemtjänsten " + secrets.token_hex(3))
        as_staff(other, "Anna")
        assert other.get("/personal/inkorg").status_code == 200
        assert other.get("/personal/inkorg", headers={"HX-Request": "true"}).status_code == 200
        before = len(audit_of(other, person.id, "inbox.listed_for_staff"))
        for _ in range(8):  # a poll every 30 s for four minutes, the list unchanged
            clock.offset += 30
            polled = other.get("/personal/inkorg", headers={"HX-Request": "true"})
            assert polled.status_code == 200
        recorded = len(audit_of(other, person.id, "inbox.listed_for_staff")) - before
        assert recorded == 0, f"{recorded} more accesses in the person's log within 300 s"


def test_a_representative_reading_the_plan_each_minute_is_one_access_within_the_repeat(
        settings, monkeypatch) -> None:
    clock = _Clock()
    with TestClient(_app_with_clock(settings, monkeypatch, clock), base_url=BASE_URL) as other:
        person, proxy, _ = _represented_with_plan(other)
        sign_in(other, proxy)

        def get(path: str) -> Page:
            response = other.get(path)
            assert response.status_code == 200, response.status_code
            return Page(response)

        assert act_for(other, get, person.id).status_code == 303
        other.get("/plan")  # the first visit: the plan is seen (the page changes)
        other.get("/plan")
        before = len(audit_of(other, person.id, "plan.read"))
        for _ in range(3):  # the same, unchanged plan at 70, 140 and 210 s
            clock.offset += 70
            assert other.get("/plan").status_code == 200
        recorded = len(audit_of(other, person.id, "plan.read")) - before
        assert recorded == 0, f"{recorded} more plan reads in the person's log within 300 s"
