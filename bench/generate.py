"""Synthetic data at scale for the benchmark: N generated persons beside the demo people.

    .venv/bin/python -m bench.generate postgresql://postgres@127.0.0.1:5432/DB --persons 100000

PostgreSQL only (psycopg COPY; 100 000 persons take a few minutes). Run it on a migrated
database after `python -m portal demo`, so that the demo people still log in as before.
Deterministic for a given `--seed`. It adds, with shapes like the demo's stories:

- units (about one per 250 persons, two contact persons each, in Sweden and Finland);
  a few persons are also cared for by the demo units, so the demo staff see grown data;
- persons with valid-looking synthetic national ids: Swedish personnummer with a Luhn
  check digit (serials 000-899; the demo people use 98x) and, for one in ten, Finnish
  personbeteckningar in the test range 900-999 with their mod-31 check character;
- care relations (1-3 units), consent acts and events (tens per person over time: give,
  withdraw, think, per unit; `seq` 1, 2, 3 ... per person), guardians for children and
  proxies or legal representatives for about one adult in eight;
- plans for about 60 % of persons: 1-6 published versions with whole content documents,
  the draft, and what the person has seen; about 2 % have a follow-up that slipped;
- requests for coordination (one in five persons) with units, timelines and events;
  message threads (one in three persons, 2-60 messages; a few very long), mostly closed;
- audit events hash-chained per person exactly as `portal.audit.service.record` writes
  them (so `verify_chains` holds), staff reads included, and sent outbox rows.

Returns/prints a JSON summary: row counts per table and seconds taken. Raises
`ValueError` for a non-PostgreSQL URL. Times are aware UTC.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy.engine import make_url

from portal.audit.service import GENESIS, chain_hash
from portal.core.ids import new_id
from portal.plans import content as plan_content
from portal.plans.services import follow_up_fields

SE_GIVEN = ["Anders", "Birgitta", "Carl", "Dagny", "Eva", "Folke", "Greta", "Hugo", "Ingrid",
            "Jonas", "Kerstin", "Lars", "Maja", "Nils", "Olle", "Pia", "Rut", "Sten", "Tove",
            "Ulla", "Vera", "Wilhelm", "Åsa", "Östen", "Amir", "Fatima", "Leila", "Omar"]
SE_FAMILY = ["Berglund", "Dahl", "Ekström", "Forsberg", "Gustafsson", "Hedlund", "Isaksson",
             "Jönsson", "Karlsson", "Lindqvist", "Magnusson", "Nyström", "Olofsson", "Persson",
             "Sandberg", "Törnqvist", "Wallin", "Öberg", "Hassan", "Yilmaz"]
FI_GIVEN = ["Alva", "Bror", "Camilla", "Dan", "Elin", "Fredrik", "Gun", "Henrik", "Ida", "Kaj"]
FI_FAMILY = ["Backman", "Granqvist", "Holmström", "Lindroos", "Nyman", "Sjöblom", "Westerlund"]
KINDS = ["primary_care", "social_services", "elderly_care", "psychiatry", "habilitation"]
ACTIONS = [
    "Vi går igenom dina mediciner en gång i månaden.",
    "Hemtjänsten kommer på morgonen och på kvällen.",
    "Du får träffa en kurator varannan vecka.",
    "Vi söker en bostad med hiss åt dig.",
    "Du tränar balans med fysioterapeuten två gånger i veckan.",
    "Skolan och habiliteringen träffas en gång i månaden.",
]
MESSAGES = [
    "Hej! Jag undrar när nästa möte är. Kan min son vara med?",
    "Hej! Mötet är på tisdag kl. 10. Din son får gärna vara med.",
    "Tack! Jag har fått den nya dosetten. Den fungerar bra.",
    "Bra att höra. Hör av dig om något blir svårt.",
    "Kan ni ringa mig i stället? Jag läser inte så bra på telefonen.",
    "Vi ringer dig i morgon förmiddag.",
]
SCOPES_ALL = "plan:read consent requests messages log:read"
THREAD_SUBJECTS = ["Fråga om mötet", "Mediciner", "Hemtjänsten", "Bostad", "Skolan"]
# Tables the generator fills, in insert order (foreign keys first).
TABLES = ["unit", "staff_member", "person", "care_relation", "representation", "consent_act",
          "consent_event", "plan", "plan_version", "plan_seen", "coordination_request",
          "request_unit", "request_event", "message_thread", "message", "audit_event",
          "outbox_message"]


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError("bench.generate needs PostgreSQL (it uses COPY)")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def swedish_id(born: date, serial: int) -> str:
    """A 12-digit personnummer, YYYYMMDDNNNC, C the Luhn check digit over YYMMDDNNN."""
    from stdnum import luhn

    first_nine = f"{born:%y%m%d}{serial:03d}"
    return f"{born.year // 100}{first_nine}{luhn.calc_check_digit(first_nine)}"


def finnish_id(born: date, individual: int) -> str:
    """DDMMYY, century sign, NNN (900-999: test ids), mod-31 check character."""
    sign = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    ddmmyy = f"{born:%d%m%y}"
    return (f"{ddmmyy}{sign}{individual:03d}"
            f"{'0123456789ABCDEFHJKLMNPRSTUVWXY'[int(f'{ddmmyy}{individual:03d}') % 31]}")


class Generator:
    """Builds rows in memory per table (lists of dicts), then COPYs them in order."""

    def __init__(self, persons: int, seed: int, token: str, now: datetime, taken_ids: set[str],
                 demo_units: list[dict], demo_staff: list[dict], chain_tails: dict[str, str]):
        self.n = persons
        self.rng = random.Random(seed)
        self.new_id = new_id  # random, so that a second run adds rows beside the first
        self.run = token  # in codes and keys that must be unique across runs
        self.now = now
        self.today = now.date()
        self.taken = set(taken_ids)
        self.demo_units = demo_units
        self.demo_staff = demo_staff
        self.chain_tails = chain_tails
        self.rows: dict[str, list[dict]] = {t: [] for t in TABLES}
        self.request_counter = 0
        self.key_counter = 0
        self.per_unit = 250

    # --- small helpers -------------------------------------------------------------------

    def at(self, days_ago_max: int, days_ago_min: int = 0) -> datetime:
        seconds = self.rng.randint(days_ago_min * 86400, days_ago_max * 86400)
        return (self.now - timedelta(seconds=seconds)).replace(microsecond=0)

    def key(self) -> str:
        self.key_counter += 1
        return f"gen-{self.run}-{self.key_counter}"

    def national_id(self, born: date, country: str) -> str:
        while True:
            if country == "FI":
                number = finnish_id(born, self.rng.randint(900, 999))
            else:
                number = swedish_id(born, self.rng.randint(0, 899))
            if number not in self.taken:
                self.taken.add(number)
                return number
            born += timedelta(days=1)

    # --- units and staff ---------------------------------------------------------------

    def units(self) -> None:
        count = max(4, self.n // self.per_unit)
        self.unit_list: list[dict] = []
        self.staff_of: dict[str, list[dict]] = {}
        for i in range(count):
            country = "FI" if i % 10 == 9 else "SE"
            unit = {"id": self.new_id(), "code": f"gen-{self.run}-{i:05d}", "name": f"Enhet {i + 1}",
                    "organisation": "Region Exempel" if country == "SE" else "Välfärdsområdet",
                    "kind": KINDS[i % len(KINDS)], "country": country, "description": "",
                    "phone": f"010-{i:06d}", "answer_days": 3 + i % 3,
                    "address": f"Exempelgatan {i % 90 + 1}"}
            self.rows["unit"].append(unit)
            self.unit_list.append(unit)
            staff = []
            for j in range(2):
                member = {"id": self.new_id(), "employee_id": f"gen-{self.run}-{i:05d}-{j}",
                          "given_name": self.rng.choice(SE_GIVEN), "family_name": self.rng.choice(SE_FAMILY),
                          "title": "Sjuksköterska" if j == 0 else "Biståndshandläggare",
                          "unit_id": unit["id"], "email": f"staff{i}-{j}@example.se", "phone": None}
                self.rows["staff_member"].append(member)
                staff.append(member)
            self.staff_of[unit["id"]] = staff
        for member in self.demo_staff:
            self.staff_of.setdefault(member["unit_id"], []).append(member)

    # --- persons ---------------------------------------------------------------------

    def person(self, i: int) -> dict:
        country = "FI" if i % 10 == 9 else "SE"
        born = date(1930, 1, 1) + timedelta(days=self.rng.randint(0, 85 * 365))
        given = self.rng.choice(FI_GIVEN if country == "FI" else SE_GIVEN)
        family = self.rng.choice(FI_FAMILY if country == "FI" else SE_FAMILY)
        person = {"id": self.new_id(), "national_id": self.national_id(born, country),
                  "given_name": given, "family_name": family, "birth_date": born,
                  "country": country, "email": f"person{i}@example.se" if i % 3 else None,
                  "phone": None, "notify_email": True, "notify_sms": False,
                  "protected_identity": i % 200 == 0, "created_at": self.at(900, 400)}
        self.rows["person"].append(person)
        return person

    def audit(self, person_id: str, action: str, at: datetime, actor_type: str,
              actor_id: str | None, role: str | None, unit_id: str | None = None,
              object_type: str | None = None, object_id: str | None = None,
              on_behalf_of: str | None = None) -> None:
        # What portal.audit.service.canonical reads, without building an ORM object
        # (three quarters of the generator's time when it did).
        event = SimpleNamespace(at=at, action=action, actor_type=actor_type, actor_id=actor_id,
                           role=role, unit_id=unit_id, on_behalf_of=on_behalf_of,
                           subject_person_id=person_id, object_type=object_type,
                           object_id=object_id, detail="{}", chain=person_id, prev_hash="", hash="")
        event.prev_hash = self.chain_tails.get(person_id, GENESIS)
        event.hash = chain_hash(event.prev_hash, event)
        self.chain_tails[person_id] = event.hash
        self.rows["audit_event"].append({
            "at": at, "action": action, "actor_type": actor_type, "actor_id": actor_id,
            "role": role, "unit_id": unit_id, "on_behalf_of": on_behalf_of,
            "subject_person_id": person_id, "object_type": object_type, "object_id": object_id,
            "detail": "{}", "chain": person_id, "prev_hash": event.prev_hash, "hash": event.hash})

    def consent(self, person: dict, units: list[dict], deciders: list[str], events: list) -> None:
        """Acts over ~2 years, oldest first; the last act per unit is mostly a yes."""
        seq = 0
        acts = self.rng.randint(2, 12)
        for a in range(acts):
            at = self.at(700 - a * 50, 650 - a * 50 if a * 50 < 650 else 0)
            chosen = self.rng.sample(units, self.rng.randint(1, len(units)))
            last = a == acts - 1
            decision = "give" if last or self.rng.random() < 0.6 else self.rng.choice(["withdraw", "think"])
            by = self.rng.choice(deciders)
            act = {"id": self.new_id(), "idempotency_key": self.key(), "person_id": person["id"],
                   "decision": decision, "actor_type": "person", "actor_id": by,
                   "role": "self" if by == person["id"] else "guardian", "unit_id": None,
                   "given_by_id": by, "method": "digital", "note": None, "occurred_at": at,
                   "recorded_at": at, "wording_id": None}
            self.rows["consent_act"].append(act)
            kind = {"give": "given", "withdraw": "withdrawn", "think": "thinking"}[decision]
            for unit in chosen:
                seq += 1
                self.rows["consent_event"].append({
                    "id": self.new_id(), "act_id": act["id"], "person_id": person["id"], "seq": seq,
                    "unit_id": unit["id"], "kind": kind, "recorded_at": at})
            events.append((at, f"consent.{decision}", "person", by, act["id"]))

    def plan(self, person: dict, units: list[dict], events: list) -> None:
        coordinator = self.rng.choice(self.staff_of[units[0]["id"]])
        versions = self.rng.choice([1, 1, 2, 2, 3, 4, 6])
        created = self.at(600, 300)
        plan_id = self.new_id()
        content = None
        slipped = self.rng.random() < 0.02
        for number in range(1, versions + 1):
            published = created + timedelta(days=40 * (number - 1), hours=2)
            follow = (self.today - timedelta(days=self.rng.randint(2, 30)) if slipped and number == versions
                      else self.today + timedelta(days=self.rng.randint(5, 170)))
            if number < versions:
                follow = (published + timedelta(days=30)).date()
            actions = [{"id": f"a{k}", "what": self.rng.choice(ACTIONS),
                        "unit_id": self.rng.choice(units)["id"], "responsible": coordinator["given_name"],
                        "start": (published.date() - timedelta(days=3)).isoformat(), "end": "",
                        "status": self.rng.choice(list(plan_content.ACTION_STATUSES))}
                       for k in range(1, self.rng.randint(2, 6))]
            content = dict(plan_content.EMPTY)
            content.update({
                "important": "Jag vill bo kvar hemma. Jag vill träffa mina barnbarn.",
                "self_can": "Du klär dig själv. Du lagar enkel mat.",
                "need_help": f"Du behöver hjälp med mediciner och med att handla. (version {number})",
                "actions": actions, "coordinator_id": coordinator["id"],
                "contacts": [{"id": "c1", "name": f"{coordinator['given_name']} {coordinator['family_name']}",
                              "role": "Din samordnare", "phone": "010-123 45", "hours": "Vardagar kl. 8–10"}],
                "relatives": [],
                "follow_up": {"date": follow.isoformat(), "time": "10:00", "place": "Hemma"},
                "start": created.date().isoformat(), "end": (created.date() + timedelta(days=365)).isoformat(),
                "evaluation": follow.isoformat()})
            published = min(published, self.now)
            self.rows["plan_version"].append({
                "id": self.new_id(), "plan_id": plan_id, "number": number,
                "content": plan_content.dump(content), "published_at": published,
                "published_by": coordinator["id"]})
            events.append((published, "plan.published", "staff", coordinator["id"], plan_id))
        follow_up_at, coordinator_id = follow_up_fields(content, SimpleNamespace(country=person["country"]),
                                                        published)
        self.rows["plan"].append({
            "id": plan_id, "person_id": person["id"], "status": "active",
            "draft": plan_content.dump(content), "draft_revision": versions, "current_version": versions,
            "created_at": created, "created_by": coordinator["id"], "draft_updated_at": created,
            "draft_updated_by": coordinator["id"], "closed_at": None, "closed_by": None,
            "close_reason": None, "overdue_notice_version": None,
            "follow_up_at": follow_up_at, "coordinator_id": coordinator_id})
        self.rows["plan_seen"].append({"id": self.new_id(), "plan_id": plan_id, "reader_id": person["id"],
                                       "version": self.rng.randint(1, versions), "seen_at": self.at(30)})

    def request(self, person: dict, units: list[dict], author: str, role: str, events: list) -> None:
        self.request_counter += 1
        sent = self.at(400, 2)
        status = self.rng.choices(["received", "assigned", "meeting_booked", "plan_made", "closed"],
                                  [1, 2, 1, 3, 10])[0]
        staff = self.rng.choice(self.staff_of[units[0]["id"]])
        request_id = self.new_id()
        answers = {"hard": "Mamma orkar inte längre. Vi behöver hjälp från flera håll.",
                   "units": [u["id"] for u in units], "other": "", "unknown": False,
                   "units_answered": True, "contact": "portal", "phone": "", "times": "",
                   "consent": "given"}
        self.rows["coordination_request"].append({
            "id": request_id, "person_id": person["id"], "status": status,
            "reference": f"G{self.run}{self.request_counter:07d}", "author_type": "person", "author_id": author,
            "author_role": role, "channel": "portal", "answers": json.dumps(answers, ensure_ascii=False),
            "created_at": sent, "updated_at": sent, "sent_at": sent,
            "due_on": (sent + timedelta(days=5)).date(),
            "assigned_to": staff["id"] if status != "received" else None, "plan_id": None,
            "close_reason": "Planen är klar." if status == "closed" else None})
        for unit in units:
            self.rows["request_unit"].append({"id": self.new_id(), "request_id": request_id,
                                              "unit_id": unit["id"]})
        steps = ["received"] + {"received": [], "assigned": ["assigned"],
                                "meeting_booked": ["assigned", "meeting_booked"],
                                "plan_made": ["assigned", "meeting_booked", "plan_made"],
                                "closed": ["assigned", "closed"]}[status]
        for k, kind in enumerate(steps):
            detail = {"assigned": {"staff_id": staff["id"]}, "closed": {"reason": "Planen är klar."}}.get(kind, {})
            self.rows["request_event"].append({
                "id": self.new_id(), "request_id": request_id, "kind": kind,
                "at": min(sent + timedelta(days=k), self.now),
                "actor_type": "person" if kind == "received" else "staff",
                "actor_id": author if kind == "received" else staff["id"],
                "detail": json.dumps(detail, ensure_ascii=False)})
        events.append((sent, "request.sent", "person", author, request_id))

    def threads(self, person: dict, units: list[dict], events: list) -> None:
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            unit = self.rng.choice(units)
            staff = self.rng.choice(self.staff_of[unit["id"]])
            length = self.rng.choice([2, 2, 3, 4, 6, 10, 20]) if self.rng.random() > 0.03 else 60
            start = self.at(500, 3)
            thread_id = self.new_id()
            open_ = self.rng.random() < 0.05
            at = start
            for k in range(length):
                at = min(at + timedelta(hours=self.rng.randint(1, 60)), self.now)
                mine = k % 2 == 0
                self.rows["message"].append({
                    "id": self.new_id(), "thread_id": thread_id,
                    "author_type": "person" if mine else "staff",
                    "author_id": person["id"] if mine else staff["id"],
                    "author_role": "self" if mine else "staff", "on_behalf_of": None,
                    "body": self.rng.choice(MESSAGES[0::2] if mine else MESSAGES[1::2]),
                    "idempotency_key": self.key(), "created_at": at,
                    "read_by_staff_at": at if mine else None, "read_by_staff_id": staff["id"] if mine else None})
            waiting = "staff" if length % 2 else "person"
            self.rows["message_thread"].append({
                "id": thread_id, "person_id": person["id"], "unit_id": unit["id"], "staff_id": staff["id"],
                "request_id": None, "subject": self.rng.choice(THREAD_SUBJECTS),
                "status": "open" if open_ else "closed", "waiting_for": waiting,
                "assigned_to": staff["id"], "due_on": (at + timedelta(days=3)).date(),
                "created_at": start, "last_message_at": at})
            events.append((start, "message.sent", "person", person["id"], thread_id))
            events.append((at, "thread.viewed_by_staff", "staff", staff["id"], thread_id))

    def everything(self) -> None:
        self.units()
        previous_adult: dict | None = None
        for i in range(self.n):
            person = self.person(i)
            events: list[tuple] = []
            units = self.rng.sample(self.unit_list, self.rng.randint(1, 3))
            if self.rng.random() < 0.02 and self.demo_units:
                units.append(self.rng.choice(self.demo_units))
            for unit in units:
                self.rows["care_relation"].append({"id": self.new_id(), "person_id": person["id"],
                                                   "unit_id": unit["id"], "created_at": person["created_at"]})
            deciders = [person["id"]]
            child = (self.today - person["birth_date"]).days < 18 * 365
            if previous_adult is not None and (child or self.rng.random() < 0.12):
                rep_kind = "guardian" if child else self.rng.choice(["proxy", "legal_representative"])
                self.rows["representation"].append({
                    "id": self.new_id(), "representative_id": previous_adult["id"],
                    "represented_id": person["id"], "kind": rep_kind,
                    "scope": SCOPES_ALL if rep_kind != "legal_representative" else "consent requests messages plan:read",
                    "valid_from": self.today - timedelta(days=400), "valid_to": None,
                    "source": {"guardian": "population_register", "proxy": "person",
                               "legal_representative": "court"}[rep_kind],
                    "appointment": "god_man" if rep_kind == "legal_representative" else None,
                    "created_at": self.at(400, 300), "ended_at": None, "ended_by": None})
                if child:
                    deciders = [previous_adult["id"]]
            elif not child:
                previous_adult = person
            self.consent(person, units, deciders, events)
            if self.rng.random() < 0.6:
                self.plan(person, units, events)
            if self.rng.random() < 0.2:
                self.request(person, units, deciders[0], "self" if deciders[0] == person["id"] else "guardian",
                             events)
            if self.rng.random() < 0.33:
                self.threads(person, units, events)
            for _ in range(self.rng.randint(0, 4)):  # staff reading the plan or consent
                unit = self.rng.choice(units)
                staff = self.rng.choice(self.staff_of[unit["id"]])
                events.append((self.at(300), self.rng.choice(["plan.read", "consent.viewed_by_staff",
                                                              "person.viewed_by_staff"]),
                               "staff", staff["id"], None))
            events.sort(key=lambda e: e[0])
            for at, action, actor_type, actor_id, object_id in events:
                staff_unit = None
                if actor_type == "staff":
                    staff_unit = next((s["unit_id"] for u in units for s in self.staff_of[u["id"]]
                                       if s["id"] == actor_id), None)
                self.audit(person["id"], action, at, actor_type, actor_id,
                           "staff" if actor_type == "staff" else ("self" if actor_id == person["id"] else "guardian"),
                           unit_id=staff_unit, object_type=action.split(".")[0], object_id=object_id,
                           on_behalf_of=person["id"] if actor_type == "person" and actor_id != person["id"] else None)
                if action in ("plan.published", "message.sent") and person["email"]:
                    self.rows["outbox_message"].append({
                        "id": self.new_id(), "person_id": person["id"], "staff_id": None,
                        "channel": "email", "to_address": None,
                        "template": "plan_published" if action == "plan.published" else "message_answered",
                        "locale": "sv_FI" if person["country"] == "FI" else "sv", "created_at": at,
                        "attempts": 1, "next_attempt_at": at, "sent_at": at + timedelta(seconds=5),
                        "last_error": None})


def _existing(conn) -> tuple[set[str], list[dict], list[dict], dict[str, str]]:
    taken = {row[0] for row in conn.execute("SELECT national_id FROM person")}
    units = [dict(zip(("id", "country"), row, strict=False)) for row in conn.execute(
        "SELECT id, country FROM unit WHERE code NOT LIKE 'gen-%'")]
    staff = [dict(zip(("id", "unit_id", "given_name", "family_name"), row, strict=False)) for row in conn.execute(
        "SELECT id, unit_id, given_name, family_name FROM staff_member")]
    tails = dict(conn.execute(
        "SELECT chain, hash FROM audit_event WHERE id IN (SELECT max(id) FROM audit_event GROUP BY chain)"))
    with_staff = {member["unit_id"] for member in staff}
    return taken, [u for u in units if u["id"] in with_staff], staff, tails


def copy_table(conn, table: str, rows: list[dict]) -> None:
    """COPY `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    columns = list(rows[0])
    with conn.cursor().copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def generate(database_url: str, persons: int, seed: int = 12, now: datetime | None = None,
             batch: int = 20_000, per_unit: int = 250) -> dict:
    """Add `persons` generated persons (and everything around them) to the PostgreSQL
    database at `database_url`, in batches of `batch` persons (one transaction each),
    then ANALYZE. `now` (aware UTC, default the clock) anchors every date; there is one
    generated unit (two contact persons) per `per_unit` persons, and each person is
    cared for by 1-3 units, so a unit's caseload stays near 2 × `per_unit`. Returns
    {"persons": N, "rows": {table: count}, "seconds": float}."""
    import psycopg

    started = time.monotonic()
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    with psycopg.connect(_conninfo(database_url)) as conn:
        # Bulk rows need no change counters (portal/migrations/data_versions.py: no page is
        # kept yet) nor the append-only checks: a replica session fires no triggers.
        # Superuser only; otherwise the triggers run (slower, same result).
        try:
            conn.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()
        taken, demo_units, demo_staff, tails = _existing(conn)
        rng_seed = seed
        token = secrets.token_hex(3)
        unit_gen = Generator(persons, rng_seed, token, now, taken, demo_units, demo_staff, tails)
        unit_gen.per_unit = per_unit
        unit_gen.units()
        for table in ("unit", "staff_member"):
            copy_table(conn, table, unit_gen.rows[table])
            counts[table] += len(unit_gen.rows[table])
        conn.commit()
        done = 0
        while done < persons:
            size = min(batch, persons - done)
            gen = Generator(size, rng_seed + done + 1, token, now, unit_gen.taken, demo_units, demo_staff, tails)
            gen.unit_list, gen.staff_of = unit_gen.unit_list, unit_gen.staff_of
            gen.key_counter = unit_gen.key_counter + done * 1000
            gen.request_counter = done * 10
            gen.units = lambda: None
            gen.everything()
            for table in TABLES[2:]:
                copy_table(conn, table, gen.rows[table])
                counts[table] += len(gen.rows[table])
            conn.commit()
            unit_gen.taken = gen.taken
            done += size
            print(f"bench.generate: {done}/{persons} persons, {time.monotonic() - started:.0f} s",
                  file=sys.stderr, flush=True)
        conn.autocommit = True
        conn.execute("ANALYZE")
    return {"persons": persons, "rows": dict(counts), "seconds": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", help="a migrated PostgreSQL database with the demo loaded")
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.database_url, args.persons, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
