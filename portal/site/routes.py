"""Start page, information pages, language choice and the health check."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.stores.redis import RedisStore
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.access import Scope, citizen_subject
from portal.auth.sessions import cookie_name
from portal.config import Settings
from portal.consent import services as consent_services
from portal.coordination import services as request_services
from portal.coordination.meetings import meetings_of
from portal.core import i18n
from portal.core.page_cache import kept
from portal.core.urls import safe_next
from portal.messages.services import threads_with_new_answers
from portal.people.invitations import invitations_to
from portal.people.representation import acting_rights
from portal.plans import content as plan_content
from portal.plans import services as plan_services


@get("/", name="start")
@kept
async def start(request: Request) -> Template:
    viewer = request.scope["state"]["viewer"]
    if viewer is None:
        return Template("site/start_anonymous.html")
    if viewer.is_staff:
        from portal.inbox.queries import counts_for_start

        counts = await counts_for_start(request.scope["state"]["db"], viewer.staff, viewer.unit,
                                        request.scope["state"]["time"].now)
        return Template("site/start_staff.html", context={"inbox_counts": counts})
    subject = await citizen_subject(request)  # the start page shows what each scope allows
    db, person = subject.db, subject.person
    rights = await acting_rights(db, viewer.person.id, subject.time.now)
    # Invitations to act for someone (portal.people.invitations): the viewer's own.
    invited = [] if subject.by_representative else await invitations_to(db, viewer.person,
                                                                      subject.time.now)
    consent = None
    if subject.may(Scope.CONSENT):
        consent = await consent_services.overview(db, person, subject.today, every_unit=False)
    plan = follow_up = None
    if subject.may(Scope.PLAN_READ):
        plan, current = await plan_services.active_plan_and_version(db, person.id)
        if plan is not None:
            follow_up = plan_content.load(current.content)["follow_up"] if current else None
    open_request = meeting = None
    if subject.may(Scope.REQUESTS):
        open_request = await request_services.newest_open(db, person.id)
        if open_request is not None and open_request.status == request_services.MEETING_BOOKED:
            booked = [m for m in await meetings_of(db, open_request.id) if m.cancelled_at is None]
            meeting = booked[-1] if booked else None
    new_answers = 0
    if subject.may(Scope.MESSAGES):
        new_answers = await threads_with_new_answers(db, person.id)
    # Someone who only acts for others (Johan for his mother) sees them first, and
    # their own cards only once there is something of their own to show.
    own_matters = (subject.by_representative or plan is not None or open_request is not None
                   or (consent is not None and (bool(consent.states) or consent.thinking)))
    return Template("site/start.html", context={
        "rights": rights, "invited": invited, "consent": consent, "plan": plan, "follow_up": follow_up,
        "open_request": open_request, "meeting": meeting, "new_answers": new_answers,
        "this_year": str(subject.today.year),  # a date in another year is shown with its year
        "others_first": bool(rights) and not own_matters})


@get("/kontakt", name="contact")
async def contact() -> Template:
    return Template("site/contact.html")


@get("/tillganglighet", name="accessibility")
async def accessibility() -> Template:
    return Template("site/accessibility.html")


@get("/kakor", name="cookies")
async def cookies(settings: NamedDependency[Settings]) -> Template:
    return Template("site/cookies.html", context={"session_cookie_name": cookie_name(settings)})


@get("/sprak/{code:str}", name="choose_language")
async def choose_language(request: Request, code: FromPath[str], settings: NamedDependency[Settings],
                          next_: Annotated[str | None, QueryParameter(name="next")] = None) -> Response:
    locale = i18n.normalise_locale(code)
    response = Redirect(safe_next(next_), status_code=303)
    if locale:
        session = request.scope["state"]["session"]
        if session.authenticated:
            session["locale"] = locale
        response.set_cookie("sip_lang", locale, max_age=365 * 24 * 3600, path="/",
                            httponly=True, samesite="lax", secure=settings.production)
    return response


@get("/livez", cache_control=None, name="livez", sync_to_thread=False)
def livez() -> Response:
    """The process answers (no database): what a load balancer asks before sending it
    traffic. With the database down every instance stays in rotation and people get the
    portal's own plain 503 page, not the balancer's empty error. /healthz (the database
    too) is for deployment checks."""
    return Response({"status": "ok"})


@get("/healthz", cache_control=None, name="healthz")
async def healthz(request: Request, db: NamedDependency[AsyncSession]) -> Response:
    """The database and, where sessions are in Redis, Redis answer: for deployment
    checks (`python -m portal health`). 503 {"status": "unavailable"} otherwise."""
    store = request.app.state.store
    try:
        await db.exec(text("SELECT 1"))
        if isinstance(store, RedisStore):
            await store._redis.ping()
    except Exception:
        return Response({"status": "unavailable"}, status_code=503)
    return Response({"status": "ok"})


route_handlers = [start, contact, accessibility, cookies, choose_language, livez, healthz]
