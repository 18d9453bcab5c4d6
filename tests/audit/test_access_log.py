"""Vem har tittat på dina uppgifter: the person's access log page (/logg).

Reads and changes by staff and by representatives, made through the real HTTP routes,
each appear exactly once with the right who, what and when; the person's own never do.
Filters by month (in the person's zone) and by who, keyset pagination, htmx, and the
access rules: nobody sees another person's log, a representative needs log:read.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from portal.audit import service as audit_service
from portal.audit.models import AuditEvent
from portal.audit.service import Actor, record, record_many, verify_chains
from portal.core import i18n
from portal.people.models import Person, StaffMember
from tests.consent.helpers import act_for, sign_in
from tests.factories import (
    SOC,
    VC,
    db_run,
    new_person,
    person_with_consent,
    represent,
    staff_named,
    unit_ids,
)
from tests.messages.helpers import ask
from tests.plans.helpers import as_staff
from tests.shared_app import app, client, module_client, settings  # noqa: F401

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCOPE_H1 = "Det här kan du inte göra för"


def shown_entries(page_) -> list[dict[str, str]]:
    """Each entry on the page: when (the datetime attribute and the text), who, what."""
    found = []
    for item in page_.select(".log-entry"):
        values = [" ".join(v.get_text(" ").split()) for v in item.select(".log-entry__value")]
        found.append({"at": item.select_one("time")["datetime"], "when": values[0],
                      "who": values[1], "what": " ".join(
                          item.select_one(".log-entry__what").get_text(" ").split()),
                      "details": values[2]})
    return found


def visible_events(client, person_id: str) -> list[AuditEvent]:
    """The person's events by staff and by others acting for them, newest first."""
    from portal.audit.access_log import visible

    async def work(db):
        return list((await db.exec(select(AuditEvent).where(visible(person_id))
                                   .order_by(col(AuditEvent.id).desc()))).all())

    return db_run(client, work)


def local_text(at: datetime) -> str:
    """`at` as the page shows it, in Stockholm time (the zone is set for this call only, so
    it does not leak into later tests in the same process)."""
    token = i18n.begin_request()
    try:
        i18n.show_times_in(STOCKHOLM)
        return i18n.format_datetime(at, "sv")
    finally:
        i18n.end_request(token)


def staff_member(client, given: str) -> StaffMember:
    async def work(db):
        return (await db.exec(select(StaffMember).where(StaffMember.given_name == given))).first()

    return db_run(client, work)


def publish_plan(client, person_id: str) -> None:
    """A published plan for the person, written by Anna through the plan services."""
    from portal.people.models import Unit
    from portal.plans import services as plans

    async def work(db):
        person = await db.get(Person, person_id)
        vc = (await db.exec(select(Unit).where(Unit.code == VC))).one()
        anna = (await db.exec(select(StaffMember).where(StaffMember.unit_id == vc.id,
                                                        StaffMember.given_name == "Anna"))).one()
        plan = await plans.create_plan(db, person, anna)
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision,
                                      {"important": "Att kunna bo kvar hemma."})
        await plans.publish(db, plan, anna, plan.draft_revision)

    db_run(client, work)


@contextmanager
def written_at(instant: datetime):
    """Audit events written inside are dated `instant` (the service reads utcnow)."""
    original = audit_service.utcnow
    audit_service.utcnow = lambda: instant
    try:
        yield
    finally:
        audit_service.utcnow = original


def write(client, person_id: str, action: str, actor: Actor, at: datetime, **kwargs) -> None:
    async def work(db):
        with written_at(at):
            await record(db, action, actor, subject_person_id=person_id, **kwargs)

    db_run(client, work)


# --- Every read and change by staff and representatives, exactly once ---------------------


def test_reads_and_changes_by_staff_and_a_proxy_each_appear_exactly_once(client, page):
    person = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    proxy = new_person(client, prefix="Lp")
    represent(client, proxy, person, "proxy")
    publish_plan(client, person.id)
    vc, _soc = unit_ids(client, VC, SOC)

    # The person's own reads and writes: never in their log.
    sign_in(client, person)
    page("/plan")
    page("/samtycke")
    assert ask(client, page, recipient=vc, subject="Egen fråga")[0].status_code == 303
    own = len(visible_events(client, person.id))

    as_staff(client, "Anna")
    page(f"/personal/personer/{person.id}")
    page(f"/personal/personer/{person.id}/samtycke")
    page(f"/personal/personer/{person.id}/plan")

    client.cookies.clear()
    sign_in(client, proxy)
    assert act_for(client, page, person.id).status_code == 303
    page("/plan")
    assert ask(client, page, recipient=vc, subject="Fråga från ombudet")[0].status_code == 303
    page("/logg")

    client.cookies.clear()
    sign_in(client, person)
    log = page("/logg")
    assert log.h1 == "Vem har tittat på dina uppgifter"
    assert "Loggen kan inte ändras i efterhand. Varje rad är låst till raden före." in log.text()
    entries = shown_entries(log)

    anna = "Anna Berg, Sjuksköterska, Kalmar vårdcentral"
    as_proxy = f"{proxy.name}, ombud med fullmakt för dig"
    expected = [
        (as_proxy, "Läste den här loggen."),
        (as_proxy, "Skickade en ny fråga."),
        (as_proxy, "Läste planen."),
        (as_proxy, "Började använda tjänsten för personen."),
        (anna, "Läste planen."),  # the editor shows the plan
        (anna, "Läste svaren om samtycke."),
        (anna, "Öppnade översikten med uppgifterna."),
        (anna, "Publicerade en ny version av planen."),
        (anna, "Ändrade i utkastet till planen."),
        (anna, "Började skriva en ny plan."),
    ]
    assert [(e["who"], e["what"]) for e in entries] == expected
    assert own == 3, "Anna's three changes to the plan, and nothing the person did"

    events = visible_events(client, person.id)
    assert [e.at.isoformat() for e in events] == [e["at"] for e in entries]
    for entry, event in zip(entries, events, strict=True):
        assert entry["when"] == local_text(event.at)
    assert "Fråga från ombudet" in entries[1]["details"]
    assert "Egen fråga" not in log.text()
    assert "Version 1 av planen." in entries[2]["details"]


def test_the_person_never_sees_their_own_reads_and_a_new_person_sees_an_empty_log(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    sign_in(client, person)
    for url in ("/plan", "/samtycke", "/meddelanden", "/logg"):
        page(url)
    log = page("/logg")
    assert shown_entries(log) == []
    assert "Ingen i personalen och ingen som företräder dig har läst eller ändrat något än." \
        in log.text()


def test_staff_lists_and_consent_recorded_by_staff_are_in_the_log(client, page):
    person = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    as_staff(client, "Anna")
    page("/personal/personer")
    client.cookies.clear()
    sign_in(client, person)
    entries = shown_entries(page("/logg"))
    assert [(e["who"], e["what"]) for e in entries] == [
        ("Anna Berg, Sjuksköterska, Kalmar vårdcentral",
         "Såg namnet och svaret om samtycke i en lista.")]


def test_a_representatives_name_is_hidden_when_they_have_protected_personal_data(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    proxy = new_person(client, prefix="Lq")

    async def protect(db):
        found = await db.get(Person, proxy.id)
        found.protected_identity = True
        db.add(found)

    db_run(client, protect)
    represent(client, proxy, person, "proxy")
    sign_in(client, proxy)
    act_for(client, page, person.id)
    page("/plan")
    client.cookies.clear()
    sign_in(client, person)
    log = page("/logg")
    assert proxy.given_name not in log.response.text
    assert shown_entries(log)[0]["who"].startswith("En person med skyddade personuppgifter,")


# --- Filters and pagination -----------------------------------------------------------------


def _filtered_person(client):
    """A person with a staff read on 1 April 2026 00:30 in Stockholm (22:30 UTC the day
    before), another staff read on 31 March 23:30, a proxy's read in February, and their
    own read and a system event (neither shown)."""
    person = new_person(client, units=(VC, SOC), prefix="Lf")
    proxy = new_person(client, prefix="Lg")
    represent(client, proxy, person, "guardian")
    anna_id, anna_unit = staff_named(client, "Anna")
    maria_id, maria_unit = staff_named(client, "Maria")
    # Written in the order they happened, as the chain's lock makes them in real life.
    write(client, person.id, "representation.registered", Actor("system"),
          datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    write(client, person.id, "plan.read", Actor("person", proxy.id, "guardian"),
          datetime(2026, 2, 10, 10, 0, tzinfo=UTC))
    write(client, person.id, "plan.read", Actor("person", person.id, "self"),
          datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    write(client, person.id, "consent.viewed_by_staff", Actor("staff", maria_id, "staff", maria_unit),
          datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    write(client, person.id, "plan.read", Actor("staff", anna_id, "staff", anna_unit),
          datetime(2026, 3, 31, 22, 30, tzinfo=UTC), object_type="plan", object_id="p")
    return person, proxy, anna_id, maria_id


def test_months_are_the_persons_own_and_filter_the_list(client, page):
    person, _proxy, _anna, _maria = _filtered_person(client)
    sign_in(client, person)
    log = page("/logg")
    months = [(o["value"], o.get_text(strip=True)) for o in log.select("select#manad option")]
    assert months == [("", "Alla månader"), ("2026-04", "april 2026"), ("2026-03", "mars 2026"),
                      ("2026-02", "februari 2026")]
    assert [e["what"] for e in shown_entries(log)] == [
        "Läste planen.", "Läste svaren om samtycke.", "Läste planen."]
    assert shown_entries(log)[0]["when"] == "1 april 2026 kl. 00.30"

    april = page("/logg?manad=2026-04")
    assert [e["who"] for e in shown_entries(april)] == [
        "Anna Berg, Sjuksköterska, Kalmar vårdcentral"]
    assert "Visar allt i april 2026." in april.text(".log-shown")
    assert april.select_one("select#manad option[selected]")["value"] == "2026-04"
    march = page("/logg?manad=2026-03")
    assert [e["who"] for e in shown_entries(march)] == [
        "Maria Ek, Biståndshandläggare, Socialtjänsten i Kalmar kommun"]
    assert shown_entries(page("/logg?manad=2025-12")) == []
    assert "Det finns inget som passar det du valde." in page("/logg?manad=2025-12").text()
    # Not a month: ignored, everything shown.
    assert len(shown_entries(page("/logg?manad=2026-13"))) == 3


def test_the_who_filter_lists_the_actors_and_narrows_the_list(client, page):
    person, proxy, anna, maria = _filtered_person(client)
    sign_in(client, person)
    log = page("/logg")
    options = {o["value"]: o.get_text(strip=True) for o in log.select("select#vem option")}
    assert options == {"": "Alla", anna: "Anna Berg (Kalmar vårdcentral)",
                       maria: "Maria Ek (Socialtjänsten i Kalmar kommun)",
                       proxy.id: f"{proxy.name} (vårdnadshavare)"}
    assert person.id not in options
    by_proxy = page(f"/logg?vem={proxy.id}")
    assert [e["who"] for e in shown_entries(by_proxy)] == [
        f"{proxy.name}, vårdnadshavare för dig"]
    assert f"Visar det som {proxy.name} har gjort." in by_proxy.text(".log-shown")
    both = page(f"/logg?vem={anna}&manad=2026-03")
    assert shown_entries(both) == []
    # Someone who is not in the log (the person themself): ignored.
    assert len(shown_entries(page(f"/logg?vem={person.id}"))) == 3


def test_htmx_gets_the_list_and_a_browser_the_page(client, page):
    person, _proxy, anna, _maria = _filtered_person(client)
    sign_in(client, person)
    whole = page(f"/logg?vem={anna}")
    form = whole.select_one("form.log-filters")
    assert form["method"] == "get" and form["hx-get"] == "/logg"
    assert form["hx-target"] == "#access-log" and form["hx-push-url"] == "true"
    fragment = client.get(f"/logg?vem={anna}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="access-log"' in fragment.text
    assert fragment.text.count('class="log-entry"') == 1
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]


def test_keyset_pagination_shows_older_entries_once(client, page):
    person = new_person(client, units=(VC,), prefix="Lk")
    anna_id, anna_unit = staff_named(client, "Anna")

    async def many(db):
        await record_many(db, "consent.listed_for_staff", Actor("staff", anna_id, "staff", anna_unit),
                          [(person.id, "person", person.id)] * 55)

    db_run(client, many)
    sign_in(client, person)
    first = page("/logg")
    assert len(shown_entries(first)) == 50
    more = first.select_one(".log-more a")
    assert more.get_text(strip=True) == "Visa äldre"
    assert more["href"].startswith("/logg?fore=") and more["hx-get"] == more["href"]
    second = page(more["href"])
    assert len(shown_entries(second)) == 5
    assert [a.get_text(strip=True) for a in second.select(".log-more a")] == ["Visa de senaste"]
    events = visible_events(client, person.id)
    assert len(events) == 55
    assert more["href"] == f"/logg?fore={events[49].id}"
    # Garbage in `fore` is ignored.
    assert len(shown_entries(page("/logg?fore=x1"))) == 50

    # The whole log at once, as the "Mina uppgifter" document uses it.
    from portal.audit.access_log import entries

    async def everything(db):
        return await entries(db, await db.get(Person, person.id), limit=None)

    whole = db_run(client, everything)
    assert len(whole.entries) == 55 and whole.older is None
    assert [e.id for e in whole.entries] == [e.id for e in events]


# --- Access -------------------------------------------------------------------------------


def test_nobody_sees_another_persons_log(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    other = new_person(client, prefix="Lo")
    as_staff(client, "Anna")
    page(f"/personal/personer/{person.id}")
    client.cookies.clear()
    sign_in(client, other)
    log = page("/logg")
    assert shown_entries(log) == []
    assert person.given_name not in log.response.text
    # Choosing the person to act for is refused; the log is still the other's own.
    act_for(client, page, person.id)
    assert shown_entries(page("/logg")) == []
    anna = staff_named(client, "Anna")[0]
    assert shown_entries(page(f"/logg?vem={anna}")) == []


def test_a_representative_with_log_read_sees_the_log_and_their_read_is_logged(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    guardian = new_person(client, prefix="Lr")
    represent(client, guardian, person, "legal_representative", scope="plan:read log:read")
    as_staff(client, "Anna")
    page(f"/personal/personer/{person.id}")
    client.cookies.clear()
    sign_in(client, guardian)
    act_for(client, page, person.id)
    log = page("/logg")
    assert log.h1 == f"Vem har tittat på {person.given_name}s uppgifter"
    assert [e["what"] for e in shown_entries(log)] == [
        "Började använda tjänsten för personen.", "Öppnade översikten med uppgifterna."]
    assert shown_entries(log)[0]["who"] == \
        f"{guardian.name}, god man eller förvaltare för {person.given_name}"
    assert "Vem har tittat" in log.text("nav")
    again = page("/logg")
    assert shown_entries(again)[0]["what"] == "Läste den här loggen."


def test_a_representative_without_log_read_is_told_what_their_right_covers(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    proxy = new_person(client, prefix="Ls")
    represent(client, proxy, person, "proxy", scope="plan:read messages")
    sign_in(client, proxy)
    act_for(client, page, person.id)
    refused = page("/logg", status=403)
    assert refused.h1.startswith(SCOPE_H1)
    assert "Vem har tittat" not in page("/").text("nav")
    assert not [e for e in visible_events(client, person.id) if e.action == "access_log.viewed"]


def test_the_chains_verify_after_the_log_is_read(client, page, database_url):
    person, _proxy, _anna, _maria = _filtered_person(client)
    sign_in(client, person)
    page("/logg")

    async def work(db):
        return await verify_chains(db)

    assert db_run(client, work) == []


def test_the_menu_and_the_start_page_lead_to_the_log(client, page):
    person = person_with_consent(client, units=(VC,), consent=(VC,))
    sign_in(client, person)
    start = page("/")
    assert start.select_one('nav a[href="/logg"]').get_text(strip=True) == "Vem har tittat"
    assert "Vem har tittat på uppgifterna" in [a.get_text(strip=True)
                                               for a in start.select('main a[href="/logg"]')]
    log = page("/logg")
    assert log.select_one('nav a[href="/logg"]')["aria-current"] == "page"


def test_the_log_reads_in_finland_swedish_for_a_person_in_finland(client, page):
    person = new_person(client, country="FI", units=("fi-vasa-hs",), prefix="Lv")
    proxy = new_person(client, country="FI", prefix="Lw")
    represent(client, proxy, person, "proxy")
    sign_in(client, proxy)
    act_for(client, page, person.id)
    page("/plan")
    client.cookies.clear()
    sign_in(client, person)
    client.get("/sprak/sv-FI?next=/")
    log = page("/logg")
    entry = shown_entries(log)[0]
    assert entry["who"] == f"{proxy.name}, ombud som personen har valt för dig"
    assert entry["what"] == "Började använda tjänsten för personen."
    # Helsinki time, Finnish date format: d.M.y kl. HH.mm
    event = visible_events(client, person.id)[0]
    local = event.at.astimezone(ZoneInfo("Europe/Helsinki"))
    assert entry["when"] == f"{local.day}.{local.month}.{local.year} kl. {local:%H.%M}"


def test_an_action_or_actor_no_longer_known_is_still_shown(client, page):
    """Better a plain line than a read that goes unseen: an action this version has no words
    for, by staff or a representative the database no longer knows."""
    person = new_person(client, units=(VC,), prefix="Lu")
    _anna, vc = staff_named(client, "Anna")
    write(client, person.id, "plan.printed", Actor("staff", "GoneStaff0000000000001", "staff", vc),
          datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    write(client, person.id, "plan.read", Actor("person", "GonePerson000000000001", "proxy"),
          datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    sign_in(client, person)
    log = page("/logg")
    assert [(e["who"], e["what"]) for e in shown_entries(log)] == [
        ("Någon som företräder personen", "Läste planen."),
        ("Någon i personalen, Kalmar vårdcentral", "Använde uppgifterna."),
    ]
    options = [o.get_text(strip=True) for o in log.select("select#vem option")]
    assert options == ["Alla", "Någon i personalen", "Någon som företräder personen"]


def test_the_relation_is_named_by_kind_appointment_and_country():
    from datetime import date

    from portal.audit.access_log import _relation
    from portal.people.models import Representation

    def rep(kind: str, appointment: str | None = None, source: str = "person"):
        return Representation(representative_id="r", represented_id="p", kind=kind, scope="",
                              valid_from=date(2026, 1, 1), source=source, appointment=appointment)

    assert _relation("guardian", rep("guardian"), "SE") == "vårdnadshavare"
    assert _relation("legal_representative", rep("legal_representative", "forvaltare"), "SE") \
        == "förvaltare"
    assert _relation("legal_representative", rep("legal_representative"), "SE") \
        == "god man eller förvaltare"
    assert _relation("legal_representative", None, "FI") == "intressebevakare"
    assert _relation("proxy", rep("proxy", source="suomi_fi"), "FI") == "ombud med Suomi.fi-fullmakt"
    assert _relation("proxy", rep("proxy", source="invitation"), "SE") == "ombud med fullmakt"
    assert _relation(None, None, "SE") == "företrädare"
