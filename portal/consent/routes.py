"""Consent pages for the person (and whoever acts for them) and for staff."""

from __future__ import annotations

from datetime import date

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import record
from portal.auth.guards import requires_person, requires_staff
from portal.auth.routes import auth_is_fresh
from portal.auth.viewer import Viewer
from portal.config import Settings
from portal.consent import rules, services
from portal.consent.forms import ConsentForm, new_key, read_person_form, read_staff_form
from portal.core import i18n
from portal.core.i18n import N_
from portal.core.ids import utcnow
from portal.notices.outbox import locale_for as locale_of
from portal.people.models import Person


def _viewer(request: Request) -> Viewer:
    return request.scope["state"]["viewer"]


def _subject_for_person_user(viewer: Viewer) -> Person:
    """The person whose consent this is; a representative needs the consent scope."""
    if viewer.acting_for_other and not viewer.right.allows("consent"):
        raise PermissionDeniedException()
    return viewer.acting_for


async def _page(db: AsyncSession, request: Request, person: Person, form: ConsentForm,
                status: int = 200, stale: bool = False,
                view: services.Overview | None = None) -> Template:
    today = date.today()
    view = view or await services.overview(db, person, today)
    viewer = _viewer(request)
    return Template("consent/overview.html", status_code=status, context={
        "view": view, "form": form, "stale": stale,
        "child_view": rules.child_view_should_be_heard(person, today, view.deciders != {person.id}),
        "is_decider": viewer.person.id in view.deciders,
        "may_answer": person.id in view.deciders or viewer.person.id in view.deciders,
        "my_waiting": [u.id for u in view.waiting_units
                       if viewer.person.id in view.state(u.id).given_by],
        "wording": services.current_text(request.scope["state"]["locale"]),
    })


@get("/samtycke", guards=[requires_person], name="consent_page")
async def consent_page(request: Request, db: NamedDependency[AsyncSession]) -> Template:
    person = _subject_for_person_user(_viewer(request))
    view = await services.overview(db, person, date.today())
    # Nothing is ticked in advance: consent is an active choice.
    form = ConsentForm(key=new_key(), seen_seq=view.seq)
    return await _page(db, request, person, form, view=view)


@post("/samtycke", guards=[requires_person], name="consent_decide")
async def consent_decide(request: Request, db: NamedDependency[AsyncSession],
                         settings: NamedDependency[Settings]) -> Response:
    viewer = _viewer(request)
    person = _subject_for_person_user(viewer)
    deciders = await rules.deciders(db, person, date.today())
    if person.id not in deciders and viewer.person.id not in deciders:
        raise PermissionDeniedException()  # guardians decide for the child: only they answer
    session = request.scope["state"]["session"]
    form = read_person_form(await request.form())
    if form.errors:
        return await _page(db, request, person, form, status=400)
    if form.decision != "think" and not auth_is_fresh(session, settings.reauth_max_age):
        session["pending_consent"] = {"person": person.id, "decision": form.decision,
                                      "units": form.units, "key": form.key,
                                      "seen_seq": form.seen_seq}
        return Redirect("/auth/login/citizen?reauth=true&next=/samtycke/bekrafta", status_code=303)
    session.pop("pending_consent")
    actor = viewer.actor()
    try:
        outcome = await services.decide(
            db, person=person, actor=actor, given_by=viewer.person.id, decision=form.decision,
            unit_ids=form.units, idempotency_key=form.key, seen_seq=form.seen_seq,
            locale=request.scope["state"]["locale"], today=date.today(),
            on_behalf_of=person.id if viewer.acting_for_other else None,
        )
    except services.NothingChosen:
        await db.rollback()
        if form.decision == "withdraw" and form.units:
            session.flash(N_("Samtycket var redan borttaget. Här ser du det som gäller nu."))
            return Redirect("/samtycke", status_code=303)
        form.errors["unit"] = (N_("Välj minst en verksamhet, eller välj Jag vill tänka på det.")
                               if form.decision == "give" else
                               N_("Välj vilken verksamhet du vill ta tillbaka samtycket för."))
        return await _page(db, request, person, form, status=400)
    except services.StaleForm:
        await db.rollback()
        fresh = ConsentForm(decision=form.decision, units=form.units, key=new_key(),
                            seen_seq=(await services.overview(db, person, date.today())).seq)
        return await _page(db, request, person, fresh, status=409, stale=True)
    return Redirect(f"/samtycke/kvitto/{outcome.act.id}", status_code=303)


@get("/samtycke/bekrafta", guards=[requires_person], name="consent_confirm")
async def consent_confirm(request: Request, db: NamedDependency[AsyncSession]) -> Response:
    viewer = _viewer(request)
    person = _subject_for_person_user(viewer)
    pending = request.scope["state"]["session"].get("pending_consent")
    if not pending or pending.get("person") != person.id:
        return Redirect("/samtycke", status_code=303)
    view = await services.overview(db, person, date.today())
    chosen = [u for u in view.units if u.id in pending["units"]]
    return Template("consent/confirm.html", context={"pending": pending, "chosen": chosen,
                                                      "view": view})


@get("/samtycke/kvitto/{act_id:str}", guards=[requires_person], name="consent_receipt")
async def consent_receipt(request: Request, act_id: FromPath[str],
                          db: NamedDependency[AsyncSession]) -> Template:
    viewer = _viewer(request)
    person = _subject_for_person_user(viewer)
    act = await services.act_for_person(db, act_id, person.id)
    if act is None:
        raise NotFoundException()
    entries = [e for e in await services.history(db, person) if e.act.id == act.id]
    view = await services.overview(db, person, date.today())
    missing = set()
    for unit in view.waiting_units:
        missing |= view.deciders - view.state(unit.id).given_by
    notified = [p for p in [await db.get(Person, pid) for pid in missing] if p and p.email]
    return Template("consent/receipt.html", context={
        "entry": entries[0], "view": view, "others_notified": bool(notified)})


@get("/samtycke/historik", guards=[requires_person], name="consent_history")
async def consent_history(request: Request, db: NamedDependency[AsyncSession]) -> Template:
    person = _subject_for_person_user(_viewer(request))
    return Template("consent/history.html", context={
        "entries": await services.history(db, person), "person": person, "staff_view": False})


@get("/samtycke/text/{wording_id:str}", guards=[requires_person], name="consent_wording")
async def consent_wording(request: Request, wording_id: FromPath[str],
                          db: NamedDependency[AsyncSession]) -> Template:
    person = _subject_for_person_user(_viewer(request))
    shown = await services.wording_shown_to(db, wording_id, person.id)
    if shown is None:
        raise NotFoundException()
    return Template("consent/wording.html", context={"wording": shown})


# --- staff ---------------------------------------------------------------------------


async def _staff_subject(db: AsyncSession, viewer: Viewer, person_id: str) -> Person:
    person = await db.get(Person, person_id)
    if person is None or not await services.unit_works_with(db, viewer.staff.unit_id, person.id):
        raise PermissionDeniedException()  # the same answer whether the person exists or not
    return person


async def _staff_page(db: AsyncSession, request: Request, person: Person, form,
                      status: int = 200, stale: bool = False) -> Template:
    viewer = _viewer(request)
    await record(db, "consent.viewed_by_staff", viewer.actor(), subject_person_id=person.id,
                 object_type="person", object_id=person.id)  # every page that shows it
    await db.commit()
    view = await services.overview(db, person, date.today())
    return Template("consent/staff.html", status_code=status, context={
        "view": view, "form": form, "stale": stale, "person": person,
        "entries": await services.history(db, person),
        "unit_state": view.state(viewer.staff.unit_id),
        # The person's own calendar day, not the server's (UTC) one.
        "today": utcnow().astimezone(i18n.TIME_ZONES[locale_of(person)]).date().isoformat(),
    })


@get("/personal/personer/{person_id:str}/samtycke", guards=[requires_staff], name="staff_consent_page")
async def staff_consent_page(request: Request, person_id: FromPath[str],
                             db: NamedDependency[AsyncSession]) -> Template:
    viewer = _viewer(request)
    person = await _staff_subject(db, viewer, person_id)
    view = await services.overview(db, person, date.today())
    from portal.consent.forms import StaffConsentForm

    form = StaffConsentForm(key=new_key(), seen_seq=view.seq)
    return await _staff_page(db, request, person, form)


@post("/personal/personer/{person_id:str}/samtycke", guards=[requires_staff], name="staff_consent_record")
async def staff_consent_record(request: Request, person_id: FromPath[str],
                               db: NamedDependency[AsyncSession]) -> Response:
    viewer = _viewer(request)
    person = await _staff_subject(db, viewer, person_id)
    view = await services.overview(db, person, date.today())
    tz = i18n.TIME_ZONES[locale_of(person)]
    form = read_staff_form(await request.form(), tz, set(view.deciders))
    if form.errors:
        return await _staff_page(db, request, person, form, status=400)
    try:
        await services.decide(
            db, person=person, actor=viewer.actor(), given_by=form.given_by,
            decision=form.decision, unit_ids=form.units, idempotency_key=form.key,
            seen_seq=form.seen_seq, locale=locale_of(person),
            today=date.today(), method=form.method, note=form.note.strip(),
            occurred_at=form.occurred_at, on_behalf_of=person.id,
        )
    except services.NothingChosen:
        await db.rollback()
        await db.refresh(person)  # the rollback expired it
        form.errors["unit"] = N_("Välj minst en verksamhet.")
        return await _staff_page(db, request, person, form, status=400)
    except services.StaleForm:
        await db.rollback()
        await db.refresh(person)
        form.key = new_key()
        form.seen_seq = (await services.overview(db, person, date.today())).seq
        return await _staff_page(db, request, person, form, status=409, stale=True)
    request.scope["state"]["session"].flash(N_("Beskedet är sparat."), "success")
    return Redirect(f"/personal/personer/{person_id}/samtycke", status_code=303)


route_handlers = [consent_page, consent_decide, consent_confirm, consent_receipt, consent_history,
                  consent_wording, staff_consent_page, staff_consent_record]
