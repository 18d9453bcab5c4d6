"""Mina uppgifter: what the portal stores about the person and why, and the two downloads
(a readable document that prints well, and a FHIR R4 file). Only the person, or a
representative whose right covers every scope; making either download is audited, and
both are made on each request (never cached: `Cache-Control: no-store` on every
authenticated response, portal.core.security)."""

from __future__ import annotations

import json

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.access import Scope, Subject, acting_for
from portal.coordination.services import answers_of
from portal.core.i18n import N_, gettext
from portal.fhir.mapping import person_bundle
from portal.my_data import services
from portal.notices.outbox import TEMPLATES as NOTICE_TEMPLATES
from portal.people.national_id import display as national_id_display
from portal.people.representation import SCOPE_WORDS
from portal.plans import content as plan_content

EVERYTHING = {"subject": acting_for(tuple(Scope))}
# The timeline's steps (the same words as the request's own page).
EVENT_WORDS = {
    "received": N_("Mottaget"),
    "assigned": N_("En kontaktperson har tagit ärendet"),
    "meeting_booked": N_("Samordningsmöte bokat"),
    "plan_made": N_("Planen är klar"),
    "closed": N_("Ärendet är avslutat"),
    "reopened": N_("Ärendet är öppnat igen"),
}
KIND_WORDS = {
    "guardian": N_("Vårdnadshavare."),
    "legal_representative": N_("God man eller förvaltare."),
    "proxy": N_("Fullmakt."),
}
INVITATION_WORDS = {
    "pending": N_("Väntar på svar"),
    "accepted": N_("Godkänd"),
    "declined": N_("Nej tack"),
    "withdrawn": N_("Du tog tillbaka inbjudan"),
}
# No personal data in a file name.
DOCUMENT_NAME = "mina-uppgifter.html"
FHIR_NAME = "mina-uppgifter-fhir.json"


@get("/mina-uppgifter", dependencies=EVERYTHING, name="my_data_page")
async def my_data_page(subject: NamedDependency[Subject]) -> Template:
    return Template("my_data/page.html", context={"person": subject.person})


@get("/mina-uppgifter/dokument", dependencies=EVERYTHING, name="my_data_document")
async def my_data_document(subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    everything = await services.collect(db, person, subject.viewer)
    await services.record_export(db, subject, services.DOCUMENT)
    data = everything.data
    plans = []
    for record in data.plans:
        versions = []
        for version in reversed(record.versions):  # the newest first
            context = await _version_context(data, version)
            versions.append({"version": version, "publisher": data.staff.get(version.published_by),
                             **context})
        plans.append({"plan": record.plan, "versions": versions})
    return Template("my_data/document.html", context={
        "person": person, "data": data, "everything": everything, "plans": plans,
        "national_id": national_id_display(person.national_id, person.country),
        "scope_words": {str(k): v for k, v in SCOPE_WORDS.items()},
        "notice_kinds": {k: v[0] for k, v in NOTICE_TEMPLATES.items()},
        "event_words": {k: gettext(v) for k, v in EVENT_WORDS.items()},
        "kind_words": KIND_WORDS, "invitation_words": INVITATION_WORDS,
        "request_answers": {r.request.id: answers_of(r.request) for r in data.requests},
        "author_names": _authors(data),
        "generated_at": subject.time.now, "show_places": data.show_places,
    }, headers={"Content-Disposition": f'inline; filename="{DOCUMENT_NAME}"'})


def _authors(data) -> dict[str, str]:
    """Message id -> who wrote it: a staff member with their unit, or a person by the name
    the viewer may see."""
    names = {}
    for record in data.threads:
        for message in record.messages:
            if message.author_type == "staff":
                staff = data.staff.get(message.author_id)
                unit = data.units.get(staff.unit_id) if staff else None
                names[message.id] = ", ".join(n for n in (staff.name if staff else "",
                                                          unit.name if unit else "") if n)
            else:
                author = data.people.get(message.author_id)
                names[message.id] = data.name_of(author) if author else ""
    return names


async def _version_context(data, version) -> dict:
    """What plans/_body.html needs for one version, from what is loaded (no statements)."""
    content = plan_content.load(version.content)
    units = data.units

    def unit_name(action: dict) -> str:
        unit = units.get(action.get("unit_id"))
        return unit.name if unit else ""

    coordinator = data.staff.get(content.get("coordinator_id") or "")
    if not data.show_places:
        content["follow_up"] = {**content["follow_up"], "place": ""}
    return {
        "content": content, "units": units, "coordinator": coordinator,
        "coordinator_unit": units.get(coordinator.unit_id) if coordinator else None,
        "actions_by_unit": sorted(content["actions"], key=lambda a: (unit_name(a), a["start"])),
        "actions_by_date": sorted(content["actions"],
                                  key=lambda a: (a["start"] or "9999", unit_name(a))),
        "statuses": plan_content.ACTION_STATUSES,
    }


@get("/mina-uppgifter/fhir.json", dependencies=EVERYTHING, name="my_data_fhir")
async def my_data_fhir(request: Request, subject: NamedDependency[Subject]) -> Response:
    everything = await services.collect(subject.db, subject.person, subject.viewer)
    await services.record_export(subject.db, subject, services.FHIR)
    bundle = person_bundle(everything.data, base_url=request.app.state.settings.base_url,
                           now=subject.time.now)
    return Response(json.dumps(bundle, ensure_ascii=False, indent=1).encode(),
                    media_type="application/fhir+json", headers={
                        "Content-Disposition": f'attachment; filename="{FHIR_NAME}"'})


route_handlers = [my_data_page, my_data_document, my_data_fhir]
