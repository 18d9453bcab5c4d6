"""Reading the plan editor's forms: whitelisted fields, plain errors, nothing lost.

Dates in a plan (start, end, evaluation, an action's start and end, the
follow-up meeting) are calendar dates "YYYY-MM-DD" within PLAN_EARLIEST ..
PLAN_LATEST: a plan is about the person's care now and in the coming years, so
anything outside is a typing mistake (and 9999-12-31 would break date
arithmetic, e.g. the follow-up's calendar file). The follow-up time is "HH:MM"
in the person's own time zone (see plans.calendar): a wall time that does not
exist there is refused, one that happens twice is the first (core.inputs.local_datetime).

The follow-up meeting keeps an `id` (core.ids.new_id) from the moment it is
first set until it is removed: its calendar UID (plans.calendar). A meeting
stored before ids existed keeps having none (its UID comes from the plan id).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, time
from zoneinfo import ZoneInfo

from portal.core.i18n import N_
from portal.core.ids import new_id
from portal.core.inputs import (
    INT_MAX,
    TIME_TWICE,
    BadInput,
    happens_twice,
    local_datetime,
    parse_date,
    parse_int,
    parse_time,
    plain_text,
)
from portal.plans.content import ACTION_STATUSES, TEXT_MAX, TEXT_SECTIONS

SHORT_MAX = 200
PLAN_EARLIEST = date(2000, 1, 1)
PLAN_LATEST = date(2100, 12, 31)


def read_revision(form) -> int:
    """The draft revision the form was made from (hidden field `revision`), 0..INT_MAX;
    -1 when missing or odd, which never matches a draft (so: a stale form, nothing saved)."""
    try:
        return parse_int(form.get("revision") or "", 0, INT_MAX)
    except BadInput:
        return -1


def _text(form, name: str, limit: int = SHORT_MAX) -> str:
    return plain_text(form.get(name)).replace("\r\n", "\n")[:limit * 2]


def _date(value: str, errors: dict, name: str, required: bool = False) -> str:
    if not value:
        if required:
            errors[name] = N_("Skriv ett datum.")
        return ""
    try:
        return parse_date(value, PLAN_EARLIEST, PLAN_LATEST).isoformat()
    except BadInput as bad:
        errors[name] = bad.message
        return value


def _check_text(value: str, errors: dict, name: str, limit: int) -> None:
    if "\x00" in value:
        errors[name] = N_("Texten innehåller tecken som inte går att spara.")
    elif len(value) > limit:
        errors[name] = N_("Texten är för lång. Korta den lite.")


def read_section(section: str, form, unit_ids: set[str], staff_ids: set[str],
                 draft: dict, zone: ZoneInfo) -> tuple[dict, dict, dict]:
    """Return (changes to the draft, errors, what was typed to show again).

    `zone` is the person's own time zone (core.clock.zone_of), for the follow-up's
    date and time."""
    errors: dict[str, str] = {}
    typed: dict = {}
    if section in TEXT_SECTIONS:
        value = _text(form, "text", TEXT_MAX)
        _check_text(value, errors, "text", TEXT_MAX)
        typed["text"] = value
        return {section: value.strip()}, errors, typed
    if section == "action_add":
        typed = {k: _text(form, k) for k in ("what", "unit_id", "responsible", "start", "end",
                                             "status")}
        _check_text(typed["what"], errors, "what", SHORT_MAX * 5)
        if not typed["what"].strip():
            errors["what"] = N_("Skriv vad som ska göras.")
        if typed["unit_id"] not in unit_ids:
            errors["unit_id"] = N_("Välj vilken verksamhet som ansvarar.")
        _check_text(typed["responsible"], errors, "responsible", SHORT_MAX)
        start = _date(typed["start"], errors, "start")
        end = _date(typed["end"], errors, "end")
        if start and end and not errors.get("end") and end < start:
            errors["end"] = N_("Slutdatumet kan inte vara före startdatumet.")
        if typed["status"] not in ACTION_STATUSES:
            errors["status"] = N_("Välj en status.")
        action = {"id": new_id(), "what": typed["what"].strip(), "unit_id": typed["unit_id"],
                  "responsible": typed["responsible"].strip(), "start": start, "end": end,
                  "status": typed["status"]}
        return {"actions": [*draft["actions"], action]}, errors, typed
    if section == "action_remove":
        target = str(form.get("item") or "")
        return {"actions": [a for a in draft["actions"] if a["id"] != target]}, errors, typed
    if section == "coordinator":
        chosen = str(form.get("coordinator_id") or "")
        typed["coordinator_id"] = chosen
        if chosen not in staff_ids:
            errors["coordinator_id"] = N_("Välj en samordnare.")
        return {"coordinator_id": chosen}, errors, typed
    if section == "contact_add":
        typed = {k: _text(form, k) for k in ("name", "role", "phone", "hours")}
        if not typed["name"].strip():
            errors["name"] = N_("Skriv kontaktens namn.")
        for key in typed:
            _check_text(typed[key], errors, key, SHORT_MAX)
        contact = {"id": new_id(), **{k: v.strip() for k, v in typed.items()}}
        return {"contacts": [*draft["contacts"], contact]}, errors, typed
    if section == "contact_remove":
        target = str(form.get("item") or "")
        return {"contacts": [c for c in draft["contacts"] if c["id"] != target]}, errors, typed
    if section == "relative_add":
        typed = {k: _text(form, k) for k in ("name", "relation")}
        if not typed["name"].strip():
            errors["name"] = N_("Skriv den närståendes namn.")
        for key in typed:
            _check_text(typed[key], errors, key, SHORT_MAX)
        relative = {"id": new_id(), **{k: v.strip() for k, v in typed.items()}}
        return {"relatives": [*draft["relatives"], relative]}, errors, typed
    if section == "relative_remove":
        target = str(form.get("item") or "")
        return {"relatives": [r for r in draft["relatives"] if r["id"] != target]}, errors, typed
    if section == "follow_up":
        typed = {k: _text(form, k) for k in ("date", "time", "place")}
        day = _date(typed["date"], errors, "date", required=True)
        clock = typed["time"]
        if clock:
            try:
                clock = parse_time(clock).strftime("%H:%M")
            except BadInput as bad:
                errors["time"] = bad.message
        if clock and day and not errors:
            try:
                local_datetime(date.fromisoformat(day), time.fromisoformat(clock), zone)
            except BadInput as bad:
                errors["time"] = bad.message
        _check_text(typed["place"], errors, "place", SHORT_MAX)
        before = draft.get("follow_up") or {}
        # The same meeting while it has a date; a new one after it was removed. A meeting
        # stored without an id keeps none (plans.calendar derives its UID from the plan).
        meeting_id = before.get("id") or ("" if before.get("date") else new_id())
        follow_up = {"date": day, "time": clock, "place": typed["place"].strip()}
        if meeting_id:
            follow_up["id"] = meeting_id
        return {"follow_up": follow_up}, errors, typed
    if section == "follow_up_remove":
        # `removed` (the meeting as it was) tells the plan page, without reading every
        # version, that a calendar may still hold it (plans.routes); gone when a new one is set.
        before = {k: v for k, v in (draft.get("follow_up") or {}).items() if k != "removed"}
        return {"follow_up": {"date": "", "time": "", "place": "",
                              "removed": before if before.get("date") else {}}}, errors, typed
    if section == "dates":
        typed = {k: _text(form, k) for k in ("start", "end", "evaluation")}
        values = {k: _date(typed[k], errors, k) for k in typed}
        if values["start"] and values["end"] and "end" not in errors and values["end"] < values["start"]:
            errors["end"] = N_("Slutdatumet kan inte vara före startdatumet.")
        if (values["start"] and values["evaluation"] and "evaluation" not in errors
                and values["evaluation"] < values["start"]):
            # The evaluation follows up what the plan did: it cannot come before it starts.
            errors["evaluation"] = N_("Utvärderingen kan inte vara före startdatumet.")
        return values, errors, typed
    raise KeyError(section)


SECTION_NAMES = ("important", "self_can", "need_help", "action_add", "action_remove",
                 "coordinator", "contact_add", "contact_remove", "relative_add",
                 "relative_remove", "follow_up", "follow_up_remove", "dates")

# The draft keys each section's form writes (read_section's `changes`).
FORM_KEYS = {
    "important": ("important",), "self_can": ("self_can",), "need_help": ("need_help",),
    "action_add": ("actions",), "action_remove": ("actions",), "coordinator": ("coordinator_id",),
    "contact_add": ("contacts",), "contact_remove": ("contacts",),
    "relative_add": ("relatives",), "relative_remove": ("relatives",),
    "follow_up": ("follow_up",), "follow_up_remove": ("follow_up",),
    "dates": ("start", "end", "evaluation"),
}


def section_base(draft: dict, section: str) -> str:
    """A fingerprint of what the section's form was made from: sha256 (hex, 16 characters)
    of the draft's values for FORM_KEYS[section]. A form sent back with a base that still
    matches was made from what is saved now for that section, so saving it on top of
    changes to other sections (another tab, a colleague) overwrites nothing."""
    values = {key: draft.get(key) for key in FORM_KEYS[section]}
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def saved_notices(changes: dict, zone: ZoneInfo) -> list[str]:
    """Message ids to show once the changes are saved: a follow-up time that happens
    twice in `zone` (the hour repeated when the clocks go back) is taken as the
    first one, and the person saving is told so (core.inputs.TIME_TWICE)."""
    follow = changes.get("follow_up") or {}
    if not (follow.get("date") and follow.get("time")):
        return []
    moment = local_datetime(date.fromisoformat(follow["date"]),
                            time.fromisoformat(follow["time"]), zone)
    return [TIME_TWICE] if happens_twice(moment) else []
