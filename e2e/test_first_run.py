"""A first run tells the seeds' stories: `python -m portal demo` with the stories, as
`make run` does, on a server of its own. The phone screenshots in the README come
from here (e2e/artifacts/readme/, copied to docs/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import (
    ARTIFACTS,
    _run,
    _server_env,
    assert_clean_server_log,
    check,
    html_lang,
    shot,
    start_portal,
)
from playwright.sync_api import Page, expect

# Phone-screen shots (viewport only, 390 px wide); the README's are copied from here
# to docs/screenshots/.
SCREENSHOTS = ARTIFACTS / "readme"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # `demo` runs twice, as a second `make run` would: the second adds nothing.
    tmp = tmp_path_factory.mktemp("portal-first-run")
    _run(["migrate"], _server_env(tmp, 0))
    _run(["demo"], _server_env(tmp, 0))
    for server in start_portal(tmp, []):
        yield server.url
    assert_clean_server_log(server, "the first-run portal server")


def log_in(page: Page, name: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Logga in", exact=True).click()
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hej {name.split()[0]}!")


def keep(page: Page, name: str) -> None:
    """The screenshot of this page, for the README (viewport only: a phone screen)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_viola_sees_her_plan_at_once(phone: Page) -> None:
    page = phone
    log_in(page, "Viola Andersson")
    plan_card = page.locator(".card").filter(has=page.get_by_role("heading", name="Din plan"))
    expect(plan_card).to_contain_text("Nästa uppföljning:")
    expect(page.get_by_text("Det finns ingen plan just nu.")).to_have_count(0)
    consent_card = page.locator(".card").filter(has=page.get_by_role("heading", name="Samtycke"))
    expect(consent_card).to_contain_text("Du har sagt ja till att 2 verksamheter samarbetar")
    check(page, "first-run-start-viola")
    keep(page, "start")

    plan_card.get_by_role("link", name="Läs din plan").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Jag vill bo kvar hemma med Gösta.")).to_be_visible()
    expect(page.get_by_text("Anna Berg").first).to_be_visible()
    check(page, "first-run-plan-viola")
    keep(page, "plan")


def test_johan_sees_his_mother_first(phone: Page) -> None:
    page = phone
    log_in(page, "Johan Andersson")
    headings = page.locator("main h2")
    expect(headings.first).to_have_text("Vem vill du använda tjänsten för?")
    expect(page.get_by_role("heading", name="Din plan")).to_have_count(0)
    check(page, "first-run-start-johan")
    keep(page, "choose-person")


def test_elsa_reads_her_klientplan_in_finland_swedish(phone: Page) -> None:
    page = phone
    log_in(page, "Elsa Holmström")
    assert html_lang(page) == "sv-FI", "the variant follows her country until she chooses"
    expect(page.get_by_role("heading", name="Vad är en klientplan?")).to_be_visible()
    expect(page.get_by_role("heading", name="Vad är en SIP?")).to_have_count(0)
    plan_card = page.locator(".card").filter(has=page.get_by_role("heading", name="Din plan"))
    expect(plan_card).to_contain_text("Nästa uppföljning:")
    check(page, "first-run-start-elsa")
    shot(page, "first-run-start-elsa-full")


@pytest.mark.parametrize(("name", "first"), [("Peter Lind", "Peter"), ("Amina Hassan", "Amina")])
def test_every_story_is_there(phone: Page, name: str, first: str) -> None:
    page = phone
    log_in(page, name)
    if first == "Amina":
        page.get_by_role("button", name=re.compile(r"^Ylva Hassan\b")).click()
    # Amina reads about Ylva: the card is "Ylvas plan", not "Din plan".
    title = "Ylvas plan" if first == "Amina" else "Din plan"
    plan_card = page.locator(".card").filter(has=page.get_by_role("heading", name=title))
    expect(plan_card).to_contain_text("Nästa uppföljning:")
