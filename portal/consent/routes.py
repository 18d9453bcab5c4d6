"""Consent pages for the person (and whoever acts for them) and for staff."""

from __future__ import annotations

from dataclasses import replace

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.access import Scope, Subject, acting_for, staff_subject
from portal.auth.routes import auth_is_fresh
from portal.config import Settings
from portal.consent import rules, services, unit_search
from portal.consent.forms import ConsentForm, StaffConsentForm, new_key, read_person_form, read_staff_form
from portal.core.clock import zone_of
from portal.core.i18n import N_
from portal.core.page_cache import kept
from portal.notices.outbox import locale_for as locale_of
from portal.people.models import Person

# Other units kept ticked across searches, at most (a person adds a few, not hundreds).
KEPT_MAX = 50
CONSENT = {"subject": acting_for(Scope.CONSENT)}
# Staff of a unit that works with the person: without consent only the unit's own status.
STAFF = {"subject": staff_subject(needs_consent=False, audit="consent.viewed_by_staff")}


async def _page(request: Request, subject: Subject, form: ConsentForm, status: int = 200,
                stale: bool = False, view: services.Overview | None = None,
                query: str | None = None) -> Template:
    """The consent page: the units near the person, and other units on request.

    `query` is what the person searched for (`?sok=`, or "Sök" in the consent form; None:
    no search); the units in `form.units` that are not near the person (ticked among
    earlier matches) stay on the page, ticked. An htmx request for the matches
    (HX-Target: unit-matches) gets them alone."""
    person, viewer, db = subject.person, subject.viewer, subject.db
    view = view or await services.overview(db, person, subject.today, every_unit=False)
    near = {u.id for u in view.units}
    chosen = await unit_search.units_by_id(
        db, person.country, [u for u in dict.fromkeys(form.units) if u not in near][:KEPT_MAX])
    my_waiting = [u.id for u in view.waiting_units if viewer.person.id in view.state(u.id).given_by]
    # Units answered before without a care relation are offered again among the others
    # (not those in force, nor those waiting only for another guardian's yes).
    answered = {u.id for u in view.active_units} | set(my_waiting)
    kept = [u for u in view.units if u.id not in view.proposed and u.id not in answered] + chosen
    search = await unit_search.find_units(db, person.country, query,
                                          exclude=near | {u.id for u in chosen})
    context = {"view": view, "form": form, "kept_units": kept, "search": search,
               "min_length": unit_search.QUERY_MIN}
    if request.headers.get("hx-target") == "unit-matches":
        return Template("consent/_unit_matches.html", status_code=status, context=context)
    return Template("consent/overview.html", status_code=status, context={
        **context, "stale": stale,
        "child_view": rules.child_view_should_be_heard(person, subject.today,
                                                       view.deciders != {person.id}),
        "is_decider": viewer.person.id in view.deciders,
        "may_answer": person.id in view.deciders or viewer.person.id in view.deciders,
        "my_waiting": my_waiting,
        "wording": services.current_text(request.scope["state"]["locale"]),
    })


@get("/samtycke", dependencies=CONSENT, name="consent_page")
@kept
async def consent_page(request: Request, subject: NamedDependency[Subject]) -> Template:
    """The consent overview and form. `?sok=` searches the other units of the person's
    country (portal.consent.unit_search); `?unit=` (repeated) keeps units ticked before
    the search, unticked units of another country or unknown ids are left out."""
    view = await services.overview(subject.db, subject.person, subject.today, every_unit=False)
    if request.headers.get("hx-target") != "unit-matches":  # the matches show no consent
        await subject.log_read("consent.read", "person", subject.person.id)
    # Nothing is ticked in advance: consent is an active choice (only what was ticked
    # before a search stays ticked).
    units = [str(u) for u in request.query_params.getall("unit", [])][:KEPT_MAX]
    form = ConsentForm(key=new_key(), seen_seq=view.seq, units=units)
    return await _page(request, subject, form, view=view, query=request.query_params.get("sok"))


@post("/samtycke", dependencies=CONSENT, name="consent_decide")
async def consent_decide(request: Request, subject: NamedDependency[Subject],
                         settings: NamedDependency[Settings]) -> Response:
    db, person, viewer = subject.db, subject.person, subject.viewer
    deciders = await rules.deciders(db, person, subject.today)
    if person.id not in deciders and viewer.person.id not in deciders:
        raise PermissionDeniedException()  # guardians decide for the child: only they answer
    session = request.scope["state"]["session"]
    form = read_person_form(await request.form())
    if form.search is not None:
        # "Sök" in the consent form: the page again with the matches and every tick kept
        # (also without JavaScript), nothing decided, nothing recorded.
        return await _page(request, subject, form, query=form.search)
    if form.errors:
        return await _page(request, subject, form, status=400)
    if form.decision != "think" and not auth_is_fresh(session, settings.reauth_max_age):
        session["pending_consent"] = {"person": person.id, "decision": form.decision,
                                      "units": form.units, "key": form.key,
                                      "seen_seq": form.seen_seq}
        return Redirect("/auth/login/citizen?reauth=true&next=/samtycke/bekrafta", status_code=303)
    session.pop("pending_consent")
    try:
        outcome = await services.decide(
            db, person=person, actor=subject.actor(), given_by=viewer.person.id,
            decision=form.decision, unit_ids=form.units, idempotency_key=form.key,
            seen_seq=form.seen_seq, locale=request.scope["state"]["locale"], today=subject.today,
            on_behalf_of=subject.on_behalf_of, now=subject.time.now,
        )
    except services.NothingChosen:
        if form.decision == "withdraw" and form.units:
            session.flash(N_("Samtycket var redan borttaget. Här ser du det som gäller nu."))
            return Redirect("/samtycke", status_code=303)
        form.errors["unit"] = (N_("Välj minst en verksamhet, eller välj Jag vill tänka på det.")
                               if form.decision == "give" else
                               N_("Välj vilken verksamhet du vill ta tillbaka samtycket för."))
        return await _page(request, subject, form, status=400)
    except services.StaleForm:
        fresh = ConsentForm(decision=form.decision, units=form.units, key=new_key(),
                            seen_seq=(await services.overview(db, person, subject.today,
                                                              every_unit=False)).seq)
        return await _page(request, subject, fresh, status=409, stale=True)
    return Redirect(f"/samtycke/kvitto/{outcome.act.id}", status_code=303)


@get("/samtycke/bekrafta", dependencies=CONSENT, name="consent_confirm")
async def consent_confirm(request: Request, subject: NamedDependency[Subject]) -> Response:
    pending = request.scope["state"]["session"].get("pending_consent")
    if not pending or pending.get("person") != subject.person.id:
        return Redirect("/samtycke", status_code=303)
    view = await services.overview(subject.db, subject.person, subject.today, every_unit=False)
    chosen = await unit_search.units_by_id(subject.db, subject.person.country, pending["units"])
    return Template("consent/confirm.html", context={"pending": pending, "chosen": chosen,
                                                      "view": view})


@get("/samtycke/kvitto/{act_id:str}", dependencies=CONSENT, name="consent_receipt")
async def consent_receipt(act_id: FromPath[str], subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    act = await services.act_for_person(db, act_id, person.id)
    if act is None:
        raise NotFoundException()
    entries = [e for e in await services.history(db, person) if e.act.id == act.id]
    view = await services.overview(db, person, subject.today, every_unit=False)
    missing = set()
    for unit in view.waiting_units:
        missing |= view.deciders - view.state(unit.id).given_by
    notified = [p for p in [await db.get(Person, pid) for pid in missing] if p and p.email]
    return Template("consent/receipt.html", context={
        "entry": entries[0], "view": view, "others_notified": bool(notified)})


@get("/samtycke/historik", dependencies=CONSENT, name="consent_history")
@kept
async def consent_history(subject: NamedDependency[Subject]) -> Template:
    await subject.log_read("consent.history_read", "person", subject.person.id)
    return Template("consent/history.html", context={
        "entries": await services.history(subject.db, subject.person), "person": subject.person,
        "staff_view": False})


@get("/samtycke/text/{wording_id:str}", dependencies=CONSENT, name="consent_wording")
async def consent_wording(wording_id: FromPath[str], subject: NamedDependency[Subject]) -> Template:
    shown = await services.wording_shown_to(subject.db, wording_id, subject.person.id)
    if shown is None:
        raise NotFoundException()
    return Template("consent/wording.html", context={"wording": shown})


# --- staff ---------------------------------------------------------------------------


async def _staff_page(subject: Subject, form: StaffConsentForm, status: int = 200,
                      stale: bool = False) -> Template:
    db, person = subject.db, subject.person
    unit_id = subject.viewer.staff.unit_id
    view = subject.consent
    entries = await services.history(db, person)
    shown = view
    if not subject.unit_has_consent:
        # Which other units take part, and their history, is exactly what consent
        # protects: a unit without it sees only its own status and history.
        own = {unit_id: view.states[unit_id]} if unit_id in view.states else {}
        shown = replace(view, states=own)
        entries = [replace(e, units=[u for u in e.units if u.id == unit_id]) for e in entries
                   if any(u.id == unit_id for u in e.units)
                   or (e.act.actor_type == "staff" and e.act.unit_id == unit_id)]
    return Template("consent/staff.html", status_code=status, context={
        "view": shown, "form": form, "stale": stale, "person": person, "entries": entries,
        "unit_state": view.state(unit_id), "has_consent": subject.unit_has_consent,
        # The person's own calendar day, not the server's (UTC) one.
        "today": subject.today.isoformat(),
    })


@get("/personal/personer/{person_id:str}/samtycke", dependencies=STAFF, name="staff_consent_page")
async def staff_consent_page(subject: NamedDependency[Subject]) -> Template:
    return await _staff_page(subject, StaffConsentForm(key=new_key(), seen_seq=subject.consent.seq))


@post("/personal/personer/{person_id:str}/samtycke", dependencies=STAFF, name="staff_consent_record")
async def staff_consent_record(request: Request, person_id: FromPath[str],
                               subject: NamedDependency[Subject]) -> Response:
    db, person = subject.db, subject.person
    form = read_staff_form(await request.form(), zone_of(person), set(subject.consent.deciders),
                           born=person.birth_date, now=subject.time.now)
    if form.errors:
        return await _staff_page(subject, form, status=400)
    try:
        await services.decide(
            db, person=person, actor=subject.actor(), given_by=form.given_by,
            decision=form.decision, unit_ids=form.units, idempotency_key=form.key,
            seen_seq=form.seen_seq, locale=locale_of(person),
            today=subject.today, method=form.method, note=form.note.strip(),
            occurred_at=form.occurred_at, on_behalf_of=person.id, now=subject.time.now,
        )
    except services.NothingChosen:
        form.errors["unit"] = N_("Välj minst en verksamhet.")
        return await _staff_page(subject, form, status=400)
    except services.StaleForm:
        subject.consent = await services.overview(db, person, subject.today)  # the fresh state
        form.key = new_key()
        form.seen_seq = subject.consent.seq
        return await _staff_page(subject, form, status=409, stale=True)
    request.scope["state"]["session"].flash(N_("Beskedet är sparat."), "success")
    for notice in form.notices:
        request.scope["state"]["session"].flash(notice, "warning")
    return Redirect(f"/personal/personer/{person_id}/samtycke", status_code=303)


route_handlers = [consent_page, consent_decide, consent_confirm, consent_receipt, consent_history,
                  consent_wording, staff_consent_page, staff_consent_record]
