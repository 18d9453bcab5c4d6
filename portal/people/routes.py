"""Choosing whom to use the service for."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.auth.guards import requires_person
from portal.core.clock import RequestTime
from portal.core.i18n import N_
from portal.core.inputs import is_opaque_id
from portal.people.representation import acting_right, acting_rights


@get("/vem", guards=[requires_person], name="choose_person_page")
async def choose_person_page(request: Request, db: NamedDependency[AsyncSession],
                             time: NamedDependency[RequestTime]) -> Template:
    viewer = request.scope["state"]["viewer"]
    rights = await acting_rights(db, viewer.person.id, time.now)
    return Template("people/choose.html", context={"rights": rights})


@post("/vem", guards=[requires_person], name="choose_person")
async def choose_person(request: Request, db: NamedDependency[AsyncSession],
                        time: NamedDependency[RequestTime]) -> Response:
    viewer = request.scope["state"]["viewer"]
    session = request.scope["state"]["session"]
    form = await request.form()
    chosen = str(form.get("person") or "")
    if chosen in ("", "self", viewer.person.id):
        if viewer.acting_for_other:
            await record(db, "acting.ended", viewer.actor(),
                         subject_person_id=viewer.acting_for.id, on_behalf_of=viewer.acting_for.id)
        session.pop("acting_for")
        return Redirect("/", status_code=303)
    right = await acting_right(db, viewer.person.id, chosen, time.now) \
        if is_opaque_id(chosen) else None
    if right is None:
        # The same answer whether the person exists or not: nothing is given away.
        session.flash(N_("Du kan inte använda tjänsten för den personen."), "warning")
        return Redirect("/vem", status_code=303)
    session["acting_for"] = right.person.id
    await record(db, "acting.started", Actor("person", viewer.person.id, right.representation.kind),
        subject_person_id=right.person.id, on_behalf_of=right.person.id,
        object_type="representation", object_id=right.representation.id)
    return Redirect("/", status_code=303)


route_handlers = [choose_person_page, choose_person]
