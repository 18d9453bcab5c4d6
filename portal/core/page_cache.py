"""Key pages kept rendered, per session, while nothing they show has changed.

    @get("/plan", dependencies=READER, name="my_plan")
    @kept
    async def my_plan(subject: NamedDependency[Subject], ...) -> Template: ...

A page made by a `@kept` handler for a GET is kept in this process's memory (an LRU of
`page_cache_entries` pages, each at most `page_cache_seconds` old) under:

- the session (its CSRF token, which is in the page's forms), the locale, the path, the
  query string and the htmx headers;
- whom it is shown for (the person acted for and the acting right's scopes, or the staff
  member and their unit) and that person's (or unit's) own date today;

together with the change counters it was made with (portal.core.data_versions):
"site", the signed-in person's and the person acted for ("p:<id>"), or the staff
member's unit ("u:<id>"). The next GET of the same page in the same session reads
those counters with the viewer (portal.auth.viewer) and, when they are unchanged, sends the kept bytes
without running the handler's queries or rendering. Every committed write that concerns
the person or the unit, from any process, changes a counter (database triggers), so the
page is made again. What changes with time alone (a meeting's hour passing, an
invitation running out) shows within `page_cache_seconds`.

One-time values in the page (the idempotency keys of its forms, `one_time`) are new each
time a kept page is sent, so two tabs never share a form's key.

Sending: RequestContextMiddleware asks `PageCache.send_kept` once the session, the
viewer and the acting right are loaded afresh (an ended right, a session gone: nothing
is sent from here), before routing. An entry exists only where the route and its access
rules (portal.access: kind of user, the right's scopes) answered 200 to the same key,
and those rules depend on nothing else that the key leaves out: the same host, path,
query, session, person acted for and scopes get the same answer. Nothing is kept for a
session with flash messages waiting, for a status other than 200, or for a response
that sets cookies.

The access log: the reads the page recorded (`Subject.log_read`, `record_many`) are
recorded again when the kept page is sent to staff or a representative, unless the same
page, unchanged (the same key and counters), was already recorded for this session less
than `access_log_repeat` seconds ago in this process, whether it was then sent kept or
made again: seeing the same list again (the inbox polls every 30 s) is one access in the
person's log, not one per poll; so is the same page in the other language, or as the
htmx part of a page. A changed page is a new access.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any, NamedTuple

from cachetools import TTLCache
from litestar import Request
from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers
from litestar.enums import CompressionEncoding
from litestar.middleware.compression.gzip_facade import GzipCompression
from litestar.response import Response, Template

from portal.audit import service as audit

# The request's state (scope["state"]): set by portal.core.security.RequestContextMiddleware.
current_state: ContextVar[dict | None] = ContextVar("portal_request_state", default=None)

# One-time values (idempotency keys, portal.consent.forms.new_key) made for the page being
# made: a kept page gets fresh ones each time it is sent, as a page made anew would.
_one_time: ContextVar[list[tuple[str, Callable[[], str]]] | None] = ContextVar(
    "portal_page_one_time", default=None)


def one_time(value: str, make: Callable[[], str]) -> str:
    """Note `value`, made by `make()`, as one that must differ on every view of a page
    (an idempotency key in a form): a kept page is sent with a new `make()` in its place.
    Returns `value`."""
    made = _one_time.get()
    if made is not None:
        made.append((value, make))
    return value


HTMX_HEADERS = ("hx-request", "hx-target", "hx-trigger", "hx-boosted", "hx-history-restore-request")


class PageKey(NamedTuple):
    """What a kept page is kept under (`_key`)."""

    host: str | None
    path: str
    query: bytes
    htmx: tuple | None
    locale: str | None
    token: str  # the session's CSRF token, which is in the page's forms
    who: tuple  # ("person", own id, id acted for, scopes) or ("staff", id, unit id)
    today: date  # that person's (or unit's) own date

    def for_the_log(self) -> PageKey:
        """The same page for the access log: in the other language, or as its htmx part
        (the inbox's poll), it shows the same."""
        return self._replace(htmx=None, locale=None)


@dataclass
class Entry:
    stamp: tuple[int, ...]
    body: bytes
    media_type: str
    headers: dict[str, str]
    reads: list[audit.Read] = field(default_factory=list)
    one_time: list[tuple[str, Callable[[], str]]] = field(default_factory=list)
    packed: dict[str, bytes] = field(default_factory=dict)  # compressed bodies by encoding

    def payload(self, scope: dict) -> tuple[bytes, dict[str, str]]:
        """The kept page's bytes for this request and the headers they need besides the
        page's own: compressed as the client accepts and as the app's compression would
        (brotli, else gzip, from its minimum size), once per encoding for a page without
        one-time values."""
        app = scope.get("litestar_app") or scope.get("app")
        config = getattr(app, "compression_config", None)
        encoding = _encoding(scope, config)
        if encoding is None or len(self.body) < config.minimum_size:
            return self.fresh_body(), {}
        if self.one_time:
            body = _compress(self.fresh_body(), encoding, config)
        else:
            body = self.packed.get(encoding)
            if body is None:
                body = self.packed[encoding] = _compress(self.body, encoding, config)
        return body, {"content-encoding": encoding, "vary": "Accept-Encoding"}

    def messages(self, scope: dict) -> tuple[dict, dict]:
        """The kept page as ASGI messages, with the headers Litestar would send."""
        body, extra = self.payload(scope)
        headers = [(b"content-type", f"{self.media_type}; charset=utf-8".encode()
                    if self.media_type.startswith("text/") else self.media_type.encode()),
                   (b"content-length", str(len(body)).encode())]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in {**self.headers, **extra}.items()]
        return ({"type": "http.response.start", "status": 200, "headers": headers},
                {"type": "http.response.body", "body": body, "more_body": False})

    def fresh_body(self) -> bytes:
        """The page with a new value in place of each one-time value it was made with."""
        body = self.body
        for value, make in self.one_time:
            body = body.replace(value.encode(), make().encode())
        return body


def _encoding(scope: dict, config: CompressionConfig | None) -> str | None:
    """The encoding the app's compression middleware would choose for this request."""
    if config is None:
        return None
    accepted = Headers.from_scope(scope).get("accept-encoding", "")
    if config.compression_facade.encoding in accepted:
        return config.compression_facade.encoding
    if config.gzip_fallback and CompressionEncoding.GZIP in accepted:
        return CompressionEncoding.GZIP
    return None


def _compress(body: bytes, encoding: str, config: CompressionConfig) -> bytes:
    """`body` compressed by the app's own compression facade for `encoding`."""
    facade_class = (config.compression_facade if encoding == config.compression_facade.encoding
                    else GzipCompression)
    buffer = BytesIO()
    facade = facade_class(buffer=buffer, compression_encoding=encoding, config=config)
    facade.write(body)
    facade.close()
    return buffer.getvalue()


class PageCache:
    """This process's kept pages (see the module doc); `seconds` 0: none are kept."""

    def __init__(self, seconds: int, entries: int, log_repeat: int) -> None:
        self.pages: TTLCache | None = (TTLCache(maxsize=max(entries, 1), ttl=seconds,
                                                timer=time.monotonic) if seconds > 0 else None)
        # (key, counters) of pages whose reads were recorded, for `log_repeat` seconds: the
        # same unchanged page is one access in the log whether it is sent kept or made again.
        self.logged: TTLCache | None = (TTLCache(maxsize=max(entries, 1) * 4, ttl=log_repeat,
                                                 timer=time.monotonic) if log_repeat > 0 else None)
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every kept page, and which pages' reads were recorded."""
        for kept in (self.pages, self.logged):
            if kept is not None:
                kept.clear()

    def recently_logged(self, key: PageKey, stamp: tuple) -> bool:
        return self.logged is not None and (key.for_the_log(), stamp) in self.logged

    def logged_now(self, key: PageKey, stamp: tuple) -> None:
        if self.logged is not None:
            self.logged[(key.for_the_log(), stamp)] = True

    async def log_again(self, db, key: PageKey, entry: Entry) -> None:
        """Record a kept page's reads again (the access log), unless the same unchanged
        page was recorded for the session less than `log_repeat` seconds ago."""
        if entry.reads and not self.recently_logged(key, entry.stamp):
            for read in entry.reads:
                await read.again(db)
            self.logged_now(key, entry.stamp)

    def forget(self, token: str) -> int:
        """Drop the pages kept for the session with CSRF token `token` (at logout: they
        could not be sent again anyway); returns how many. Other processes' go with
        their time limit."""
        if self.pages is None:
            return 0
        gone = [key for key in list(self.pages.keys()) if key.token == token]
        for key in gone:
            self.pages.pop(key, None)
        return len(gone)

    async def send_kept(self, state: dict, scope: dict, send) -> bool:
        """Send the kept page for this request, before routing, when there is one made
        for the same key (the same session, viewer, rights, host, path …: the route and
        its access rules gave it to exactly this) and nothing it shows has changed; True
        when sent. Called by RequestContextMiddleware once the viewer is loaded."""
        if self.pages is None:
            return False
        key = _key(state, scope)
        entry = self.pages.get(key) if key is not None else None
        if entry is None or entry.stamp != _stamp(state):
            return False
        self.hits += 1
        await self.log_again(state["db"], key, entry)
        start, body = entry.messages(scope)
        await send(start)
        await send(body)
        return True


def _stamp(state: dict) -> tuple:
    """The change counters the page depends on, as read with the viewer (Viewer.versions:
    "site", and the person's own and the person acted for, or the staff member's unit)."""
    return tuple(sorted(state["viewer"].versions.items()))


_UNSET = object()


def _key(state: dict, scope: dict) -> PageKey | None:
    """The page's key; None when it is not to be kept. Made once per request (send_kept,
    then `kept` on a page made anew)."""
    key = state.get("page_key", _UNSET)
    if key is _UNSET:
        key = state["page_key"] = _make_key(state, scope)
    return key


def _make_key(state: dict, scope: dict) -> PageKey | None:
    if scope.get("method") != "GET":
        return None
    session, viewer = state.get("session"), state.get("viewer")
    if viewer is None or session is None or session.get("flashes") or state.get("right_ended"):
        return None
    now = state["time"]
    if viewer.is_staff:
        if viewer.unit is None:
            return None
        who: tuple = ("staff", viewer.staff.id, viewer.unit.id)
        today = now.today_for(viewer.unit)
    else:
        shown = viewer.acting_for
        rights = tuple(sorted(viewer.right.scopes)) if viewer.right is not None else ()
        who = ("person", viewer.person.id, shown.id, rights)
        today = now.today_for(shown)
    headers = Headers.from_scope(scope)
    token = session.csrf_token()  # made now if this is the session's first page
    return PageKey(headers.get("host"), scope["path"], scope.get("query_string", b""),
                   tuple(headers.get(name) for name in HTMX_HEADERS), state.get("locale"),
                   token, who, today)


class _Keeping(Response):
    """The handler's Template, rendered as usual; a 200 page is then kept."""

    def __init__(self, template: Template, cache: PageCache, key: PageKey,
                 stamp: tuple, reads: list, made: list) -> None:
        super().__init__(content=b"")
        self.template, self.cache, self.key, self.stamp, self.reads = (template, cache, key,
                                                                      stamp, reads)
        self.made = made  # one-time values made by the handler, then by the template

    def to_asgi_response(self, app, request: Request, **kwargs: Any):
        session = request.scope["state"]["session"]
        had_flashes = bool(session.get("flashes"))
        token = _one_time.set(self.made)
        try:
            response = self.template.to_asgi_response(app, request, **kwargs)
        finally:
            _one_time.reset(token)
        if (response.status_code == 200 and not had_flashes and not response._encoded_cookies
                and response.background is None and self.cache.pages is not None):
            headers = dict(self.template.headers.items())
            # Without its charset: Litestar adds the charset to a text/* type itself.
            media_type = response.headers.get("content-type", "text/html").split(";")[0]
            self.cache.pages[self.key] = Entry(self.stamp, response.body, media_type, headers,
                                               self.reads, self.made)
        return response


def kept(handler):
    """Decorate a GET page handler (returning a Template) whose page is to be kept (see
    the module doc). The handler's signature is unchanged for Litestar's injection."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = current_state.get()
        cache: PageCache | None = state.get("page_cache") if state else None
        if cache is None or cache.pages is None:
            return await handler(*args, **kwargs)
        key = _key(state, state["scope"])  # a kept page was sent before routing (send_kept)
        if key is None:
            return await handler(*args, **kwargs)
        stamp = _stamp(state)
        cache.misses += 1
        made: list = []
        token = _one_time.set(made)
        quiet = cache.recently_logged(key, stamp)  # made again, the same: recorded already
        try:
            with audit.collecting_reads(quiet=quiet) as reads:
                result = await handler(*args, **kwargs)
        finally:
            _one_time.reset(token)
        if reads and not quiet:
            cache.logged_now(key, stamp)
        if type(result) is not Template or (result.status_code or 200) != 200 or result.cookies:
            return result
        return _Keeping(result, cache, key, stamp, reads, made)

    return wrapper
