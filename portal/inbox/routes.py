"""The contact persons' inbox ("Inkorg"): the unit's requests, threads and slipped follow-ups."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from portal.audit.service import record_many
from portal.auth.guards import requires_staff
from portal.core.page_cache import kept
from portal.inbox import queries

POLL_SECONDS = 30


@get("/personal/inkorg", guards=[requires_staff], name="staff_inbox")
@kept
async def staff_inbox(request: Request,
                      visa: Annotated[str | None, QueryParameter(name="visa")] = None) -> Template:
    """The inbox, filtered by `visa` (a key of queries.FILTERS; anything else shows all).
    An htmx request (the list polling every 30 s) gets only the list."""
    state = request.scope["state"]
    viewer, db, time = state["viewer"], state["db"], state["time"]
    chosen = visa if visa in queries.FILTERS else "all"
    box = await queries.inbox(db, viewer.staff, viewer.unit, time.now, chosen)
    # Each row shows a person's name and what they asked: a read of each, in one statement.
    await record_many(db, "inbox.listed_for_staff", viewer.actor(),
                      [(row.person.id, row.object_type, row.id) for row in box.rows])
    context = {"box": box, "filters": queries.FILTERS, "statuses": queries.STATUS_TEXT,
               "poll_seconds": POLL_SECONDS, "today": time.today_for(viewer.unit)}
    if request.headers.get("hx-request"):
        return Template("inbox/_list.html", context=context)
    return Template("inbox/inbox.html", context=context)


route_handlers = [staff_inbox]
