"""Login, callback, logout and session keep-alive."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Annotated

import httpx
from authlib.common.security import generate_token
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.auth import accounts
from portal.auth.oidc import AssuranceTooLow, LoginError, OIDCProvider
from portal.auth.sessions import ENDED_COOKIE, Session, session_tag
from portal.config import Settings
from portal.core.i18n import N_
from portal.core.urls import safe_next

log = logging.getLogger("portal.auth")
KINDS = ("citizen", "staff")
MAX_PENDING_LOGINS = 5
KEPT_ON_REAUTH = ("acting_for", "pending_consent", "pending_invitation")
TAG = re.compile(r"[0-9a-f]{16}")

# What to log in with instead when the level was not enough. sv_FI says it the
# Finnish way (bankkoder, mobilcertifikat).
ASSURANCE_ADVICE = {
    "citizen": N_("Logga in med BankID eller Freja eID+."),
    "staff": N_("Logga in med den e-legitimation som du har fått av din arbetsgivare."),
}
NO_NAME = N_("Vi fick inte ditt namn från e-legitimationen. Ingenting har sparats. "
             "Försök igen eller logga in med en annan e-legitimation.")
NO_NATIONAL_ID = N_("SIP-portalen behöver ditt personnummer eller samordningsnummer. Vi fick "
                    "inget sådant nummer från e-legitimationen. Ingenting har sparats.")


def auth_is_fresh(session: Session, max_age: int) -> bool:
    return time.time() - float(session.get("auth_time") or 0) <= max_age


def _session(request: Request) -> Session:
    return request.scope["state"]["session"]


def _end_attempt(request: Request, reason: str) -> None:
    """Log why (never a token or a number), and leave nobody logged in."""
    log.warning("login failed: %s", reason)
    _session(request).clear()
    request.scope["state"]["viewer"] = None  # the page must not show the ended login


def _failed(request: Request, reason: str, message: str = N_(
        "Inloggningen gick inte att slutföra. Ingenting har sparats. Försök igen.")) -> Template:
    _end_attempt(request, reason)
    return Template("auth/login_failed.html", context={"message": message}, status_code=400)


def _assurance_refused(request: Request, kind: str) -> Template:
    """The plain page for a login whose level of assurance is missing or not accepted."""
    _end_attempt(request, "assurance level not accepted")
    return Template("auth/assurance_refused.html", status_code=400,
                    context={"advice": ASSURANCE_ADVICE[kind], "kind": kind})


async def _iss_problem(provider: OIDCProvider, iss: str | None) -> str | None:
    """RFC 9207 2.4 on the authorization response (also an error response): why its
    `iss` parameter is not acceptable (for the log), or None when it is."""
    if iss is not None:
        return None if iss == provider.client.issuer else "iss response parameter is not the issuer"
    try:
        required = await provider.issuer_in_response_required()
    except (LoginError, httpx.HTTPError, ValueError, KeyError) as exc:
        return f"provider unreachable: {type(exc).__name__}"
    return "iss response parameter missing" if required else None


@get("/auth/login/{kind:str}", name="start_login")
async def start_login(request: Request, kind: FromPath[str], settings: NamedDependency[Settings],
                      providers: NamedDependency[dict[str, OIDCProvider]],
                      reauth: Annotated[bool, QueryParameter(name="reauth")] = False,
                      next_: Annotated[str | None, QueryParameter(name="next")] = None) -> Response:
    if kind not in KINDS:
        return Template("errors/404.html", status_code=404)
    session = _session(request)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = generate_token(64)
    pending = dict(session.get("oidc_pending") or {})
    # Keep only the newest few, so two tabs can log in but nothing piles up.
    for old in sorted(pending, key=lambda s: pending[s]["at"])[:-MAX_PENDING_LOGINS + 1]:
        pending.pop(old)
    pending[state] = {"kind": kind, "nonce": nonce, "verifier": verifier, "at": time.time(),
                      "next": safe_next(next_), "reauth": reauth}
    session["oidc_pending"] = pending
    session.must_save = True  # without it the provider's answer would match nothing
    try:
        url = await providers[kind].authorization_url(
            f"{settings.base_url}/auth/callback/{kind}", state, nonce, verifier,
            max_age=0 if reauth else None, prompt="login" if reauth else None,
            ui_locales=request.scope["state"]["locale"].replace("_", "-"),
        )
    except LoginError as exc:
        return _failed(request, exc.reason)
    except Exception as exc:
        return _failed(request, f"provider unreachable: {type(exc).__name__}")
    return Redirect(url, status_code=303)


@get("/auth/callback/{kind:str}", name="login_callback")
async def login_callback(
    request: Request, kind: FromPath[str], settings: NamedDependency[Settings], db: NamedDependency[AsyncSession],
    providers: NamedDependency[dict[str, OIDCProvider]], rate_limiter: NamedDependency[accounts.RateLimiter],
    code: Annotated[str | None, QueryParameter(name="code")] = None,
    state_: Annotated[str | None, QueryParameter(name="state")] = None,
    error: Annotated[str | None, QueryParameter(name="error")] = None,
    iss: Annotated[str | None, QueryParameter(name="iss")] = None,
) -> Response:
    """The provider's answer. RFC 9207: an `iss` parameter must be the configured issuer
    exactly, and a provider that advertises it must send it; otherwise nothing is stored."""
    client_ip = request.client.host if request.client else "unknown"
    if not await rate_limiter.allow(f"callback:{client_ip}"):
        return Template("auth/login_failed.html", status_code=429, context={
            "message": N_("Du har försökt logga in många gånger. Vänta en minut och försök igen.")})
    session = _session(request)
    pending = dict(session.get("oidc_pending") or {})
    attempt = pending.pop(state_ or "", None)
    session["oidc_pending"] = pending  # single use, also when the rest fails
    if kind not in KINDS or attempt is None or attempt["kind"] != kind:
        if session.authenticated:
            # A stray or replayed callback link must not log the person out.
            log.warning("login failed: unknown or reused state while logged in")
            return Redirect("/", status_code=303)
        return _failed(request, "unknown or reused state")
    provider = providers[kind]
    problem = await _iss_problem(provider, iss)
    if problem:
        return _failed(request, problem)
    if error:
        if error == "access_denied":
            return _failed(request, "cancelled by user",
                           N_("Du avbröt inloggningen. Du kan logga in igen när du vill."))
        return _failed(request, "provider error")
    if not code:
        return _failed(request, "no code")
    try:
        tokens = await provider.exchange_code(
            code, f"{settings.base_url}/auth/callback/{kind}", attempt["verifier"])
        claims = await provider.validate_id_token(tokens["id_token"], attempt["nonce"])
        if attempt.get("reauth") and float(claims.get("auth_time") or 0) < attempt["at"] - 60:
            raise LoginError("re-authentication asked for but an old login was reused")
        if kind == "citizen":
            claims = await provider.with_userinfo(claims, tokens.get("access_token"))
        async with db.begin_nested():  # a refused login leaves nothing behind
            user = await accounts.user_from_claims(db, kind, provider.client.issuer, claims)
    except AssuranceTooLow:
        return _assurance_refused(request, kind)
    except accounts.NoName as exc:
        return _failed(request, exc.reason, NO_NAME)
    except accounts.NoNationalId as exc:
        return _failed(request, exc.reason, NO_NATIONAL_ID)
    except LoginError as exc:
        return _failed(request, exc.reason)
    except httpx.HTTPError as exc:
        return _failed(request, f"provider unreachable: {type(exc).__name__}")
    except accounts.UnknownStaff:
        return _failed(request, "unknown staff member", N_(
            "Du har inget konto i SIP-portalen. Kontakta din chef om du ska ha det."))
    previous_user = session.get("user_id")
    if attempt.get("reauth") and previous_user and previous_user != user.id:
        # Asked to confirm who they are, someone else logged in: nothing changes hands. The
        # signed-in person stays signed in (with their old login time) and is told why.
        session.flash(N_("Du loggade in som en annan person. Inget har ändrats. Logga in som "
                         "dig själv för att fortsätta."), "warning")
        return Redirect("/", status_code=303)
    locale = session.get("locale")
    # Re-authenticating as the same user keeps what the person was doing.
    kept = {k: session.get(k) for k in KEPT_ON_REAUTH if k in session} \
        if previous_user == user.id else {}
    session.clear()  # the old session id dies here: a new one is issued
    session["user_id"] = user.id
    session["user_kind"] = user.kind
    session["auth_time"] = claims.get("auth_time", int(time.time()))
    session["acr"] = claims["acr"]
    session["id_token"] = tokens["id_token"]
    if locale:
        session["locale"] = locale
    for key, value in kept.items():
        session[key] = value
    await accounts.record_login(db, user, claims["acr"], reauth=previous_user == user.id)
    return Redirect(attempt.get("next") or "/", status_code=303)


@post("/auth/logout", name="logout")
async def logout(request: Request, settings: NamedDependency[Settings], db: NamedDependency[AsyncSession],
                 providers: NamedDependency[dict[str, OIDCProvider]]) -> Response:
    session = _session(request)
    viewer = request.scope["state"].get("viewer")
    kind = "staff" if session.get("user_kind") == "staff" else "citizen"
    id_token = session.get("id_token")
    locale = session.get("locale")
    token = session.get("csrf")
    await _end_session(request, db)
    target = await providers[kind].end_session_url(id_token, f"{settings.base_url}/utloggad")
    response = Redirect(target or "/utloggad", status_code=303)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    if locale:
        response.set_cookie("sip_lang", locale, max_age=365 * 24 * 3600, path="/",
                            httponly=True, samesite="lax", secure=settings.production)
    if viewer is not None and token:
        # The logged-out page tells this login's other tabs, once (session-ended.js).
        response.set_cookie(ENDED_COOKIE, session_tag(token), max_age=300, path="/",
                            httponly=True, samesite="lax", secure=settings.production)
    return response


@get("/utloggad", name="logged_out")
async def logged_out(request: Request) -> Template:
    ended = request.cookies.get(ENDED_COOKIE) or ""
    response = Template("auth/logged_out.html", context={
        "ended_tag": ended if TAG.fullmatch(ended) else ""})
    if ended:
        response.delete_cookie(ENDED_COOKIE, path="/")
    return response


@get("/session-slut", name="session_ended")
async def session_ended(request: Request, settings: NamedDependency[Settings],
                        db: NamedDependency[AsyncSession]) -> Response:
    """"Du har loggats ut": where an idle tab goes when its time is up (session-timeout.js)
    and where a request with an expired session is sent (core.errors). A session still
    here is ended on this page, not kept alive by it: the browser's clock runs out at
    `idle_timeout`, the server's up to `session_seen_precision` later. Ended when the
    portal's own page sent the browser here (Fetch Metadata `Sec-Fetch-Site: same-origin`:
    no other site can) or the session has been idle since the warning; a link from
    elsewhere to a session in use gets the start page instead."""
    state = request.scope["state"]
    session = state["session"]
    if session.authenticated:
        idle = time.time() - session.get("_seen", 0)
        ours = request.headers.get("sec-fetch-site") == "same-origin"
        if not ours and idle < settings.idle_timeout - settings.idle_warning:
            return Redirect("/", status_code=303)
        await _end_session(request, db)
    return Template("auth/session_ended.html")


async def _end_session(request: Request, db: AsyncSession) -> None:
    """Log the signed-in user out: the logout in the audit log, the session gone (data,
    id, cookie) and this process's pages kept for it (portal.core.page_cache) dropped."""
    state = request.scope["state"]
    session = state["session"]
    token = session.get("csrf")
    if state.get("viewer") is not None:
        await accounts.record_logout(db, state["viewer"])
    session.clear()
    state["viewer"] = None
    if token:
        request.app.state.page_cache.forget(token)


@post("/session/forlang", name="keep_alive")
async def keep_alive(request: Request) -> Response:
    """Answering 'Vill du fortsätta?' — the request itself restarts the idle clock."""
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=204)
    form = await request.form()
    return Redirect(safe_next(str(form.get("next") or "")), status_code=303)


route_handlers = [start_login, login_callback, logout, logged_out, session_ended, keep_alive]
