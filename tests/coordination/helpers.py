"""Helpers for the request tests: walk the wizard through HTTP as a person would."""

from __future__ import annotations

from tests.conftest import Page

WIZARD = "/arenden/ny"


def hidden(page: Page, selector: str = "form#form-field") -> dict:
    form = page.select_one(selector)
    assert form is not None, f"no {selector} on the page"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def post_step(client, page, step: str, data: dict, status: int = 303):
    """GET the step, post `data` with the page's hidden fields; returns the response."""
    shown = page(f"{WIZARD}/{step}" if step else WIZARD)
    form = "form#form-field" if shown.select_one("form#form-field") else "main form"
    response = client.post(f"{WIZARD}/{step}" if step else WIZARD,
                           data={**hidden(shown, form), **data}, follow_redirects=False)
    assert response.status_code == status, (step, response.status_code, response.text[:800])
    return response


def fill_in(client, page, *, person: str = "self", hard: str = "Jag orkar inte ringa runt.",
            units: list[str] | None = None, other: str = "", contact: str = "portal",
            phone: str = "", consent: str = "later") -> Page:
    """Answer every step; returns the check page."""
    post_step(client, page, "", {"person": person})
    post_step(client, page, "vad", {"hard": hard})
    post_step(client, page, "vilka", {"unit": units if units is not None else ["unknown"],
                                      "other": other})
    post_step(client, page, "kontakt", {"contact": contact, "phone": phone})
    check = page(f"{WIZARD}/samtycke")
    if check.select_one("input[name=consent]"):
        post_step(client, page, "samtycke", {"consent": consent})
    else:
        post_step(client, page, "samtycke", {})
    return page(f"{WIZARD}/kontrollera")


def send(client, check: Page):
    """Post the check page's form (Skicka); returns the redirect response."""
    data = hidden(check, "main form[action='/arenden/ny/kontrollera']")
    return client.post(f"{WIZARD}/kontrollera", data=data, follow_redirects=False)
