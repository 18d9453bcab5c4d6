"""Plain-language error pages that leak nothing."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from portal.access import OUT_OF_SCOPE, WrongSubject
from portal.auth.guards import LoginRequired, WrongKindOfUser
from portal.auth.sessions import Session
from portal.core import i18n
from portal.core.security import UNSAFE_METHODS, provider_origins, security_headers
from portal.fhir import outcome as fhir_outcome
from portal.people.representation import SCOPE_WORDS, Scope

log = logging.getLogger("portal.errors")


def _page(request: Request, name: str, status: int, context: dict | None = None) -> Response:
    if fhir_outcome.is_api_path(request.scope["path"]):
        # The FHIR API answers machines: an OperationOutcome, never an HTML page (a 404 or
        # 405 before any of its routes, a body over the size limit).
        return fhir_outcome.for_status(status)
    state = request.scope.setdefault("state", {})
    settings = request.app.state.settings
    if "session" not in state:
        # No route matched (404/405): the route middleware (session, headers, locale)
        # did not run. Answer anonymously, in the language the visitor chose.
        state["session"] = Session(None)
        state["headers_not_sent"] = True
        locale = i18n.normalise_locale(request.cookies.get("sip_lang")) or settings.default_locale
        state["locale"] = locale
        i18n.current_locale.set(locale)  # this request's own task: nothing else sees it
    response = Template(f"errors/{name}.html", status_code=status, context=context or {})
    if state.get("headers_not_sent"):
        for key, value in security_headers(request.scope["path"], settings.production,
                                           provider_origins(settings), status):
            response.headers[key.decode()] = value.decode()
    if request.headers.get("hx-request"):
        # htmx swaps nothing on errors by default; send the page for a full load.
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _from_an_ended_session(request: Request, session: Session | None) -> bool:
    """A request made from a page of a session that no longer exists here.

    htmx sends the page's token in a header (only pages shown to someone logged
    in have one); a plain form sends it in its body, which is not read here, so a
    form posted with no live session at all counts too."""
    live = session.get("csrf") if session is not None else None
    sent = request.headers.get("x-csrf-token")
    if sent:
        return sent != live
    return request.method in UNSAFE_METHODS and not live


def login_required(request: Request, _: Exception) -> Response:
    session = request.scope["state"].get("session")
    expired = session is not None and session.expired
    if _from_an_ended_session(request, session):
        return session_gone(request)
    target = "/session-slut" if expired else "/"
    if request.headers.get("hx-request"):
        return Response(content=b"", status_code=401, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


def session_gone(request: Request) -> Response:
    """A form or htmx request from a page whose session has ended (logged out in
    another tab, timed out, or forgotten by the server). Nothing was saved.

    htmx follows HX-Redirect whatever the status: the tab goes to the page that
    explains what happened. Without JavaScript: a plain page with a way on."""
    session = request.scope["state"].get("session")
    expired = session is not None and session.expired
    if request.headers.get("hx-request"):
        target = "/session-slut" if expired else "/utloggad"
        return Response(content=b"", status_code=401, headers={"HX-Redirect": target})
    return Template("errors/session_gone.html", status_code=403, context={"expired": expired})


def forbidden(request: Request, exc: Exception) -> Response:
    if isinstance(exc, PermissionDeniedException) and exc.detail == "session-gone":
        return session_gone(request)
    if isinstance(exc, PermissionDeniedException) and exc.detail == "csrf":
        return _page(request, "csrf", 403)
    viewer = request.scope.get("state", {}).get("viewer")
    if (isinstance(exc, PermissionDeniedException) and exc.detail == OUT_OF_SCOPE
            and viewer is not None and viewer.acting_for_other):
        # A representative whose right does not cover this page: say what it does cover.
        allowed = [SCOPE_WORDS[scope] for scope in Scope if viewer.right.allows(scope)]
        return _page(request, "403_scope", 403, {"person": viewer.acting_for, "allowed": allowed})
    return _page(request, "403", 403)


def not_found(request: Request, _: Exception) -> Response:
    return _page(request, "404", 404)


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404 or exc.status_code == 405:
        return _page(request, "404", 404)
    if exc.status_code in (401, 403):
        return _page(request, "403", 403)
    if exc.status_code == 503:
        return _page(request, "503", 503)
    if exc.status_code >= 500:
        return _page(request, "500", exc.status_code)
    return _page(request, "400", exc.status_code)


def wrong_subject(request: Request, exc: Exception) -> Response:
    """A form (or htmx request) shown for another person than the one acted for now:
    nothing was saved; show the right person's page and say so plainly."""
    session = request.scope["state"]["session"]
    if request.scope["state"].get("right_ended"):
        # The person ended the representative's right since the page was shown: the flash
        # says so (core.security); nothing was saved, and the way on is the start page.
        session.flash(i18n.N_("Det du skickade sparades inte."), "warning")
        if request.headers.get("hx-request"):
            return Response(content=None, status_code=409, headers={"HX-Redirect": "/"})
        return Redirect("/", status_code=303)
    session.flash(i18n.N_("Inget sparades. Sidan du skickade från gällde en annan person än den "
                          "du använder tjänsten för nu. Kontrollera och försök igen."), "warning")
    target = request.url.path
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=409, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


def is_connection_failure(exc: Exception) -> bool:
    """True only when the database could not be reached or the connection broke.

    OperationalError and InterfaceError (the driver's connection-level errors; a
    connection not made within core.db.DB_CONNECT_TIMEOUT is one), any DBAPIError whose
    connection SQLAlchemy has invalidated, and no free connection in the pool in time
    (sqlalchemy.exc.TimeoutError: the database is too slow to give them back). A
    DataError, IntegrityError, ProgrammingError … is our fault (input that should never
    have reached the database), not the database being down.
    """
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def database_error(request: Request, exc: Exception) -> Response:
    """503 "try again later" for a connection failure; any other database error is a
    logged 500 (the message and statement are not logged: they can hold personal data)."""
    if is_connection_failure(exc):
        log.error("database unavailable: %s", type(exc).__name__)
        return _page(request, "503", 503)
    driver_error = type(getattr(exc, "orig", None)).__name__
    log.error("database error: %s (%s)", type(exc).__name__, driver_error)
    return _page(request, "500", HTTP_500_INTERNAL_SERVER_ERROR)


def session_store_error(request: Request, exc: Exception) -> Response:
    """503 "try again later" when Redis (sessions, login state, rate limits) cannot be
    reached or does not answer in time. Nobody can be recognised or logged in while it
    is gone, so the page says only that the service is not working and nothing was
    saved; when Redis is back (empty), the person is asked to log in again. Other Redis
    errors (a wrong command) are ours: they stay a logged 500."""
    log.error("session store unavailable: %s", type(exc).__name__)
    return _page(request, "503", 503)


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error: %s", type(exc).__name__)
    return _page(request, "500", HTTP_500_INTERNAL_SERVER_ERROR)


handlers = {
    WrongSubject: wrong_subject,
    LoginRequired: login_required,
    WrongKindOfUser: forbidden,
    PermissionDeniedException: forbidden,
    NotFoundException: not_found,
    DBAPIError: database_error,
    PoolTimeout: database_error,
    RedisConnectionError: session_store_error,
    RedisTimeoutError: session_store_error,
    HTTPException: http_error,
    Exception: server_error,
}
