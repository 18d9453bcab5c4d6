"""The form field macros wire label, hint and error to the input, and the error summary
links to the field's first input (GOV.UK/NHS components: one macro, one `params` dict)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from portal.core.templating import make_environment
from tests.conftest import check_error_summary

IMPORTS = ('{% from "components/fields.html" import text_input, textarea, date_input, time_input, '
           'select, radios, checkboxes, first_input_id %}'
           '{% from "components/error_summary.html" import error_summary %}')

TEXT_KINDS = ["text_input", "textarea", "date_input", "time_input"]

CHOICES = [{"value": "give", "text": "Ja", "id": "decision-give"},
           {"value": "withdraw", "text": "Nej"}]


@pytest.fixture(scope="module")
def env():
    return make_environment()


def render(env, source: str, **context) -> BeautifulSoup:
    html = env.from_string(IMPORTS + source).render(**context)
    return BeautifulSoup(html, "html.parser")


def described_by(node) -> list[str]:
    return node.get("aria-describedby", "").split()


def field_params(**more) -> dict:
    return {"name": "place", "label": "Plats", "hint": "Var ses ni?", **more}


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_a_field_without_error_is_labelled_and_hinted(env, kind):
    soup = render(env, f"{{{{ {kind}(p) }}}}", p=field_params(value="Hemma"))
    control = soup.select_one("#place")
    assert control.name == ("textarea" if kind == "textarea" else "input")
    assert control["name"] == "place"
    assert soup.select_one("label.field__label")["for"] == "place"
    assert described_by(control) == ["place-hint"]
    assert soup.select_one("#place-hint").get_text() == "Var ses ni?"
    assert not control.has_attr("aria-invalid")
    assert "input--error" not in control["class"]
    assert "field--error" not in soup.select_one(".field")["class"]
    assert soup.select_one(".field__error") is None
    value = control.get_text() if control.name == "textarea" else control["value"]
    assert value == "Hemma"


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_a_field_in_error_says_so_and_is_described_by_the_message(env, kind):
    soup = render(env, f"{{{{ error_summary(errors, {{'place': p}}) }}}}{{{{ {kind}(p) }}}}",
                  p=field_params(error="Skriv ett datum."), errors={"place": "Skriv ett datum."})
    control = soup.select_one("#place")
    assert control["aria-invalid"] == "true"
    assert "input--error" in control["class"]
    assert "field--error" in soup.select_one(".field")["class"]
    assert described_by(control) == ["place-hint", "place-error"]
    for ref in described_by(control):
        assert soup.find(id=ref) is not None
    error = soup.select_one("#place-error")
    assert "field__error" in error["class"]
    assert error.get_text(" ", strip=True) == "Fel: Skriv ett datum."
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#place"]
    check_error_summary(soup)


def test_id_defaults_to_name_and_can_be_given(env):
    soup = render(env, "{{ text_input({'name': 'date', 'id': 'follow_up-date', 'label': 'D', "
                       "'error': 'x'}) }}")
    control = soup.select_one("input")
    assert (control["id"], control["name"]) == ("follow_up-date", "date")
    assert soup.select_one("label")["for"] == "follow_up-date"
    assert described_by(control) == ["follow_up-date-error"]


def test_attributes_are_escaped_and_booleans_are_bare(env):
    soup = render(env, "{{ textarea(p) }}", p={
        "name": "text", "label": "T", "describedby": "lix-important", "rows": 3,
        "attributes": {"maxlength": 200, "hx-vals": '{"section": "important"}', "required": True,
                       "disabled": False, "dir": None, "onclick": '"><script>x</script>'}})
    control = soup.select_one("textarea")
    assert control["maxlength"] == "200" and control["rows"] == "3"
    assert control["hx-vals"] == '{"section": "important"}'
    assert control.has_attr("required") and not control.has_attr("disabled")
    assert not control.has_attr("dir")
    assert soup.select_one("script") is None
    assert described_by(control) == ["lix-important"]


def test_label_can_be_the_page_heading(env):
    soup = render(env, "{{ text_input({'name': 'q', 'label': 'Sök', 'label_heading': 1}) }}")
    assert soup.select_one("h1 > label.field__label")["for"] == "q"


def test_a_call_body_goes_after_the_input_inside_the_field(env):
    soup = render(env, "{% call textarea({'name': 'text', 'label': 'T', 'describedby': 'lix'}) %}"
                       "<div id=\"lix\">LIX</div>{% endcall %}")
    assert soup.select_one(".field > textarea + #lix").get_text() == "LIX"


def test_select_marks_the_chosen_option(env):
    items = [{"value": "", "text": "Välj"}, {"value": "a", "text": "A"},
             {"value": "b", "text": "B", "attributes": {"lang": "sv"}}]
    soup = render(env, "{{ error_summary(errors, {'unit_id': p}) }}{{ select(p) }}", p={
        "name": "unit_id", "id": "action_add-unit_id", "label": "Verksamhet", "items": items,
        "value": "b", "error": "Välj en verksamhet."}, errors={"unit_id": "Välj en verksamhet."})
    control = soup.select_one("select#action_add-unit_id")
    assert [o["value"] for o in control.select("option[selected]")] == ["b"]
    assert control.select_one("option[value=b]")["lang"] == "sv"
    assert control["aria-invalid"] == "true"
    assert described_by(control) == ["action_add-unit_id-error"]
    assert soup.select_one("label")["for"] == "action_add-unit_id"
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#action_add-unit_id"]
    check_error_summary(soup)


@pytest.mark.parametrize("error", [None, "Välj vad personen svarade."])
def test_radios_are_a_fieldset_with_a_legend(env, error):
    params = {"name": "decision", "label": "Vad svarade personen?", "hint": "Fråga.",
              "items": CHOICES, "value": "withdraw", "error": error}
    soup = render(env, "{{ error_summary(errors, {'decision': p}) }}{{ radios(p) }}",
                  p=params, errors={"decision": error} if error else {})
    fieldset = soup.select_one(".field > fieldset.radios")
    assert fieldset.select_one("legend.field__label").get_text() == "Vad svarade personen?"
    inputs = fieldset.select("input[type=radio]")
    assert [i["id"] for i in inputs] == ["decision-give", "decision-2"]
    assert all(i["name"] == "decision" for i in inputs)
    for control in inputs:
        assert fieldset.select_one(f'label[for="{control["id"]}"]') is not None
        assert not control.has_attr("aria-describedby")  # on the fieldset
    assert [i["value"] for i in inputs if i.has_attr("checked")] == ["withdraw"]
    if error:
        assert described_by(fieldset) == ["decision-hint", "decision-error"]
        assert all(i["aria-invalid"] == "true" for i in inputs)
        assert "field--error" in soup.select_one(".field")["class"]
        assert [a["href"] for a in soup.select(".error-summary a")] == ["#decision-give"]
        check_error_summary(soup)
    else:
        assert described_by(fieldset) == ["decision-hint"]
        assert not any(i.has_attr("aria-invalid") for i in inputs)
        assert soup.select_one(".error-summary") is None


def test_radio_ids_default_from_the_field_id(env):
    soup = render(env, "{{ radios(p) }}[{{ first_input_id(p) }}]", p={
        "name": "given_by", "label": "Vem?", "items": [{"value": "a", "text": "A"},
                                                       {"value": "b", "text": "B"}]})
    assert [i["id"] for i in soup.select("input")] == ["given_by", "given_by-2"]
    assert "[given_by]" in soup.get_text()


def test_checkboxes_with_a_group_in_details(env):
    params = {"name": "unit", "label": "Vilka får samarbeta?", "label_heading": 2,
              "hint": "Välj verksamheter.", "values": ["b"], "error": "Välj minst en.",
              "items": [{"group": "Lägg till en annan", "classes": "more-units", "open": True,
                         "items": [{"value": "a", "id": "unit-a", "text": "A"},
                                   {"value": "b", "id": "unit-b", "text": "B"}]}]}
    soup = render(env, "{{ error_summary(errors, {'unit': p, 'form': p}) }}{{ checkboxes(p) }}",
                  p=params, errors={"unit": "Välj minst en.", "form": "Formuläret var ofullständigt."})
    fieldset = soup.select_one("fieldset.checkboxes")
    assert fieldset.select_one("legend > h2").get_text() == "Vilka får samarbeta?"
    details = fieldset.select_one("details.more-units[open]")
    assert details.select_one("summary").get_text() == "Lägg till en annan"
    assert [i["id"] for i in details.select("input[type=checkbox]")] == ["unit-a", "unit-b"]
    assert [i["value"] for i in fieldset.select("input[checked]")] == ["b"]
    assert described_by(fieldset) == ["unit-hint", "unit-error"]
    # Both the field's error and the form-wide one lead to the first box.
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#unit-a", "#unit-a"]
    check_error_summary(soup)


def test_item_html_is_kept_and_text_is_escaped(env):
    soup = render(env, "{% set strong %}<strong>A</strong>{% endset %}"
                       "{{ checkboxes({'name': 'u', 'label': 'L', 'items': ["
                       "{'value': 'a', 'html': strong}, {'value': 'b', 'text': '<b>B</b>'}]}) }}")
    labels = soup.select("label")
    assert labels[0].strong.get_text() == "A"
    assert labels[1].get_text() == "<b>B</b>" and labels[1].b is None


def test_an_error_without_its_field_on_the_page_has_no_link(env):
    soup = render(env, "{{ error_summary(errors, {'unit': {'name': 'unit', 'label': 'L', 'items': []}}) }}",
                  errors={"unit": "Välj.", "form": "Formuläret var ofullständigt."})
    assert soup.select(".error-summary a") == []
    assert [li.get_text() for li in soup.select(".error-summary li")] == \
        ["Välj.", "Formuläret var ofullständigt."]


def test_the_summary_check_refuses_a_link_to_a_wrapper():
    soup = BeautifulSoup('<div class="error-summary"><a href="#date-field">Fel</a></div>'
                         '<div class="field" id="date-field"><input id="date" name="date"></div>',
                         "html.parser")
    with pytest.raises(AssertionError, match="not to an input"):
        check_error_summary(soup)
