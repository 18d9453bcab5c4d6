"""Vem kan se och göra saker åt dig: who acts for the person, invitations, ending a proxy.

The person acting for themself sees everyone who can act for them and why, invites a
proxy (after re-authentication), withdraws an invitation and ends a proxy. Someone
acting for another person sees, read-only, what they may do for that person. The
invitee answers an invitation matched on their own national id. Services:
portal.people.invitations.
"""

from __future__ import annotations

from datetime import date

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.access import Subject, acting_for, own_account, themself
from portal.audit.service import record
from portal.auth.routes import auth_is_fresh
from portal.auth.viewer import Viewer
from portal.config import Settings
from portal.consent.forms import new_key
from portal.core.clock import RequestTime
from portal.core.i18n import N_
from portal.people import invitations as services
from portal.people.models import Person
from portal.people.names import may_see_name, shown_name
from portal.people.representation import SCOPE_WORDS, Scope, acting_rights, guardian_age_limit

ANY = {"subject": acting_for()}
# Who may act for the person is changed only by the person (portal.access.themself).
SELF = {"subject": themself()}
OWN = {"viewer": own_account()}
PENDING = "pending_invitation"
CONFIRM_URL = "/ombud/bjud-in/bekrafta"
REAUTH_URL = f"/auth/login/citizen?reauth=true&next={CONFIRM_URL}"


def _age_limit_end(person, country: str):
    """The day a guardian's right for `person` ends: the birthday at the age limit."""
    limit = guardian_age_limit(country)
    born = person.birth_date
    try:
        return born.replace(year=born.year + limit)
    except ValueError:  # born 29 February: the right ends on 1 March
        return born.replace(year=born.year + limit, month=3, day=1)


@get("/ombud", dependencies=ANY, name="representatives_page")
async def representatives_page(subject: NamedDependency[Subject]) -> Template:
    db, viewer, person = subject.db, subject.viewer, subject.person
    if subject.by_representative:
        # What the viewer may do for the person, and why: nothing about anyone else.
        await subject.log_read("representation.viewed", "representation",
                               viewer.right.representation.id)
        return Template("people/representatives.html", context={
            "right": viewer.right, "scopes": services.scope_list(viewer.right.scopes),
            "scope_words": SCOPE_WORDS,
            "age_limit": guardian_age_limit(person.country),
            "limit_day": _age_limit_end(person, person.country)})
    overview = await services.representatives(db, person, subject.today)
    rights = await acting_rights(db, viewer.person.id, subject.time.now)
    invited = await services.invitations_to(db, viewer.person, subject.time.now)
    return Template("people/representatives.html", context={
        "right": None, "overview": overview, "rights": rights, "invited": invited,
        "scope_words": SCOPE_WORDS, "scope_list": services.scope_list,
        "age_limit": guardian_age_limit(person.country),
        "limit_day_of": lambda child: _age_limit_end(child, child.country),
        "limit_of": lambda child: guardian_age_limit(child.country),
        "ended_on": lambda rep: services.ended_on(rep, person),
        "may_invite": services.may_invite(person, subject.today),
        "invitee_born": lambda invitation: services.invitee_birth_date(
            {"national_id": invitation.invitee_national_id}, person),
        "today": subject.today})


# --- inviting a proxy ----------------------------------------------------------------------


def _protected_page(status: int = 200, person: Person | None = None,
                    today: date | None = None) -> Template:
    """Why the person cannot invite here: protected personal data (staff add a proxy), or
    under 18 (their guardians act for them)."""
    child = person is not None and not person.protected_identity and today is not None \
        and person.age_on(today) < services.ADULT_AGE
    return Template("people/invite_child.html" if child else "people/invite_protected.html",
                    status_code=status)


def _invite_form_page(subject: Subject, form: services.InviteForm, status: int = 200) -> Template:
    return Template("people/invite.html", status_code=status, context={
        "form": form, "scope_words": SCOPE_WORDS, "scopes": list(Scope),
        "number_label": services.NUMBER_LABEL[subject.person.country],
        "today": subject.today})


@get("/ombud/bjud-in", dependencies=SELF, name="invite_page")
async def invite_page(subject: NamedDependency[Subject]) -> Template:
    if not services.may_invite(subject.person, subject.today):
        return _protected_page(person=subject.person, today=subject.today)
    return _invite_form_page(subject, services.InviteForm(key=new_key()))


@post("/ombud/bjud-in", dependencies=SELF, name="invite")
async def invite(request: Request, subject: NamedDependency[Subject],
                 settings: NamedDependency[Settings]) -> Response:
    person = subject.person
    if not services.may_invite(person, subject.today):
        reason = "protected identity" if person.protected_identity else "under 18"
        await record(subject.db, "proxy_invitation.refused", subject.actor(),
                     subject_person_id=person.id, detail={"reason": reason})
        return _protected_page(status=403, person=person, today=subject.today)
    form = services.read_invite_form(await request.form(), person, subject.today)
    if form.errors:
        return _invite_form_page(subject, form, status=400)
    session = request.scope["state"]["session"]
    session[PENDING] = services.pending_data(form, person)
    await record(subject.db, "proxy_invitation.prepared", subject.actor(),
                 subject_person_id=person.id, detail={"scope": " ".join(form.scopes)})
    if not auth_is_fresh(session, settings.reauth_max_age):
        return Redirect(REAUTH_URL, status_code=303)
    return Redirect(CONFIRM_URL, status_code=303)


def _pending(request: Request, subject: Subject) -> dict | None:
    pending = request.scope["state"]["session"].get(PENDING)
    if not isinstance(pending, dict) or pending.get("person") != subject.person.id:
        return None
    return pending


@get(CONFIRM_URL, dependencies=SELF, name="invite_confirm")
async def invite_confirm(request: Request, subject: NamedDependency[Subject],
                         settings: NamedDependency[Settings]) -> Response:
    if not services.may_invite(subject.person, subject.today):
        return _protected_page(person=subject.person, today=subject.today)
    pending = _pending(request, subject)
    if pending is None:
        return Redirect("/ombud/bjud-in", status_code=303)
    if not auth_is_fresh(request.scope["state"]["session"], settings.reauth_max_age):
        return Redirect(REAUTH_URL, status_code=303)
    return Template("people/invite_confirm.html", context={
        "pending": pending, "born": services.invitee_birth_date(pending, subject.person),
        "replaces": await services.already_acts(subject.db, pending, subject.person,
                                                subject.time.now),
        "scopes": services.scope_list(pending["scopes"]), "scope_words": SCOPE_WORDS,
        "valid_to": date.fromisoformat(pending["valid_to"]) if pending.get("valid_to") else None})


@post(CONFIRM_URL, dependencies=SELF, name="invite_send")
async def invite_send(request: Request, subject: NamedDependency[Subject],
                      settings: NamedDependency[Settings]) -> Response:
    db, person = subject.db, subject.person
    if not services.may_invite(person, subject.today):
        return _protected_page(status=403, person=person, today=subject.today)
    session = request.scope["state"]["session"]
    key = str((await request.form()).get("idempotency_key") or "")
    pending = _pending(request, subject)
    if pending is None or pending.get("key") != key:
        if services.KEY_PATTERN.match(key) and await services._by_key(db, person.id, key):
            # A double submit (or the back button): the invitation is already sent.
            session.flash(N_("Inbjudan är redan skickad."), "success")
            return Redirect("/ombud", status_code=303)
        return Redirect("/ombud/bjud-in", status_code=303)
    if not auth_is_fresh(session, settings.reauth_max_age):
        return Redirect(REAUTH_URL, status_code=303)
    await services.invite(db, person, pending, subject.actor(), on_behalf_of=subject.on_behalf_of)
    session.pop(PENDING)
    session.flash(N_("Inbjudan är skickad. Den som du har bjudit in ser den nästa gång hen "
                     "loggar in. Inget delas förrän hen har tackat ja."), "success")
    return Redirect("/ombud", status_code=303)


# --- withdrawing an invitation, ending a proxy ----------------------------------------------


async def _own_invitation(subject: Subject, invitation_id: str):
    invitation = await services.invitation_by(subject.db, invitation_id, subject.person.id)
    if invitation is None:
        raise NotFoundException()
    return invitation


@get("/ombud/inbjudningar/{invitation_id:str}/ta-tillbaka", dependencies=SELF,
     name="withdraw_invitation_page")
async def withdraw_invitation_page(invitation_id: FromPath[str],
                                   subject: NamedDependency[Subject]) -> Template:
    invitation = await _own_invitation(subject, invitation_id)
    return Template("people/withdraw_invitation.html", context={
        "invitation": invitation, "scopes": services.scope_list(invitation.scopes),
        "scope_words": SCOPE_WORDS})


@post("/ombud/inbjudningar/{invitation_id:str}/ta-tillbaka", dependencies=SELF,
      name="withdraw_invitation")
async def withdraw_invitation(request: Request, invitation_id: FromPath[str],
                              subject: NamedDependency[Subject]) -> Response:
    invitation = await _own_invitation(subject, invitation_id)
    session = request.scope["state"]["session"]
    if await services.withdraw(subject.db, invitation, subject.actor(), subject.time.now):
        session.flash(N_("Du har tagit tillbaka inbjudan."), "success")
    elif invitation.status == services.ACCEPTED:
        session.flash(N_("Inbjudan hade redan godkänts. Du kan avsluta fullmakten här."),
                      "warning")
    else:
        session.flash(N_("Inbjudan gäller inte längre. Inget mer behöver göras."))
    return Redirect("/ombud", status_code=303)


async def _own_proxy(subject: Subject, representation_id: str) -> services.Representative:
    found = await services.proxy_of(subject.db, representation_id, subject.person.id)
    if (found is None or found.representation.kind != "proxy"
            or found.representation.source not in services.ENDABLE_SOURCES):
        raise NotFoundException()  # guardians, court appointments, Suomi.fi: not ended here
    return found


@get("/ombud/fullmakter/{representation_id:str}/avsluta", dependencies=SELF,
     name="end_proxy_page")
async def end_proxy_page(representation_id: FromPath[str],
                         subject: NamedDependency[Subject]) -> Response:
    found = await _own_proxy(subject, representation_id)
    if not found.endable:
        return Redirect("/ombud", status_code=303)
    return Template("people/end_proxy.html", context={
        "found": found, "scopes": found.scopes, "scope_words": SCOPE_WORDS})


@post("/ombud/fullmakter/{representation_id:str}/avsluta", dependencies=SELF, name="end_proxy")
async def end_proxy(request: Request, representation_id: FromPath[str],
                    subject: NamedDependency[Subject]) -> Response:
    found = await _own_proxy(subject, representation_id)
    session = request.scope["state"]["session"]
    if await services.end(subject.db, found.representation, subject.person.id, subject.actor(),
                          subject.time.now):
        session.flash(N_("Fullmakten är avslutad. %(name)s kan inte längre använda tjänsten "
                         "för dig."), "success", {"name": shown_name(found.person, subject.viewer)})
    else:
        session.flash(N_("Fullmakten var redan avslutad. Inget mer behöver göras."))
    return Redirect("/ombud", status_code=303)


# --- the invitee ---------------------------------------------------------------------------


async def _invitation_to_me(viewer: Viewer, request: Request, invitation_id: str):
    found = await services.invitation_to(request.scope["state"]["db"], invitation_id,
                                         viewer.person)
    if found is None:
        raise NotFoundException()  # the same for someone else's and a made-up one
    return found


def _invitation_page(request: Request, viewer: Viewer, found, status: int = 200,
                     error: str | None = None) -> Template:
    today = request.scope["state"]["time"].today_for(found.inviter)
    return Template("people/invitation.html", status_code=status, context={
        "found": found, "open": found.open_on(today), "scopes": services.scope_list(found.invitation.scopes),
        "scope_words": SCOPE_WORDS, "error": error,
        "named": may_see_name(found.inviter, viewer)})


@get("/ombud/inbjudningar/{invitation_id:str}", dependencies=OWN, name="invitation_page")
async def invitation_page(request: Request, invitation_id: FromPath[str],
                          viewer: NamedDependency[Viewer]) -> Template:
    return _invitation_page(request, viewer, await _invitation_to_me(viewer, request, invitation_id))


@post("/ombud/inbjudningar/{invitation_id:str}", dependencies=OWN, name="answer_invitation")
async def answer_invitation(request: Request, invitation_id: FromPath[str],
                            viewer: NamedDependency[Viewer],
                            time: NamedDependency[RequestTime]) -> Response:
    found = await _invitation_to_me(viewer, request, invitation_id)
    decision = str((await request.form()).get("decision") or "")
    if (found.open_on(time.today_for(found.inviter))
            and decision not in ("accept", "decline")):
        return _invitation_page(request, viewer, found, status=400,
                                error=N_("Välj om du tackar ja eller nej."))
    session = request.scope["state"]["session"]
    db = request.scope["state"]["db"]
    answered = decision in ("accept", "decline") and await services.answer(
        db, found, viewer.person, decision == "accept", time.today_for(found.inviter), time.now)
    if not answered:
        # Two tabs, the back button: nothing more happens; the page says what did.
        if found.invitation.status in (services.ACCEPTED, services.DECLINED):
            session.flash(N_("Du har redan svarat på inbjudan. Inget ändrades."))
        return Redirect(f"/ombud/inbjudningar/{found.invitation.id}", status_code=303)
    if decision == "accept":
        session.flash(N_("Du har tackat ja. Nu kan du använda tjänsten för personen. Välj "
                         "personen under Byt person."), "success")
    else:
        session.flash(N_("Du har tackat nej. Inget delas med dig."), "success")
    return Redirect("/ombud", status_code=303)


route_handlers = [representatives_page, invite_page, invite, invite_confirm, invite_send,
                  withdraw_invitation_page, withdraw_invitation, end_proxy_page, end_proxy,
                  invitation_page, answer_invitation]
