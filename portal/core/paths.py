"""Path parameters are checked once, here, before any handler or query sees them.

`ValidPathParams` is an ASGI middleware (the last one in the app's list, so the
session and viewer are loaded and the 404 page looks as usual). After routing,
Litestar has put the parsed values in scope["path_params"]:

- a str parameter named `*_id` must be an opaque id (portal.core.inputs.is_opaque_id):
  1-64 characters of [A-Za-z0-9_-]; anything else (NUL, spaces, other letters,
  very long) would only ever miss in the database, or make the driver fail;
- an int parameter must be within 1..INT_MAX (2**31 - 1): no version, number or
  count in a URL is zero, negative or bigger than a database integer.

Anything else is answered 404 "Sidan finns inte" (NotFoundException), the same
as a made-up but well-formed id, so nothing is given away.
"""

from __future__ import annotations

from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.core.inputs import INT_MAX, is_opaque_id


def path_params_ok(params: dict) -> bool:
    """True when every `*_id` str is an opaque id and every int is in 1..INT_MAX."""
    for name, value in params.items():
        if isinstance(value, bool):
            return False
        if isinstance(value, int) and not 1 <= value <= INT_MAX:
            return False
        if isinstance(value, str) and name.endswith("_id") and not is_opaque_id(value):
            return False
    return True


class ValidPathParams:
    """ASGI middleware: 404 for a path parameter outside its allow-list (see module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not path_params_ok(scope.get("path_params") or {}):
            raise NotFoundException()
        await self.app(scope, receive, send)
