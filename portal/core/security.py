"""Security headers, CSRF and the per-request context (locale, viewer)."""

from __future__ import annotations

import hmac
from contextvars import ContextVar
from functools import lru_cache

import httpx
from litestar import Request
from litestar.datastructures import Headers
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal.audit.service import Actor, record
from portal.auth.viewer import load_viewer
from portal.config import Settings
from portal.core import i18n
from portal.core.clock import Clock, zone_of
from portal.core.page_cache import PageCache, current_state

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; "
    "report-uri /csp-rapport"
)
# Only report-uri: browsers post each violation at once (portal.core.csp_report). With
# report-to as well, Chromium ignores report-uri and queues the reports to send in batches.


def provider_origins(settings: Settings) -> str:
    """Origins of the identity providers: logout posts to us, then redirects there,
    and browsers apply form-action to that redirect."""
    origins = set()
    for name in ("citizen", "staff"):
        url = httpx.URL(settings.client(name).issuer)
        origins.add(f"{url.scheme}://{url.netloc.decode()}")
    origins.discard(settings.base_url)
    return " ".join(sorted(origins))


def security_headers(path: str, production: bool, form_origins: str = "",
                     status: int = 200, static_cache: bytes | None = None,
                     ) -> list[tuple[bytes, bytes]]:
    """The headers on every response (also error pages sent when no route matched).

    A static file keeps the cache-control its route chose (`static_cache`, see
    portal.core.assets: a year for a fingerprinted name); everything else is
    `no-store`. A new list each call (made once per kind of response)."""
    static = path.startswith("/static/") and status == 200
    return list(_headers(static, production, form_origins, static_cache if static else None))


@lru_cache(maxsize=64)
def _headers(static: bool, production: bool, form_origins: str,
             static_cache: bytes | None) -> tuple[tuple[bytes, bytes], ...]:
    csp = CSP
    if form_origins:
        csp = CSP.replace("form-action 'self'", f"form-action 'self' {form_origins}")
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy",
         (b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
          b"interest-cohort=()")),
    ]
    if static:
        # The same bytes for everyone: no Vary on the cookie, so shared caches keep one copy.
        headers.append((b"cache-control", static_cache or b"public, max-age=3600"))
    else:
        headers += [(b"cache-control", b"no-store"), (b"vary", b"HX-Request, Cookie")]
    if production:
        headers.append((b"strict-transport-security",
                        b"max-age=63072000; includeSubDomains"))
    return tuple(headers)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.form_origins = provider_origins(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers, chosen = [], None
                for key, value in message.get("headers", []):
                    if key.lower() == b"cache-control":
                        chosen = value
                    else:
                        headers.append((key, value))
                headers += security_headers(scope["path"], self.settings.production,
                                            self.form_origins, message["status"], chosen)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # An error raised in a middleware (e.g. the database is down while loading
            # the viewer) is answered by the app's handler outside this middleware:
            # errors._page must add the headers itself.
            scope.setdefault("state", {})["headers_not_sent"] = True
            raise


# The request's "commit or roll back" (RequestContextMiddleware), for the app's
# after_request hook.
_finish_request: ContextVar = ContextVar("portal_finish_request", default=None)


async def commit_before_sending(response):
    """Litestar `after_request` hook (app-wide): end the request's transaction once the
    handler has answered, before the response is rendered and sent: committed below 500,
    rolled back otherwise. Here a failed commit (the database gone between the handler's
    work and its commit) is still an exception Litestar's handlers turn into the plain 503
    page; at the response's start it could only break the connection. Responses made by
    exception handlers are ended at their start by RequestContextMiddleware, as before.
    Returns `response` unchanged."""
    finish = _finish_request.get()
    if finish is not None:
        await finish(getattr(response, "status_code", None) or 200)  # None: the default, 2xx
    return response


class RequestContextMiddleware:
    """Per request: the locale, the clock read once, ONE database session, and who is
    signed in (loaded once, into that session).

    Transaction policy, in one place: the session is committed once, just before the
    response starts, when the status is below 500 (so the access-log record of a read
    survives a 4xx page), and rolled back otherwise: by `commit_before_sending` (the app's
    after_request hook) once the handler has answered, else (a response made by an
    exception handler) at the response's start. If that commit fails, nothing was sent
    and the visitor gets the plain 503/500 page, never a false "saved". Handlers and services only flush (a service may roll back
    its own work on a conflict before it renders the fresh state).
    """

    def __init__(self, app: ASGIApp, settings: Settings, sessionmaker, clock: Clock,
                 page_cache: PageCache | None = None) -> None:
        self.app = app
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.page_cache = page_cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        session = state["session"]
        chosen = (
            i18n.normalise_locale(session.get("locale"))
            or i18n.normalise_locale(_cookie(scope, "sip_lang"))
        )
        locale = chosen or self.settings.default_locale
        state["locale"] = locale
        token = i18n.current_locale.set(locale)
        times_token = i18n.begin_request()
        state["viewer"] = None
        state["time"] = time = self.clock.at_request()
        db = self.sessionmaker()
        state["db"] = db
        state["scope"] = scope
        state["page_cache"] = self.page_cache
        state_token = current_state.set(state)
        finished = False

        async def finish(status: int) -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            if status < 500:
                await db.commit()
            else:
                await db.rollback()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                await finish(message["status"])
            await send(message)

        finish_token = _finish_request.set(finish)
        try:
            if session.authenticated:
                viewer, ended = await load_viewer(db, session.data, time.now)
                if viewer is not None and ended:
                    # The right ended by itself (end date, birthday): say so in the log.
                    gone = session.get("acting_for")
                    await record(db, "acting.ended", Actor("person", viewer.person.id, "ended"),
                                 subject_person_id=gone, on_behalf_of=gone,
                                 detail={"reason": "representation no longer valid"})
                if viewer is None:
                    session.clear()
                elif ended:
                    session.pop("acting_for")
                    await _say_the_right_ended(db, session, viewer, gone)
                    state["right_ended"] = True  # a stale form's POST saves nothing (errors)
                state["viewer"] = viewer
                if viewer is not None and not chosen:
                    # Until someone chooses a variant, it follows the signed-in person's
                    # country (a staff member's: their unit's), not the server's.
                    home = viewer.unit if viewer.is_staff else viewer.person
                    country = getattr(home, "country", None)
                    own = next((code for code, c in i18n.COUNTRY_OF.items() if c == country), None)
                    if own is not None and own != locale:
                        state["locale"] = locale = own
                        i18n.current_locale.set(own)
                if viewer is not None:
                    # A read-only snapshot for this request: a rollback in a handler
                    # must not expire who is signed in (the page still shows them).
                    for loaded in viewer.loaded_objects():
                        db.expunge(loaded)
                    own = viewer.unit if viewer.is_staff else viewer.acting_for
                    if own is not None:
                        i18n.show_times_in(zone_of(own))
            if state.get("right_ended") and Headers.from_scope(scope).get("hx-request"):
                # An htmx request from a page of the person they no longer act for: the
                # whole tab goes to the start page, which says what happened.
                await send_wrapper({"type": "http.response.start", "status": 200,
                                    "headers": [(b"hx-redirect", b"/"),
                                                (b"content-length", b"0")]})
                await send_wrapper({"type": "http.response.body", "body": b""})
                return
            if self.page_cache is not None and await self.page_cache.send_kept(
                    state, scope, send_wrapper):
                return  # a kept page (portal.core.page_cache), nothing it shows has changed
            await self.app(scope, receive, send_wrapper)
        finally:
            _finish_request.reset(finish_token)
            current_state.reset(state_token)
            try:
                if not finished:
                    await db.rollback()
            finally:
                await db.close()
                i18n.end_request(times_token)
                i18n.current_locale.reset(token)


ENDED = i18n.N_("Du kan inte längre använda tjänsten för den personen. Nu ser du dina egna "
                "uppgifter.")
ENDED_BY_PERSON = i18n.N_("%(name)s har avslutat din fullmakt. Du kan inte längre använda "
                          "tjänsten för %(name)s. Nu ser du dina egna uppgifter.")
ENDED_BY_PROTECTED = i18n.N_("Personen har avslutat din fullmakt. Du kan inte längre använda "
                             "tjänsten för den personen. Nu ser du dina egna uppgifter.")


async def _say_the_right_ended(db, session, viewer, person_id: str | None) -> None:
    """The flash on the representative's next request: when the person ended the
    fullmakt, say so by name (a protected name is not said: portal.people.names)."""
    from portal.people.invitations import why_ended
    from portal.people.names import may_see_name

    why = await why_ended(db, viewer.person.id, person_id)
    if not why.ended_by_person or why.person is None:
        session.flash(ENDED, "warning")
    elif may_see_name(why.person, viewer):
        session.flash(ENDED_BY_PERSON, "warning", {"name": why.person.given_name})
    else:
        session.flash(ENDED_BY_PROTECTED, "warning")


def _cookie(scope: Scope, name: str) -> str | None:
    from portal.auth.sessions import _read_cookie

    return _read_cookie(scope, name)


async def check_csrf(request: Request) -> None:
    """before_request hook: every unsafe method carries the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.route_handler.opt.get("csrf_exempt"):
        return
    session = request.scope["state"]["session"]
    expected = session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = form.get("csrf_token")
    if not expected and sent and not session.authenticated:
        # A page from a session that no longer exists here (logged out in another
        # tab, timed out): say so, and send the person to the page that explains it.
        raise PermissionDeniedException(detail="session-gone")
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise PermissionDeniedException(detail="csrf")
