"""Server-side sessions with id rotation, idle timeout and absolute timeout.

Litestar's own server-side session does not rotate its id at login, so the
portal keeps its own small one over a Litestar `Store` (Redis in production,
files or memory locally). The cookie carries only a random id.

Activity time (`_seen`, Unix seconds) and its precision: an authenticated request
counts as activity, but an otherwise unchanged session is written back only when its
`_seen` is `Settings.session_seen_precision` (P, 30 s) old or more: one Redis SET per
person per P seconds, not one per request. So `_seen` may lag the last request by up
to P, and load() ends a session idle for more than `idle_timeout + P`: the session
ends between `idle_timeout` and `idle_timeout + P` seconds after the last request,
never earlier (session-timeout.js counts `idle_timeout` in
the browser, so its warning and its end come first). A changed session (login,
rotation, a flash, a CSRF token, a locale) is always saved at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from typing import Any

from litestar.datastructures import Cookie
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from portal.config import Settings

# The store keeps a session this long past its idle deadline, only so that load()
# can still tell "your session ended" from "new visitor"; load() refuses it.
ENDED_SESSION_GRACE = 60 * 60
log = logging.getLogger("portal.sessions")


ENDED_COOKIE = "sip_ended"


def session_tag(csrf_token: str) -> str:
    """A short name for one login, the same in every tab of it and new at each login.

    Tabs tell each other "this login has ended" with it (session-timeout.js,
    session-ended.js), so a tab of an earlier or a later login is left alone.
    A hash of the CSRF token: it tells another script nothing it could use."""
    return hashlib.sha256(f"session-tag:{csrf_token}".encode()).hexdigest()[:16]


def cookie_name(settings: Settings) -> str:
    """`__Host-` in production: Secure, host-only, path / — enforced by the browser."""
    return "__Host-sip" if settings.production else "sip_session"


class Session:
    """The data of one browser session, with explicit rotate and destroy."""

    def __init__(self, session_id: str | None, data: dict[str, Any] | None = None,
                 expired: bool = False) -> None:
        self.id = session_id
        self.data: dict[str, Any] = data or {}
        self.expired = expired  # an earlier session ended by timeout
        self.modified = False
        self.destroyed_ids: list[str] = []
        self.rotated = False
        # The answer is only true once this session is saved (a login's state, nonce and
        # PKCE verifier before the redirect to the provider): a failed save is the
        # outage page, not an answer that leads nowhere.
        self.must_save = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str, default: Any = None) -> Any:
        self.modified = True
        return self.data.pop(key, default)

    def rotate(self) -> None:
        """Give the session a new id; the old id stops working at once."""
        if self.id:
            self.destroyed_ids.append(self.id)
        self.id = None
        self.rotated = True
        self.modified = True

    def clear(self) -> None:
        """End the session: data gone, id dead, cookie removed."""
        if self.id:
            self.destroyed_ids.append(self.id)
        self.id = None
        self.data = {}
        self.modified = True

    def seen_is_stale(self, precision: float) -> bool:
        """Whether the stored activity time (`_seen`, Unix s) is `precision` seconds old
        or more now, so this request must write it again (module docstring)."""
        return time.time() - self.data.get("_seen", 0) >= precision

    @property
    def authenticated(self) -> bool:
        return bool(self.data.get("user_id"))

    def csrf_token(self) -> str:
        token = self.data.get("csrf")
        if not token:
            token = secrets.token_urlsafe(32)
            self["csrf"] = token
        return token

    def flash(self, message: str, category: str = "info", params: dict | None = None) -> None:
        """A message id shown once on the next page, translated there; `params` fill its
        named placeholders (escaped when shown), e.g. a name."""
        entry = [category, message] + ([params] if params else [])
        self.data.setdefault("flashes", []).append(entry)
        self.modified = True

    def pop_flashes(self) -> list[list[str]]:
        if not self.data.get("flashes"):
            return []
        return self.pop("flashes", [])


class SessionMiddleware:
    """Loads the session into scope['state']['session'] and saves it after."""

    def __init__(self, app: ASGIApp, settings: Settings, store: Store) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        self.cookie_name = cookie_name(settings)

    async def load(self, session_id: str | None) -> Session:
        if not session_id or len(session_id) > 100:
            return Session(None)
        raw = await self.store.get(f"session:{session_id}")
        if raw is None:
            return Session(None)
        data = json.loads(raw)
        now = time.time()
        idle = now - data.get("_seen", 0) > (self.settings.idle_timeout
                                             + self.settings.session_seen_precision)
        too_old = now - data.get("_created", 0) > self.settings.absolute_timeout
        if idle or too_old:
            await self.store.delete(f"session:{session_id}")
            return Session(None, expired=bool(data.get("user_id")))
        return Session(session_id, data)

    async def save(self, session: Session) -> None:
        for old in session.destroyed_ids:
            await self.store.delete(f"session:{old}")
        if not session.data:
            return
        now = time.time()
        if session.id is None:
            session.id = secrets.token_urlsafe(32)
            session.data["_created"] = now
        session.data["_seen"] = now
        await self.store.set(
            f"session:{session.id}",
            json.dumps(session.data),
            expires_in=self.settings.idle_timeout + ENDED_SESSION_GRACE,
        )

    async def _save_after_the_work(self, session: Session) -> None:
        """Save the session once the request's work is done (RequestContextMiddleware has
        committed it by now). If the store is unreachable then, the work stands: an
        error page would say "nothing was saved" about something that was, so the
        answer goes out and only the session's change (activity time, a flash) is lost;
        the next request meets the outage itself (core.errors: 503). A login or logout
        that did not take (an old session that could not be deleted), and a login whose
        state could not be kept (Session.must_save), are no such case: that error goes on
        to the 503 page."""
        try:
            await self.save(session)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            if session.destroyed_ids or session.must_save:
                raise
            log.warning("session not saved, session store unavailable: %s",
                        type(exc).__name__)

    def cookie(self, session: Session) -> Cookie:
        if session.id is None:
            return Cookie(key=self.cookie_name, value="", max_age=0, path="/",
                          secure=self.settings.production, httponly=True, samesite="lax")
        return Cookie(key=self.cookie_name, value=session.id, path="/",
                      secure=self.settings.production, httponly=True, samesite="lax")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie_id = _read_cookie(scope, self.cookie_name)
        session = await self.load(cookie_id)
        scope.setdefault("state", {})["session"] = session
        original_id = session.id

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                # An authenticated request counts as activity: the idle clock restarts,
                # written when `_seen` is session_seen_precision old (module docstring).
                # Anonymous sessions are saved only when changed.
                if session.modified or (session.authenticated and session.seen_is_stale(
                        self.settings.session_seen_precision)):
                    await self._save_after_the_work(session)
                if session.id != original_id or (cookie_id and session.id is None):
                    header = self.cookie(session).to_header(header="")
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", header.encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _read_cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                if "=" in part:
                    k, v = part.strip().split("=", 1)
                    if k == name:
                        return v
    return None
