"""Two contact persons edit the same draft: nothing is lost, a stale form is told so."""

from __future__ import annotations

from litestar.testing import TestClient

from portal.plans import content as plan_content
from tests.conftest import BASE_URL, Page, login
from tests.factories import new_staff, person_with_consent
from tests.plans.helpers import VC, as_staff, editor_url, ensure_plan, hidden, plans_of, section_url


def _page(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    return Page(response)


def test_stale_section_save_is_refused_and_keeps_both_texts(app, client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    colleague = new_staff(client, VC)
    with TestClient(app, base_url=BASE_URL) as other:
        assert login(other, colleague.given_name, "staff").status_code == 303
        mine = page(editor_url(client, person.id))
        theirs = _page(other, editor_url(client, person.id))
        url = section_url(client, person.id, "important")
        first = client.post(url, data={**hidden(mine, "/avsnitt/important"),
                                       "text": "Annas text om det viktiga."},
                            follow_redirects=False)
        assert first.status_code == 303
        stale = other.post(url, data={**hidden(theirs, "/avsnitt/important"),
                                      "text": "Kollegans egen text."}, follow_redirects=False)
        assert stale.status_code == 409
        shown = Page(stale)
        warning = shown.select_one("#important .notification")
        assert warning is not None and "Annas text om det viktiga." in warning.get_text()
        assert shown.select_one("#important-text").get_text() == "Kollegans egen text."
        draft = plan_content.load(plans_of(client, person.id)[0].draft)
        assert draft["important"] == "Annas text om det viktiga."
        # Saving again from the fresh page works.
        again = other.post(url, data={**hidden(shown, "/avsnitt/important"),
                                      "text": "Annas text om det viktiga. Kollegans egen text."},
                           follow_redirects=False)
        assert again.status_code == 303
    draft = plan_content.load(plans_of(client, person.id)[0].draft)
    assert draft["important"] == "Annas text om det viktiga. Kollegans egen text."


def test_stale_add_action_form_is_refused_and_adds_nothing(app, client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    editor = ensure_plan(client, page, person.id)
    unit = editor.select("#action_add-unit_id option")[1]["value"]
    with TestClient(app, base_url=BASE_URL) as other:
        assert login(other, "Anna", "staff").status_code == 303
        stale_page = _page(other, editor_url(client, person.id))
        url = section_url(client, person.id, "action_add")
        action = {"what": "Hemtjänst varje morgon", "unit_id": unit, "responsible": "",
                  "start": "2026-12-01", "end": "", "status": "planned"}
        first = client.post(url, data={**hidden(editor, "/avsnitt/action_add"), **action},
                            follow_redirects=False)
        assert first.status_code == 303
        stale = other.post(url, data={**hidden(stale_page, "/avsnitt/action_add"),
                                      **action, "what": "Trygghetslarm"},
                           follow_redirects=False)
        assert stale.status_code == 409
        shown = Page(stale)
        assert shown.select_one("#action_add-what").get_text() == "Trygghetslarm"
        # The same stale form again (double click): still refused.
        assert other.post(url, data={**hidden(stale_page, "/avsnitt/action_add"), **action},
                          follow_redirects=False).status_code == 409
    draft = plan_content.load(plans_of(client, person.id)[0].draft)
    assert [a["what"] for a in draft["actions"]] == ["Hemtjänst varje morgon"]
    # Repeating the first (now stale) form does not add it twice.
    repeat = client.post(section_url(client, person.id, "action_add"),
                         data={**hidden(editor, "/avsnitt/action_add"), **action},
                         follow_redirects=False)
    assert repeat.status_code == 409
    assert len(plan_content.load(plans_of(client, person.id)[0].draft)["actions"]) == 1


def test_another_section_saved_from_an_older_tab_is_not_a_conflict(app, client, page):
    """One contact person, two tabs: saving "need help" in the older tab after saving
    "important" in the newer one keeps both (it used to say someone else saved)."""
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    older = page(editor_url(client, person.id))
    newer = page(editor_url(client, person.id))
    assert client.post(section_url(client, person.id, "important"),
                       data={**hidden(newer, "/avsnitt/important"), "text": "Bo kvar hemma."},
                       follow_redirects=False).status_code == 303
    second = client.post(section_url(client, person.id, "need_help"),
                         data={**hidden(older, "/avsnitt/need_help"), "text": "Hjälp med mat."},
                         follow_redirects=False)
    assert second.status_code == 303
    draft = plan_content.load(plans_of(client, person.id)[0].draft)
    assert (draft["important"], draft["need_help"]) == ("Bo kvar hemma.", "Hjälp med mat.")
    # The same section from the older tab is still a conflict: it would overwrite.
    third = client.post(section_url(client, person.id, "important"),
                        data={**hidden(older, "/avsnitt/important"), "text": "Gammal text."},
                        follow_redirects=False)
    assert third.status_code == 409
    assert plan_content.load(plans_of(client, person.id)[0].draft)["important"] == "Bo kvar hemma."
