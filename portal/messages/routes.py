"""Questions to a contact person: the person's threads, a new question, a thread and its
reply, and the staff page of a thread (answer, internal note, assign, close, reopen).

The person's side needs the `messages` scope to read and to write (`acting_for`); the
staff page is for staff of the unit the thread is addressed to (`staff_thread`).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from portal.access import Scope, StaffThread, Subject, acting_for, staff_thread
from portal.consent.forms import new_key
from portal.coordination import services as coordination
from portal.coordination.models import CoordinationRequest
from portal.core.i18n import N_
from portal.core.inputs import is_opaque_id
from portal.core.page_cache import kept
from portal.messages import services
from portal.messages.forms import MessageForm, StaffForm, read_new_message, read_reply, read_staff_form
from portal.messages.models import Thread
from portal.people.models import Person, StaffMember, Unit

MESSAGES = {"subject": acting_for(Scope.MESSAGES)}
STAFF_READ = {"access": staff_thread(audit="thread.viewed_by_staff")}
STAFF_WRITE = {"access": staff_thread()}


async def _request_units(subject: Subject, request_id: str) -> tuple[list[Unit], str]:
    """The units of the person's sent request `request_id` (from `?arende=`), and the id if
    it is theirs; nothing for anything else."""
    if not request_id or not is_opaque_id(request_id):
        return [], ""
    found = await coordination.request_of_person(subject.db, request_id, subject.person.id)
    if found is None:
        return [], ""
    return await coordination.units_of(subject.db, found.id), found.id


def _answer_days(recipients: list[services.Recipient]) -> int | None:
    """The one promise all recipients make, in working days; None when they differ."""
    days = {r.unit.answer_days for r in recipients}
    return days.pop() if len(days) == 1 else None


def _new_page(subject: Subject, form: MessageForm, recipients: list[services.Recipient],
              request_id: str, status: int = 200) -> Template:
    return Template("messages/new.html", status_code=status, context={
        "form": form, "recipients": recipients, "request_id": request_id,
        "answer_days": _answer_days(recipients), "person": subject.person,
    })


@get("/meddelanden", dependencies=MESSAGES, name="my_messages")
@kept
async def my_messages(subject: NamedDependency[Subject]) -> Template:
    rows = await services.thread_rows(subject.db, subject.person.id)
    await subject.log_read("messages.listed", "person", subject.person.id)
    return Template("messages/list.html", context={"rows": rows, "person": subject.person})


@get("/meddelanden/ny", dependencies=MESSAGES, name="new_message_page")
async def new_message_page(
    subject: NamedDependency[Subject],
    till: Annotated[str | None, QueryParameter(name="till")] = None,
    kontakt: Annotated[str | None, QueryParameter(name="kontakt")] = None,
    arende: Annotated[str | None, QueryParameter(name="arende")] = None,
) -> Template:
    extra, request_id = await _request_units(subject, arende or "")
    unit_id = till if is_opaque_id(till) else (extra[0].id if extra else "")
    found, chosen = await services.recipients(
        subject.db, subject.person, unit_id=unit_id or "",
        staff_id=kontakt if is_opaque_id(kontakt) else "", extra_units=extra)
    return _new_page(subject, MessageForm(recipient=chosen, key=new_key()), found, request_id)


@post("/meddelanden/ny", dependencies=MESSAGES, name="new_message")
async def new_message(request: Request, subject: NamedDependency[Subject]) -> Response:
    db, person = subject.db, subject.person
    sent = await request.form()
    extra, request_id = await _request_units(subject, str(sent.get("request") or ""))
    found, _ = await services.recipients(db, person, extra_units=extra)
    form = read_new_message(sent, {r.value for r in found})
    if form.errors:
        return _new_page(subject, form, found, request_id, status=400)
    chosen = next(r for r in found if r.value == form.recipient)
    thread = await services.start_thread(
        db, person=person, unit=chosen.unit, subject=form.subject, body=form.body,
        actor=subject.actor(), key=form.key, now=subject.time.now,
        staff_id=chosen.staff.id if chosen.staff else None, request_id=request_id or None)
    request.scope["state"]["session"].flash(N_("Din fråga är skickad."), "success")
    return Redirect(request.app.route_reverse("thread", thread_id=thread.id), status_code=303)


async def _thread_page(subject: Subject, thread: Thread, form: MessageForm,
                       status: int = 200) -> Template:
    db = subject.db
    await subject.log_read("thread.read", "message_thread", thread.id)
    await services.mark_seen_by_person(db, thread, subject.viewer.person.id, subject.time.now)
    messages = await services.messages_of(db, thread.id)
    unit = await db.get(Unit, thread.unit_id)
    named = await db.get(StaffMember, thread.staff_id) if thread.staff_id else None
    return Template("messages/thread.html", status_code=status, context={
        "about": await _about_request(subject.db, thread),
        "thread": thread, "messages": messages, "authors": await services.authors_of(db, messages),
        "unit": unit, "named": named, "form": form, "person": subject.person,
        "overdue": thread.due_on is not None and thread.due_on < subject.time.today_for(unit),
    })


async def _about_request(db, thread: Thread):
    """The request for coordination a question was asked about (its reference is shown on
    the thread for the person and for staff), or None."""
    if not thread.request_id:
        return None
    return await db.get(CoordinationRequest, thread.request_id)


async def _own_thread(subject: Subject, thread_id: str) -> Thread:
    found = await services.thread_of_person(subject.db, thread_id, subject.person.id)
    if found is None:
        raise NotFoundException()  # the same for "not theirs" and "does not exist"
    return found


@get("/meddelanden/{thread_id:str}", dependencies=MESSAGES, name="thread")
async def show_thread(thread_id: FromPath[str], subject: NamedDependency[Subject]) -> Template:
    thread = await _own_thread(subject, thread_id)
    return await _thread_page(subject, thread, MessageForm(key=new_key()))


@post("/meddelanden/{thread_id:str}", dependencies=MESSAGES, name="reply")
async def reply(request: Request, thread_id: FromPath[str], subject: NamedDependency[Subject]) -> Response:
    thread = await _own_thread(subject, thread_id)
    form = read_reply(await request.form())
    if form.errors:
        return await _thread_page(subject, thread, form, status=400)
    unit = await subject.db.get(Unit, thread.unit_id)
    await services.post(subject.db, thread, person=subject.person, unit=unit, body=form.body,
                        actor=subject.actor(), key=form.key, now=subject.time.now)
    request.scope["state"]["session"].flash(N_("Ditt meddelande är skickat."), "success")
    return Redirect(request.app.route_reverse("thread", thread_id=thread.id), status_code=303)


# --- staff ---------------------------------------------------------------------------


async def _staff_page(access: StaffThread, form: StaffForm, status: int = 200) -> Template:
    subject, thread = access.subject, access.thread
    db = subject.db
    messages = await services.messages_of(db, thread.id)
    team = await services.colleagues(db, thread.unit_id)
    return Template("messages/staff_thread.html", status_code=status, context={
        "about": await _about_request(db, thread),
        "thread": thread, "messages": messages, "authors": await services.authors_of(db, messages),
        "unit": subject.viewer.unit, "team": team, "notes": await services.notes_of(db, thread.id),
        "assigned": next((s for s in team if s.id == thread.assigned_to), None),
        "named": next((s for s in team if s.id == thread.staff_id), None),
        "form": form, "person": subject.person,
        "overdue": thread.due_on is not None and thread.due_on < subject.time.today_for(
            subject.viewer.unit),
    })


@get("/personal/meddelanden/{thread_id:str}", dependencies=STAFF_READ, name="staff_thread")
async def staff_thread_page(access: NamedDependency[StaffThread]) -> Template:
    subject = access.subject
    await services.mark_read_by_staff(subject.db, access.thread, subject.viewer.staff.id,
                                      subject.time.now)
    return await _staff_page(access, StaffForm(key=new_key()))


DONE = {"answer": N_("Svaret är skickat. Personen får en avisering."),
        "note": N_("Anteckningen är sparad. Personen ser den inte."),
        "assign": N_("Ärendet har fått en ny handläggare."),
        "close": N_("Tråden är avslutad."), "reopen": N_("Tråden är öppen igen.")}


@post("/personal/meddelanden/{thread_id:str}", dependencies=STAFF_WRITE, name="staff_thread_action")
async def staff_thread_action(request: Request, access: NamedDependency[StaffThread]) -> Response:
    subject, thread = access.subject, access.thread
    db, actor, now = subject.db, subject.actor(), subject.time.now
    team = {s.id: s for s in await services.colleagues(db, thread.unit_id)}
    form = read_staff_form(await request.form(), set(team))
    if form.errors:
        return await _staff_page(access, form, status=400)
    if form.action == "answer":
        person = await db.get(Person, thread.person_id)
        await services.post(db, thread, person=person, unit=subject.viewer.unit, body=form.body,
                            actor=actor, key=form.key, now=now)
    elif form.action == "note":
        await services.add_note(db, thread, form.body, actor, form.key, now)
    elif form.action == "assign":
        await services.assign(db, thread, team[form.staff_id], actor)
    else:
        await services.set_status(db, thread, services.CLOSED if form.action == "close"
                                  else services.OPEN, actor)
    request.scope["state"]["session"].flash(DONE[form.action], "success")
    return Redirect(request.app.route_reverse("staff_thread", thread_id=thread.id), status_code=303)


route_handlers = [my_messages, new_message_page, new_message, show_thread, reply,
                  staff_thread_page, staff_thread_action]
