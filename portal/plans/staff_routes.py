"""Writing the plan: contact persons create, edit, preview, publish and close it."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col, select

from portal.access import Subject, staff_subject
from portal.auth.guards import requires_staff
from portal.core import i18n
from portal.core.clock import zone_of
from portal.core.i18n import N_
from portal.notices.outbox import locale_for
from portal.people.models import StaffMember, Unit
from portal.plans import content as plan_content
from portal.plans import readability, services
from portal.plans.forms import SECTION_NAMES, read_revision, read_section, saved_notices, section_base
from portal.plans.routes import log_plan_read, plan_context

REASON_MAX = 500
ANCHORS = {"follow_up_remove": "follow_up", "action_add": "actions", "action_remove": "actions", "contact_add": "contacts",
           "contact_remove": "contacts", "relative_add": "contacts", "relative_remove": "contacts"}


# Staff of a unit that works with the person and is covered by the person's consent.
WRITER = {"subject": staff_subject(needs_consent=True)}


async def _choices(subject: Subject) -> tuple[list[Unit], list[StaffMember]]:
    """Units that take part (covered by consent) and their staff, for the editor's lists."""
    units = subject.consent.active_units
    staff = list((await subject.db.exec(select(StaffMember).where(
        col(StaffMember.unit_id).in_([u.id for u in units])).order_by(StaffMember.given_name))).all())
    return units, staff


async def _editor(subject: Subject, plan, *, status: int = 200, errors: dict | None = None,
                  typed: dict | None = None, section: str = "", conflict: bool = False) -> Template:
    db, person = subject.db, subject.person
    draft = plan_content.load(plan.draft)
    units, staff = await _choices(subject)
    context = await plan_context(db, draft, person)
    await log_plan_read(subject, plan, plan.current_version)
    updated_by = await db.get(StaffMember, plan.draft_updated_by) if plan.draft_updated_by else None
    return Template("plans/editor.html", status_code=status, context={
        **context, "plan": plan, "draft": draft, "choice_units": units, "choice_staff": staff,
        "errors": errors or {}, "typed": typed or {}, "section": section, "conflict": conflict,
        "bases": {name: section_base(draft, name) for name in SECTION_NAMES},
        "updated_by": updated_by, "lix": {s: readability.analyse(draft[s])
                                          for s in plan_content.TEXT_SECTIONS},
    })


async def _write_request(request: Request, subject: Subject):
    """The open plan, the form and the draft revision it was made from."""
    plan = await services.open_plan(subject.db, subject.person.id)
    if plan is None:
        raise NotFoundException()
    form = await request.form()
    return plan, form, read_revision(form)


@get("/personal/personer/{person_id:str}/plan", dependencies=WRITER, name="plan_editor")
async def plan_editor(subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    plan = await services.open_plan(db, person.id)
    if plan is None:
        return Template("plans/editor_none.html", context={
            "person": person, "earlier": await services.closed_plans(db, person.id)})
    return await _editor(subject, plan)


@post("/personal/personer/{person_id:str}/plan", dependencies=WRITER, name="plan_create")
async def plan_create(person_id: FromPath[str], subject: NamedDependency[Subject]) -> Response:
    await services.create_plan(subject.db, subject.person, subject.viewer.staff)
    return Redirect(f"/personal/personer/{person_id}/plan", status_code=303)


@post("/personal/personer/{person_id:str}/plan/avsnitt/{section:str}", dependencies=WRITER, name="plan_save_section")
async def plan_save_section(request: Request, person_id: FromPath[str], section: FromPath[str],
                            subject: NamedDependency[Subject]) -> Response:
    if section not in SECTION_NAMES:
        raise NotFoundException()
    plan, form, revision = await _write_request(request, subject)
    units, staff = await _choices(subject)
    zone = zone_of(subject.person)
    changes, errors, typed = read_section(section, form, {u.id for u in units},
                                          {s.id for s in staff}, plan_content.load(plan.draft),
                                          zone)
    if errors:
        return await _editor(subject, plan, status=400, errors=errors, typed=typed,
                             section=section)
    try:
        await services.save_draft(subject.db, plan, subject.viewer.staff, revision, changes,
                                  section=section, base=str(form.get("base") or "") or None)
    except services.Conflict as conflict:
        # Someone saved first: show their version and keep what this person typed.
        return await _editor(subject, conflict.plan, status=409, typed=typed,
                             section=section, conflict=True)
    request.scope["state"]["session"].flash(N_("Ändringen är sparad i utkastet."), "success")
    for notice in saved_notices(changes, zone):
        request.scope["state"]["session"].flash(notice, "warning")
    anchor = ANCHORS.get(section, section)
    return Redirect(f"/personal/personer/{person_id}/plan#{anchor}", status_code=303)


@post("/personal/personer/{person_id:str}/plan/publicera", dependencies=WRITER, name="plan_publish")
async def plan_publish(request: Request, person_id: FromPath[str], subject: NamedDependency[Subject]) -> Response:
    plan, _, revision = await _write_request(request, subject)
    try:
        published = await services.publish(subject.db, plan, subject.viewer.staff, revision,
                                           subject.time.now)
    except services.Conflict as conflict:
        return await _editor(subject, conflict.plan, status=409, conflict=True, section="publish")
    request.scope["state"]["session"].flash(
        N_("Planen är publicerad. Personen kan läsa den nu."), "success")
    return Redirect(f"/personal/personer/{person_id}/plan?publicerad={published.number}",
                    status_code=303)


@post("/personal/personer/{person_id:str}/plan/avsluta", dependencies=WRITER, name="plan_close")
async def plan_close(request: Request, person_id: FromPath[str], subject: NamedDependency[Subject]) -> Response:
    db, person = subject.db, subject.person
    plan = await services.open_plan(db, person.id)
    if plan is None:
        return Redirect(f"/personal/personer/{person_id}/plan", status_code=303)
    form = await request.form()
    reason = str(form.get("reason") or "").strip()
    if not reason or len(reason) > REASON_MAX or "\x00" in reason:
        message = (N_("Skriv varför planen avslutas.") if not reason
                   else N_("Texten är för lång. Korta den lite."))
        return await _editor(subject, plan, status=400, section="close",
                             errors={"reason": message}, typed={"reason": reason})
    await services.close(db, plan, subject.viewer.staff, reason)
    request.scope["state"]["session"].flash(N_("Planen är avslutad."), "success")
    return Redirect(f"/personal/personer/{person_id}/plan", status_code=303)


@get("/personal/personer/{person_id:str}/plan/forhandsvisning", dependencies=WRITER, name="plan_preview")
async def plan_preview(request: Request, subject: NamedDependency[Subject]) -> Template:
    """The draft as the person will see it, in the person's own language variant."""
    db, person = subject.db, subject.person
    plan = await services.open_plan(db, person.id)
    if plan is None:
        raise NotFoundException()
    await log_plan_read(subject, plan, plan.current_version)
    draft = plan_content.load(plan.draft)
    locale = locale_for(person)
    request.scope["state"]["locale"] = locale
    i18n.current_locale.set(locale)  # this request only: the preview speaks the person's variant
    context = await plan_context(db, draft, person)
    return Template("plans/preview.html", context={**context, "plan": plan, "changed": set()})


@post("/personal/lix", guards=[requires_staff], name="plan_lix")
async def plan_lix(request: Request) -> Template:
    """htmx: readability of the text as it is typed (debounced in the page)."""
    form = await request.form()
    section = str(form.get("section") or "")
    if section not in plan_content.TEXT_SECTIONS:
        raise NotFoundException()
    text = str(form.get("text") or "")[:plan_content.TEXT_MAX]
    return Template("plans/_lix.html", context={"result": readability.analyse(text),
                                                 "section": section,
                                                 "target": readability.TARGET})


route_handlers = [plan_editor, plan_create, plan_save_section, plan_publish, plan_close,
                  plan_preview, plan_lix]
