"""The staff side of requests for coordination: read a request, assign it, write an internal
note, book the coordination meeting, mark the plan made, close and reopen; register a
request for a person met or spoken to; the meeting's calendar files.

Every action posts, then redirects to the request. Each is safe to repeat (the
state asked for is kept; notes carry an idempotency key, a meeting is the same
meeting), and a form made before the request changed is answered 409 with the fresh
state (two tabs). The services audit and notify; the request's transaction commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col, select

from portal.access import (
    Scope,
    StaffRequest,
    Subject,
    acting_for,
    staff_meeting,
    staff_request,
    staff_subject,
)
from portal.consent.forms import new_key
from portal.coordination import meetings, services
from portal.core.clock import zone_of
from portal.core.i18n import N_
from portal.core.inputs import (
    TIME_TWICE,
    BadInput,
    happens_twice,
    is_opaque_id,
    local_datetime,
    parse_date,
    parse_int,
    parse_time,
)
from portal.people.models import Person, StaffMember, Unit
from portal.plans import services as plans

NOTE_MAX = 4000
REASON_MAX = 500
HARD_MAX = 4000
CHANNELS = {"phone": N_("Per telefon"), "visit": N_("Vid ett besök")}
EVENT_TEXT = {
    "received": N_("Begäran kom in."),
    "assigned": N_("%(name)s handlägger ärendet."),
    "meeting_booked": N_("Ett samordningsmöte är bokat."),
    "plan_made": N_("Planen är gjord."),
    "closed": N_("Ärendet är avslutat."),
    "reopened": N_("Ärendet är öppnat igen."),
}
READ = {"handled": staff_request(audit="request.viewed_by_staff")}
ACT = {"handled": staff_request()}
STALE = N_("Ärendet har ändrats sedan du öppnade sidan. Här ser du hur det ser ut nu. "
           "Kontrollera och försök igen.")
CLOSED = N_("Ärendet är avslutat. Öppna det igen först om du vill fortsätta med det.")


@dataclass
class Typed:
    """What was typed in one of the page's forms, and its errors (field -> message id)."""

    form: str = ""
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def _text(value: object, limit: int, empty: str, too_long: str = N_("Texten är för lång. Korta den lite.")) -> str:
    """Free text: any characters but NUL, trimmed, 1..limit characters; BadInput otherwise."""
    text = str(value or "").strip()
    if not text:
        raise BadInput(empty)
    if len(text) > limit:
        raise BadInput(too_long)
    if "\x00" in text:
        raise BadInput(N_("Texten innehåller ett tecken som inte går att spara. Ta bort det."))
    return text


def _seen(form) -> int | None:
    try:
        return parse_int(form.get("seen"), 0, 10_000)
    except BadInput:
        return None


SENDER_ROLES = {
    "proxy": N_("med fullmakt"),
    "guardian": N_("vårdnadshavare"),
    "legal_representative": N_("god man eller förvaltare"),
}


async def _participant_choices(subject, request_id: str) -> tuple[list[tuple[StaffMember, Unit]], list[Unit]]:
    """Who may be invited to the coordination meeting, and which units may not yet.

    Staff of the handling staff member's own unit, and of each unit the person's consent
    covers now (consent.services.overview): a meeting about the person shares their
    matters with everyone in it, which needs their consent (`../shared/DOMAIN.md`). The
    second list is the units that work with the person or were asked, without consent."""
    from portal.consent import services as consent
    from portal.coordination.models import RequestUnit

    db, person, own = subject.db, subject.person, subject.viewer.staff.unit_id
    view = await consent.overview(db, person, subject.today)
    allowed = {u.id for u in view.active_units} | {own}
    addressed = set((await db.exec(select(RequestUnit.unit_id).where(
        RequestUnit.request_id == request_id))).all())
    choices = list((await db.exec(
        select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
        .where(col(StaffMember.unit_id).in_(allowed))
        .order_by(col(Unit.name), col(StaffMember.given_name)))).all())
    waiting = [u for u in view.units if u.id not in allowed and (u.id in view.proposed or u.id in addressed)]
    return choices, waiting


async def _request_page(handled: StaffRequest, *, status: int = 200, typed: Typed | None = None,
                        notice: str | None = None) -> Template:
    subject, found = handled.subject, handled.request
    db, person, viewer = subject.db, subject.person, subject.viewer
    events = await services.timeline(db, found.id)
    choices, without_consent = await _participant_choices(subject, found.id)
    staff_by_id = {s.id: s for s, _ in choices}
    missing = {e_staff for e_staff in [found.assigned_to, found.author_id] if e_staff} - set(staff_by_id)
    if missing:
        staff_by_id.update({s.id: s for s in (await db.exec(
            select(StaffMember).where(col(StaffMember.id).in_(missing)))).all()})
    found_meetings = await meetings.meetings_of(db, found.id)
    people = await meetings.participants_by_meeting(db, found_meetings)
    plan = await plans.open_plan(db, person.id)
    # Who sent it, when someone acted for the person: staff must know whose number to call.
    sender = (await db.get(Person, found.author_id)
              if found.author_type == "person" and found.author_id != person.id else None)
    return Template("coordination/staff_request.html", status_code=status, context={
        "sender": sender, "sender_roles": SENDER_ROLES,
        "found": found, "person": person, "answers": services.answers_of(found),
        "events": [(e, _detail(e)) for e in events], "event_text": EVENT_TEXT, "staff_by_id": staff_by_id,
        "units": await services.units_of(db, found.id),
        "notes": await services.notes_of(db, found.id, viewer.staff.unit_id),
        "meetings": found_meetings, "meeting_people": people, "for_staff": True,
        "colleagues": [s for s, _ in choices if s.unit_id == viewer.staff.unit_id],
        "choices": choices, "without_consent": without_consent, "plan": plan, "seen": len(events),
        "typed": typed or Typed(), "notice": notice, "note_key": new_key(),
        "channels": CHANNELS, "today": subject.today.isoformat(),
    })


def _detail(event) -> dict:
    try:
        value = json.loads(event.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _done(request: Request, handled: StaffRequest, message: str) -> Response:
    request.scope["state"]["session"].flash(message, "success")
    return Redirect(f"/personal/arenden/{handled.request.id}", status_code=303)


@get("/personal/arenden/{request_id:str}", dependencies=READ, name="staff_request")
async def staff_request_page(handled: NamedDependency[StaffRequest]) -> Template:
    """The request as its units' staff see it: answers, person, timeline, notes, meetings."""
    return await _request_page(handled)


async def _apply(request: Request, handled: StaffRequest, action, done: str) -> Response:
    """Run `action()` (a service call returning whether anything changed) and answer: a
    redirect with `done`, or the fresh page with why nothing was saved."""
    try:
        changed = await action()
    except services.StaleRequest:
        return await _request_page(handled, status=409, notice=STALE)
    except services.RequestClosed:
        return await _request_page(handled, status=409, notice=CLOSED)
    return _done(request, handled, done if changed else N_("Det var redan gjort. Ingenting har ändrats."))


@post("/personal/arenden/{request_id:str}/tilldela", dependencies=ACT, name="staff_request_assign")
async def staff_request_assign(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """Assign the request to me or a colleague of my unit."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    staff_id = str(form.get("staff_id") or "")
    colleague = await subject.db.get(StaffMember, staff_id) if is_opaque_id(staff_id) else None
    if colleague is None or colleague.unit_id != subject.viewer.staff.unit_id:
        return await _request_page(handled, status=400, typed=Typed(
            "assign", {"staff_id": staff_id}, {"staff_id": N_("Välj vem som ska handlägga ärendet.")}))
    return await _apply(request, handled, lambda: services.assign(
        subject.db, found, subject.person, colleague.id, subject.actor(), subject.time.now,
        _seen(form)), N_("Ärendet har en handläggare nu."))


@post("/personal/arenden/{request_id:str}/anteckning", dependencies=ACT, name="staff_request_note")
async def staff_request_note(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """An internal note: staff only, the person never sees it."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    key = str(form.get("idempotency_key") or "")
    try:
        text = _text(form.get("text"), NOTE_MAX, N_("Skriv anteckningen."))
        if not is_opaque_id(key):
            raise BadInput(N_("Formuläret är för gammalt. Skriv anteckningen igen."))
    except BadInput as bad:
        return await _request_page(handled, status=400, typed=Typed(
            "note", {"text": str(form.get("text") or "")[:NOTE_MAX]}, {"text": bad.message}))
    await services.add_note(subject.db, found, subject.person, text, subject.actor(), key,
                            subject.time.now)
    return _done(request, handled, N_("Anteckningen är sparad. Bara personal på er enhet ser den."))


def _read_meeting(form, choices: set[str], person: Person, now) -> tuple[dict, dict, object]:
    """(typed, errors, start) from the meeting form; start is aware, in the person's zone."""
    typed = {"date": str(form.get("date") or "")[:20], "time": str(form.get("time") or "")[:20],
             "place": str(form.get("place") or "")[:meetings.PLACE_MAX + 50],
             "participants": [str(v) for v in form.getall("participants", []) if str(v) in choices]}
    errors: dict = {}
    start = None
    today = now.astimezone(zone_of(person)).date()
    try:
        day = parse_date(typed["date"], today, today + timedelta(days=366),
                         too_early=N_("Välj en dag från och med i dag."),
                         too_late=N_("Välj en dag inom ett år."))
    except BadInput as bad:
        errors["date"] = bad.message
        day = None
    try:
        clock = parse_time(typed["time"])
    except BadInput as bad:
        errors["time"] = bad.message
        clock = None
    if day and clock:
        try:
            start = local_datetime(day, clock, zone_of(person))
            if start <= now:
                errors["time"] = N_("Den tiden har redan varit. Välj en senare tid.")
        except BadInput as bad:
            errors["time"] = bad.message
    try:
        typed["place"] = _text(typed["place"], meetings.PLACE_MAX, N_("Skriv var mötet är."))
    except BadInput as bad:
        errors["place"] = bad.message
    if not typed["participants"]:
        errors["participants"] = N_("Välj minst en deltagare.")
    return typed, errors, start


@post("/personal/arenden/{request_id:str}/mote", dependencies=ACT, name="staff_request_meeting")
async def staff_request_meeting(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """Book the coordination meeting: date, time (the person's zone), place, participants."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    choices = {s.id for s, _ in (await _participant_choices(subject, found.id))[0]}
    typed, errors, start = _read_meeting(form, choices, subject.person, subject.time.now)
    if errors:
        return await _request_page(handled, status=400, typed=Typed("meeting", typed, errors))
    if happens_twice(start):
        request.scope["state"]["session"].flash(TIME_TWICE, "warning")
    return await _apply(request, handled, lambda: _book(subject, found, start, typed),
                        N_("Mötet är bokat. Personen får ett meddelande om det."))


async def _book(subject: Subject, found, start, typed: dict) -> bool:
    _, booked = await meetings.book(subject.db, found, subject.person, starts_at=start,
                                    place=typed["place"], participants=typed["participants"],
                                    actor=subject.actor(), now=subject.time.now, seen=None)
    return booked


@post("/personal/arenden/{request_id:str}/plan-gjord", dependencies=ACT, name="staff_request_plan_made")
async def staff_request_plan_made(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """Mark that the plan is made (linking the person's open plan, if there is one)."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    plan = await plans.open_plan(subject.db, subject.person.id)
    return await _apply(request, handled, lambda: services.mark_plan_made(
        subject.db, found, subject.person, plan.id if plan else None, subject.actor(),
        subject.time.now, _seen(form)), N_("Ärendet visar nu att planen är gjord."))


@post("/personal/arenden/{request_id:str}/avsluta", dependencies=ACT, name="staff_request_close")
async def staff_request_close(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """Close the request with a plain reason the person reads."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    try:
        reason = _text(form.get("reason"), REASON_MAX, N_("Skriv varför ärendet avslutas. Personen läser det."))
    except BadInput as bad:
        if found.status == services.CLOSED:  # closed in another tab: nothing to do
            return _done(request, handled, N_("Det var redan gjort. Ingenting har ändrats."))
        return await _request_page(handled, status=400, typed=Typed(
            "close", {"reason": str(form.get("reason") or "")[:REASON_MAX + 50]}, {"reason": bad.message}))
    return await _apply(request, handled, lambda: services.close_request(
        subject.db, found, subject.person, reason, subject.actor(), subject.time.now,
        _seen(form)), N_("Ärendet är avslutat."))


@post("/personal/arenden/{request_id:str}/oppna", dependencies=ACT, name="staff_request_reopen")
async def staff_request_reopen(request: Request, handled: NamedDependency[StaffRequest]) -> Response:
    """Open a closed request again."""
    subject, found = handled.subject, handled.request
    form = await request.form()
    return await _apply(request, handled, lambda: services.reopen_request(
        subject.db, found, subject.person, subject.actor(), subject.time.now, _seen(form)),
        N_("Ärendet är öppnat igen."))


# --- registering a request for a person met or spoken to ------------------------------

REGISTER = {"subject": staff_subject(needs_consent=False)}


async def _register_page(subject: Subject, *, status: int = 200, typed: dict | None = None,
                         errors: dict | None = None) -> Template:
    view = subject.consent
    own = subject.viewer.staff.unit_id
    return Template("coordination/staff_new_request.html", status_code=status, context={
        "person": subject.person, "channels": CHANNELS,
        "other_units": [u for u in view.units if u.id in view.proposed and u.id != own],
        "typed": typed or {"key": new_key()}, "errors": errors or {}})


@get("/personal/personer/{person_id:str}/arenden/ny", dependencies=REGISTER, name="staff_new_request_page")
async def staff_new_request_page(subject: NamedDependency[Subject]) -> Template:
    return await _register_page(subject)


@post("/personal/personer/{person_id:str}/arenden/ny", dependencies=REGISTER, name="staff_new_request")
async def staff_new_request(request: Request, subject: NamedDependency[Subject]) -> Response:
    """Register and send a request at once, to my unit and the units chosen."""
    form = await request.form()
    view, own = subject.consent, subject.viewer.staff.unit_id
    allowed = {u.id: u for u in view.units if u.id in view.proposed}
    typed = {"channel": str(form.get("channel") or "")[:20],
             "hard": str(form.get("hard") or "")[:HARD_MAX + 50],
             "units": [str(v) for v in form.getall("units", []) if str(v) in allowed and str(v) != own],
             "key": str(form.get("idempotency_key") or "")}
    errors: dict = {}
    if typed["channel"] not in CHANNELS:
        errors["channel"] = N_("Välj hur du fick veta att personen behöver samordning.")
    try:
        typed["hard"] = _text(typed["hard"], HARD_MAX, N_("Skriv vad personen tycker är svårt just nu."))
    except BadInput as bad:
        errors["hard"] = bad.message
    if not is_opaque_id(typed["key"]):
        typed["key"] = new_key()
        errors.setdefault("hard", N_("Formuläret är för gammalt. Kontrollera och skicka igen."))
    if errors:
        return await _register_page(subject, status=400, typed=typed, errors=errors)
    units = [subject.viewer.unit] + [allowed[u] for u in typed["units"]]
    found = await services.register_for_person(
        subject.db, subject.person, subject.actor(), channel=typed["channel"], hard=typed["hard"],
        units=units, key=typed["key"], now=subject.time.now)
    request.scope["state"]["session"].flash(
        N_("Begäran är registrerad. Personen ser den under Mina ärenden."), "success")
    return Redirect(f"/personal/arenden/{found.id}", status_code=303)


# --- the meeting's calendar file -------------------------------------------------------


def _ics(body: bytes) -> Response:
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="samordningsmote.ics"'})


@get("/personal/moten/{meeting_id:str}/kalender.ics", dependencies={"found": staff_meeting()},
     name="staff_meeting_ics")
async def staff_meeting_ics(request: Request, found: NamedDependency[tuple]) -> Response:
    """The meeting for a participant's calendar (staff of the request's units)."""
    meeting, subject = found
    return _ics(meetings.meeting_ics(meeting, subject.person, request.app.state.settings.base_url,
                                     subject.time.now, for_staff=True))


@get("/arenden/moten/{meeting_id:str}/kalender.ics", dependencies={"subject": acting_for(Scope.REQUESTS)},
     name="meeting_ics")
async def meeting_ics(request: Request, meeting_id: FromPath[str],
                      subject: NamedDependency[Subject]) -> Response:
    """The meeting for the person's calendar (or a representative's with `requests`)."""
    meeting = await meetings.meeting_of_person(subject.db, meeting_id, subject.person.id)
    if meeting is None:
        raise NotFoundException()
    await subject.log_read("meeting.calendar_read", "coordination_meeting", meeting.id)
    return _ics(meetings.meeting_ics(meeting, subject.person, request.app.state.settings.base_url,
                                     subject.time.now, for_staff=False))


route_handlers = [staff_request_page, staff_request_assign, staff_request_note, staff_request_meeting,
                  staff_request_plan_made, staff_request_close, staff_request_reopen,
                  staff_new_request_page, staff_new_request, staff_meeting_ics, meeting_ics]
