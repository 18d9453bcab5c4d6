"""The person sees a staff system's reads in their access log (/logg), in plain words:
who (the system and who runs it), what, which unit and which plan version; in both
language variants; with statements that do not grow with the entries."""

from __future__ import annotations

from tests.audit.test_access_log import shown_entries
from tests.consent.helpers import sign_in
from tests.core.test_query_counts import measure
from tests.factories import SOC, VC, person_with_consent
from tests.fhir.helpers import bearer, mint, register
from tests.fhir.test_read import patient, with_plan
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def read_both(client, system, who) -> None:
    token = mint(client, system, ["system/Consent.read", "system/CarePlan.read"])
    for resource in ("Consent", "CarePlan"):
        response = client.get(f"/fhir/R4/{resource}", params={"patient": patient(who)},
                              headers=bearer(token))
        assert response.status_code == 200, response.text


def test_the_person_sees_which_system_read_what_for_which_unit(client, page, database_url):
    who = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [VC], name="Lifecare SP", owner="Region Kalmar län")
    read_both(client, system, who)
    sign_in(client, who)
    log = page("/logg")
    plan_read, consent_read = shown_entries(log)[:2]
    assert plan_read["who"] == "Lifecare SP (Region Kalmar län)"
    assert plan_read["what"] == "Hämtade planen till sitt system."
    assert "Version 1 av planen." in plan_read["details"]
    assert "Gäller: Kalmar vårdcentral" in plan_read["details"]
    assert consent_read["who"] == "Lifecare SP (Region Kalmar län)"
    assert consent_read["what"] == "Hämtade svaret om samtycke till sitt system."
    assert "Gäller: Kalmar vårdcentral" in consent_read["details"]
    # The system is one of the choices of the "who" filter, and filters the list.
    assert "Lifecare SP (Region Kalmar län)" in log.select_one("select[name=vem]").get_text()
    only = page(f"/logg?vem={system.id}")
    assert len(shown_entries(only)) == 2
    assert "Visar det som Lifecare SP har gjort." in only.text()


def test_finland_swedish_words_for_a_person_in_finland(client, page, database_url):
    who = person_with_consent(client, country="FI", units=("fi-vasa-hs",),
                              consent=("fi-vasa-hs",))
    system = register(database_url, ["fi-vasa-hs"], name="Apotti",
                      owner="Österbottens välfärdsområde")
    read_both(client, system, who)
    sign_in(client, who)
    client.get("/sprak/sv-FI?next=/")
    entries = shown_entries(page("/logg"))
    assert entries[0]["who"] == "Apotti (Österbottens välfärdsområde)"
    assert entries[1]["what"] == "Hämtade svaret om samtycke till sitt system."
    assert "Gäller: Hälsostationen i Vasa" in entries[1]["details"]


def test_the_log_runs_the_same_statements_for_one_system_or_many(client, app, database_url):
    who = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    read_both(client, register(database_url, [VC]), who)
    sign_in(client, who)
    one = measure(client, app, "/logg").statements
    for name in ("Cosmic", "Prator", "Pulsen Combine"):
        read_both(client, register(database_url, [VC], name=name), who)
    assert measure(client, app, "/logg").statements == one
