"""Path parameters are checked once, here, before any handler or query sees them.

`ValidPathParams` is an ASGI middleware (the last one in the app's list, so the
session and viewer are loaded and the 404 page looks as usual). After routing,
Litestar has put the parsed values in scope["path_params"]:

- a str parameter named `*_id` must be an opaque id (portal.core.inputs.is_opaque_id):
  1-64 characters of [A-Za-z0-9_-]; anything else (NUL, spaces, other letters,
  very long) would only ever miss in the database, or make the driver fail;
- an int parameter must be within 1..INT_MAX (2**31 - 1): no version, number or
  count in a URL is zero, negative or bigger than a database integer;
- no str or path parameter holds a control character (NUL, CR, LF …) or is
  longer than PARAM_MAX characters: file systems (a name over 255 bytes),
  drivers and headers fail on them, and no page of ours links to one.

Anything else is answered 404 "Sidan finns inte" (NotFoundException), the same
as a made-up but well-formed id, so nothing is given away.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.core.inputs import INT_MAX, is_opaque_id

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PARAM_MAX = 200


def path_params_ok(params: dict) -> bool:
    """True when every `*_id` str is an opaque id, every int is in 1..INT_MAX and no
    str or path is too long or holds a control character."""
    for name, value in params.items():
        if isinstance(value, str | PurePath) and (
                len(str(value)) > PARAM_MAX or CONTROL.search(str(value))):
            return False
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
