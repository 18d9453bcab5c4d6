"""The person's notice settings: how they hear that something happened (e-mail, SMS,
both or none), and the address and number. Always the signed-in person's own."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from portal.access import own_account
from portal.auth.viewer import Viewer
from portal.config import Settings
from portal.core.i18n import N_
from portal.notices import preferences

OWN = {"viewer": own_account()}


def _page(viewer: Viewer, settings: Settings, form: preferences.SettingsForm,
          status: int = 200, stale: bool = False) -> Template:
    return Template("notices/settings.html", status_code=status, context={
        "form": form, "stale": stale, "sms_enabled": settings.sms_enabled,
        "person": viewer.person, "acting_for_other": viewer.acting_for_other,
    })


@get("/installningar", dependencies=OWN, name="notice_settings_page")
async def notice_settings_page(viewer: NamedDependency[Viewer],
                               settings: NamedDependency[Settings]) -> Template:
    return _page(viewer, settings, preferences.form_for(viewer.person))


@post("/installningar", dependencies=OWN, name="notice_settings")
async def notice_settings(request: Request, viewer: NamedDependency[Viewer],
                          settings: NamedDependency[Settings]) -> Response:
    db = request.scope["state"]["db"]
    person = viewer.person
    form = preferences.read_form(await request.form(), person, settings.sms_enabled)
    if form.errors:
        return _page(viewer, settings, form, status=400)
    try:
        saved = await preferences.save(db, person, form, settings.sms_enabled)
    except preferences.StaleForm as stale:
        fresh = preferences.form_for(stale.person)
        return _page(viewer, settings, fresh, status=409, stale=True)
    session = request.scope["state"]["session"]
    session.flash(N_("Dina inställningar är sparade."), "success")
    if saved.told_old:
        session.flash(N_("Vi har också skickat ett meddelande om ändringen till din gamla "
                         "adress eller ditt gamla nummer."))
    return Redirect("/installningar", status_code=303)


route_handlers = [notice_settings_page, notice_settings]
