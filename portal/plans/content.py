"""What a plan says: sections, their defaults, and which changed between versions.

The content is a JSON document; every version keeps a whole copy so that any
earlier version reads exactly as it was published.
"""

from __future__ import annotations

import json
from copy import deepcopy

from portal.core.i18n import N_

TEXT_SECTIONS = ("important", "self_can", "need_help")
SECTIONS = TEXT_SECTIONS + ("actions", "coordinator", "contacts", "follow_up", "dates")
TEXT_MAX = 4000
ACTION_STATUSES = {
    "planned": N_("Planerad"),
    "ongoing": N_("Pågår"),
    "done": N_("Klar"),
}

EMPTY = {
    "important": "",
    "self_can": "",
    "need_help": "",
    "actions": [],  # {id, what, unit_id, responsible, start, end, status}
    "coordinator_id": None,
    "contacts": [],  # {id, name, role, phone, hours}
    "relatives": [],  # {id, name, relation}
    # + "id" once a meeting is set (its calendar UID), + "removed" (the meeting as it was)
    # after "Ta bort uppföljningen": see plans.forms and plans.calendar.
    "follow_up": {"date": "", "time": "", "place": ""},
    "start": "",
    "end": "",
    "evaluation": "",
}


def load(raw: str | None) -> dict:
    data = deepcopy(EMPTY)
    if raw:
        data.update(json.loads(raw))
    return data


def dump(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def section_of(content: dict, section: str):
    if section == "coordinator":
        return content.get("coordinator_id")
    if section == "contacts":
        return [content.get("contacts"), content.get("relatives")]
    if section == "dates":
        return [content.get("start"), content.get("end"), content.get("evaluation")]
    return content.get(section)


def changed_sections(before: dict | None, after: dict) -> set[str]:
    """Sections whose content differs; everything counts as new when there was nothing."""
    if before is None:
        return set()
    return {s for s in SECTIONS if section_of(before, s) != section_of(after, s)}
