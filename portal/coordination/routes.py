"""Be om samordning and Dina ärenden: the person's side (and whoever acts for them with
the `requests` scope).

The wizard asks one question per page (the GOV.UK pattern). Each step's GET shows the
question with what the draft holds; its POST saves into the draft (one per author and
person, `services.start_draft`) and redirects to the next step, so a timeout or a
closed tab loses nothing. The check page sends the draft once (`services.claim_draft`
and `services.send`): double submit, the back button and two tabs make one request.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from portal.access import Scope, Subject, acting_for
from portal.audit.service import Actor, record
from portal.consent import services as consent_services
from portal.coordination import forms
from portal.coordination import services as requests
from portal.coordination.models import CoordinationRequest
from portal.core.i18n import N_
from portal.core.inputs import is_opaque_id
from portal.core.page_cache import kept
from portal.people.representation import acting_right, acting_rights
from portal.plans import services as plan_services

REQUESTS = {"subject": acting_for(Scope.REQUESTS)}
WIZARD = "/arenden/ny"
CHANGE = Annotated[str | None, QueryParameter(name="andra")]
# Example answers to "what is hard right now", shown on the page (written for the demo).
EXAMPLES = (
    N_("Jag har varit på akuten tre gånger i höstas. Ingen vet vad den andra gör."),
    N_("Min mamma glömmer sina mediciner. Hemtjänsten och vårdcentralen säger olika saker."),
)


def _next(step: str, change: bool) -> Redirect:
    return Redirect(f"{WIZARD}/{'kontrollera' if change else step}", status_code=303)


async def _draft(subject: Subject) -> CoordinationRequest | None:
    return await requests.current_draft(subject.db, subject.viewer.person.id, subject.person.id)


async def _save(subject: Subject, answers: dict) -> CoordinationRequest:
    draft = await requests.start_draft(subject.db, subject.person, subject.actor())
    return await requests.save_answers(subject.db, draft, answers, subject.time.now)


def _step(template: str, subject: Subject, *, typed: dict, errors: dict | None = None,
          change: bool = False, **context) -> Template:
    return Template(f"coordination/{template}.html", status_code=400 if errors else 200,
                    context={"typed": typed, "errors": errors or {}, "change": change,
                             "person": subject.person, **context})


def _changing(value: object) -> bool:
    return str(value or "") == "1"


# --- Dina ärenden -----------------------------------------------------------------------


@get("/arenden", dependencies=REQUESTS, name="my_requests")
@kept
async def my_requests(subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    listed = await requests.listed_requests(db, person.id)
    draft = await _draft(subject)
    await subject.log_read("requests.listed", "person", person.id)
    return Template("coordination/list.html", context={
        "listed": listed, "draft": draft, "person": person,
        "resume": (forms.complete(requests.answers_of(draft)) or "kontrollera") if draft else None,
        "this_year": subject.today.year})


# --- the wizard: for whom ---------------------------------------------------------------


async def _choices(subject: Subject) -> list:
    """The people the viewer may ask for: their own rights with the `requests` scope."""
    rights = await acting_rights(subject.db, subject.viewer.person.id, subject.time.now)
    return [r for r in rights if r.allows(Scope.REQUESTS)]


async def _start_page(subject: Subject, *, chosen: str = "", error: str | None = None) -> Template:
    draft = await _draft(subject)
    return Template("coordination/start.html", status_code=400 if error else 200, context={
        "rights": await _choices(subject), "chosen": chosen or (
            subject.person.id if subject.by_representative else "self"),
        "errors": {"person": error} if error else {}, "draft": draft, "person": subject.person,
        "resume": (forms.complete(requests.answers_of(draft)) or "kontrollera") if draft else None})


@get(WIZARD, dependencies=REQUESTS, name="request_start")
async def request_start(subject: NamedDependency[Subject]) -> Template:
    return await _start_page(subject)


@post(WIZARD, dependencies=REQUESTS, name="request_choose_person")
async def request_choose_person(request: Request, subject: NamedDependency[Subject]) -> Response:
    """Step 1: for whom. Choosing someone else switches whom the session acts for, as
    POST /vem does (only to someone the viewer may ask for, with the `requests` scope)."""
    db, viewer = subject.db, subject.viewer
    session = request.scope["state"]["session"]
    chosen = str((await request.form()).get("person") or "")
    if chosen in ("self", viewer.person.id):
        person, actor = viewer.person, Actor("person", viewer.person.id, "self")
        if viewer.acting_for_other:
            await record(db, "acting.ended", viewer.actor(), subject_person_id=subject.person.id,
                         on_behalf_of=subject.person.id)
            session.pop("acting_for")
    elif chosen == subject.person.id:
        person, actor = subject.person, subject.actor()
    else:
        right = await acting_right(db, viewer.person.id, chosen, subject.time.now) \
            if is_opaque_id(chosen) else None
        if right is None or not right.allows(Scope.REQUESTS):
            # The same answer whether the person exists or not.
            return await _start_page(subject, chosen=chosen, error=N_(
                "Välj vem du vill be om samordning för."))
        person = right.person
        actor = Actor("person", viewer.person.id, right.representation.kind)
        session["acting_for"] = person.id
        await record(db, "acting.started", actor, subject_person_id=person.id,
                     on_behalf_of=person.id, object_type="representation",
                     object_id=right.representation.id)
    draft = await requests.start_draft(db, person, actor)
    return Redirect(f"{WIZARD}/{forms.complete(requests.answers_of(draft)) or 'kontrollera'}",
                    status_code=303)


# --- step 2: what is hard ---------------------------------------------------------------


@get(f"{WIZARD}/vad", dependencies=REQUESTS, name="request_hard_page")
async def request_hard_page(subject: NamedDependency[Subject], andra: CHANGE = None) -> Template:
    draft = await _draft(subject)
    answers = requests.answers_of(draft) if draft else {}
    return _step("step_hard", subject, typed={"hard": answers.get("hard", "")},
                 change=_changing(andra), examples=EXAMPLES)


@post(f"{WIZARD}/vad", dependencies=REQUESTS, name="request_hard_save")
async def request_hard_save(request: Request, subject: NamedDependency[Subject]) -> Response:
    form = await request.form()
    step = forms.read_hard(form)
    if step.errors:
        return _step("step_hard", subject, typed=step.typed, errors=step.errors,
                     change=_changing(form.get("andra")), examples=EXAMPLES)
    await _save(subject, step.answers)
    return _next("vilka", _changing(form.get("andra")))


# --- step 3: which units ----------------------------------------------------------------


@get(f"{WIZARD}/vilka", dependencies=REQUESTS, name="request_units_page")
async def request_units_page(subject: NamedDependency[Subject], andra: CHANGE = None) -> Template:
    draft = await _draft(subject)
    answers = requests.answers_of(draft) if draft else {}
    typed = {"units": (answers.get("units") or []) + ([forms.UNKNOWN] if answers.get("unknown")
                                                       else []),
             "other": answers.get("other", "")}
    offered = await requests.units_to_offer(subject.db, subject.person)
    return _step("step_units", subject, typed=typed, change=_changing(andra), offered=offered,
                 fallback=await requests.addressees(subject.db, subject.person, [], offered))


@post(f"{WIZARD}/vilka", dependencies=REQUESTS, name="request_units_save")
async def request_units_save(request: Request, subject: NamedDependency[Subject]) -> Response:
    form = await request.form()
    offered = await requests.units_to_offer(subject.db, subject.person)
    step = forms.read_units(form, {u.id for u in offered})
    if step.errors:
        return _step("step_units", subject, typed=step.typed, errors=step.errors,
                     change=_changing(form.get("andra")), offered=offered,
                     fallback=await requests.addressees(subject.db, subject.person, [], offered))
    await _save(subject, step.answers)
    return _next("kontakt", _changing(form.get("andra")))


# --- step 4: how to be contacted ----------------------------------------------------------


@get(f"{WIZARD}/kontakt", dependencies=REQUESTS, name="request_contact_page")
async def request_contact_page(subject: NamedDependency[Subject], andra: CHANGE = None) -> Template:
    draft = await _draft(subject)
    answers = requests.answers_of(draft) if draft else {}
    typed = {k: answers.get(k, "") for k in ("contact", "phone", "times")}
    return _step("step_contact", subject, typed=typed, change=_changing(andra))


@post(f"{WIZARD}/kontakt", dependencies=REQUESTS, name="request_contact_save")
async def request_contact_save(request: Request, subject: NamedDependency[Subject]) -> Response:
    form = await request.form()
    step = forms.read_contact(form)
    if step.errors:
        return _step("step_contact", subject, typed=step.typed, errors=step.errors,
                     change=_changing(form.get("andra")))
    await _save(subject, step.answers)
    return _next("samtycke", _changing(form.get("andra")))


# --- step 5: consent ------------------------------------------------------------------------


async def _consented(subject: Subject) -> list:
    """The units the person's consent covers now (the consent overview, derived once)."""
    view = await consent_services.overview(subject.db, subject.person, subject.today)
    return view.active_units


@get(f"{WIZARD}/samtycke", dependencies=REQUESTS, name="request_consent_page")
async def request_consent_page(subject: NamedDependency[Subject], andra: CHANGE = None) -> Template:
    draft = await _draft(subject)
    answers = requests.answers_of(draft) if draft else {}
    return _step("step_consent", subject, typed={"consent": answers.get("consent", "")},
                 change=_changing(andra), consented=await _consented(subject),
                 may_consent=subject.may(Scope.CONSENT))


@post(f"{WIZARD}/samtycke", dependencies=REQUESTS, name="request_consent_save")
async def request_consent_save(request: Request, subject: NamedDependency[Subject]) -> Response:
    form = await request.form()
    consented = await _consented(subject)
    step = forms.read_consent(form, already_given=bool(consented))
    if step.errors:
        return _step("step_consent", subject, typed=step.typed, errors=step.errors,
                     change=_changing(form.get("andra")), consented=consented,
                     may_consent=subject.may(Scope.CONSENT))
    await _save(subject, step.answers)
    return _next("kontrollera", False)


# --- step 6: check and send ----------------------------------------------------------------


@get(f"{WIZARD}/kontrollera", dependencies=REQUESTS, name="request_check")
async def request_check(subject: NamedDependency[Subject]) -> Response:
    draft = await _draft(subject)
    if draft is None:
        return Redirect(WIZARD, status_code=303)
    answers = requests.answers_of(draft)
    missing = forms.complete(answers)
    if missing:
        return Redirect(f"{WIZARD}/{missing}", status_code=303)
    offered = await requests.units_to_offer(subject.db, subject.person)
    return Template("coordination/check.html", context={
        "draft": draft, "answers": answers, "person": subject.person,
        "chosen": [u for u in offered if u.id in set(answers.get("units") or [])],
        "addressed": await requests.addressees(subject.db, subject.person,
                                               answers.get("units") or [], offered)})


@post(f"{WIZARD}/kontrollera", dependencies=REQUESTS, name="request_send")
async def request_send(request: Request, subject: NamedDependency[Subject]) -> Response:
    db, person = subject.db, subject.person
    request_id = str((await request.form()).get("request") or "")
    draft = await requests.authored_request(db, request_id, subject.viewer.person.id, person.id) \
        if is_opaque_id(request_id) else None
    if draft is None:
        return Redirect(WIZARD, status_code=303)
    receipt = Redirect(f"/arenden/{draft.id}/kvitto", status_code=303)
    if draft.status != requests.DRAFT:
        return receipt  # sent already: double submit, back button, another tab
    answers = requests.answers_of(draft)
    missing = forms.complete(answers)
    if missing:
        return Redirect(f"{WIZARD}/{missing}", status_code=303)
    if not await requests.claim_draft(db, draft, subject.time.now):
        return receipt
    offered = await requests.units_to_offer(db, person)
    units = await requests.addressees(db, person, answers.get("units") or [], offered)
    await requests.send(db, draft, person, subject.actor(), units, subject.time.now)
    return receipt


# --- receipt and the request's page -----------------------------------------------------------


async def _sent(subject: Subject, request_id: str) -> CoordinationRequest:
    found = await requests.request_of_person(subject.db, request_id, subject.person.id)
    if found is None:
        raise NotFoundException()  # the same for another's request and a made-up id
    return found


@get("/arenden/{request_id:str}/kvitto", dependencies=REQUESTS, name="request_receipt")
async def request_receipt(request_id: FromPath[str], subject: NamedDependency[Subject]) -> Template:
    sent = await _sent(subject, request_id)
    await subject.log_read("request.viewed", "coordination_request", sent.id)
    answers = requests.answers_of(sent)
    return Template("coordination/receipt.html", context={
        "sent": sent, "answers": answers, "person": subject.person,
        "units": await requests.units_of(subject.db, sent.id),
        "has_plan": await plan_services.active_plan(subject.db, subject.person.id) is not None,
        "may_consent": subject.may(Scope.CONSENT), "this_year": subject.today.year})


@get("/arenden/{request_id:str}", dependencies=REQUESTS, name="request_detail")
async def request_detail(request_id: FromPath[str], subject: NamedDependency[Subject]) -> Template:
    sent = await _sent(subject, request_id)
    await subject.log_read("request.viewed", "coordination_request", sent.id)
    return Template("coordination/detail.html", context={
        "d": await requests.request_detail(subject.db, sent), "person": subject.person,
        "this_year": subject.today.year})


route_handlers = [my_requests, request_start, request_choose_person, request_hard_page,
                  request_hard_save, request_units_page, request_units_save, request_contact_page,
                  request_contact_save, request_consent_page, request_consent_save, request_check,
                  request_send, request_receipt, request_detail]
