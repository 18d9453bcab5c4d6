"""Vem har tittat på dina uppgifter: the person's access log (and a representative's with
the `log:read` scope). Filters by month and by who are a GET form; with htmx the list is
swapped and the address pushed, so the back button and a shared link show the same."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from portal.access import Scope, Subject, acting_for
from portal.audit import access_log
from portal.core.inputs import is_opaque_id

LOG = {"subject": acting_for(Scope.ACCESS_LOG)}
PAGE_SIZE = 50


def _before(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@get("/logg", dependencies=LOG, name="access_log")
async def access_log_page(
        request: Request, subject: NamedDependency[Subject],
        manad: Annotated[str | None, QueryParameter(name="manad")] = None,
        vem: Annotated[str | None, QueryParameter(name="vem")] = None,
        fore: Annotated[str | None, QueryParameter(name="fore")] = None) -> Template:
    """The log, newest first; `manad` (YYYY-MM), `vem` (an actor's id) and `fore` (the
    oldest entry shown so far: "Visa äldre") narrow it. An htmx request gets the list."""
    page = await access_log.entries(
        subject.db, subject.person, month=manad or None,
        who=vem if is_opaque_id(vem) else None, before_id=_before(fore), limit=PAGE_SIZE)
    # Read after the query: a representative's read shows from the next visit on.
    await subject.log_read("access_log.viewed", "person", subject.person.id)
    context = {"page": page, "person": subject.person}
    if request.headers.get("hx-request"):
        return Template("audit/_list.html", context=context)
    return Template("audit/log.html", context=context)


route_handlers = [access_log_page]
