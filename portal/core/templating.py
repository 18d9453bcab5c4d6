"""The Jinja environment: i18n, locale formats, CSRF token and the viewer."""

from __future__ import annotations

from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    pass_eval_context,
    select_autoescape,
)
from litestar.plugins.jinja import JinjaTemplateEngine as Engine
from markupsafe import Markup, escape

from portal.auth.sessions import session_tag as tag_of
from portal.consent.forms import new_key
from portal.core import i18n

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def _request(ctx):
    return ctx.get("request")


@pass_context
def csrf_token(ctx) -> str:
    return _request(ctx).scope["state"]["session"].csrf_token()


def form_subject(request) -> str:
    """The opaque id of the person the page is shown for ("" for staff and visitors).

    Every form carries it, and so does every htmx request (`X-Subject` on `<body>`):
    a form from another tab, shown for someone else, then saves nothing
    (`portal.access`)."""
    viewer = request.scope.get("state", {}).get("viewer") if request else None
    if viewer is None or viewer.is_staff:
        return ""
    return viewer.acting_for.id


@pass_context
def session_tag(ctx) -> str:
    """This login's tag (`portal.auth.sessions.session_tag`) for <body>."""
    return tag_of(csrf_token(ctx))


@pass_context
def form_fields(ctx) -> Markup:
    """The hidden fields every form carries: the CSRF token and whose form it is."""
    request = _request(ctx)
    fields = (f'<input type="hidden" name="csrf_token" '
              f'value="{escape(request.scope["state"]["session"].csrf_token())}">')
    subject = form_subject(request)
    if subject:
        fields += f'<input type="hidden" name="subject" value="{escape(subject)}">'
    return Markup(fields)


@pass_context
def subject_id(ctx) -> str:
    return form_subject(_request(ctx))


@pass_context
def viewer(ctx):
    request = _request(ctx)
    return request.scope.get("state", {}).get("viewer") if request else None


@pass_context
def flashes(ctx) -> list[tuple[str, Markup]]:
    """(category, text) for each flash: translated now, its params escaped into it."""
    request = _request(ctx)
    if request is None:
        return []
    shown = []
    for category, message, *rest in request.scope["state"]["session"].pop_flashes():
        text = Markup(i18n.active().gettext(message))  # the catalog's text is trusted
        shown.append((category, text % rest[0] if rest and rest[0] else text))
    return shown


@pass_context
def settings(ctx):
    """The app's Settings (idle timeout and warning for the session dialog)."""
    return ctx["request"].app.state.settings


def isodate(value: str, style: str = "date") -> str:
    """A date stored as text (YYYY-MM-DD) in the active variant's format."""
    from datetime import date as _date

    try:
        return i18n.format_date(_date.fromisoformat(value), style)
    except (TypeError, ValueError):
        return ""


def isotime(value: str) -> str:
    from datetime import time as _time

    try:
        return i18n.format_time(_time.fromisoformat(value))
    except (TypeError, ValueError):
        return ""


@pass_context
def shown_name(ctx, person) -> str:
    """`{{ person | shown_name }}`: the name, or the neutral phrase for a person with
    protected personal data whom the viewer may not name (portal.people.names)."""
    from portal.people.names import shown_name as name_for

    return name_for(person, viewer(ctx))


@pass_context
def shown_given_name(ctx, person) -> str:
    """`{{ person | shown_given_name }}`: as `shown_name`, the given name only."""
    from portal.people.names import shown_given_name as name_for

    return name_for(person, viewer(ctx))


@pass_context
def places_visible(ctx, person=None) -> bool:
    """`{% if places_visible(person) %}`: whether the viewer may see unit addresses and
    meeting places about `person` (default: whom the citizen acts for), see
    portal.people.names.may_see_places. False for a representative of a person with
    protected personal data."""
    from portal.people.names import may_see_places

    who = viewer(ctx)
    if person is None:
        if who is None or who.is_staff:
            return who is not None
        person = who.acting_for
    return may_see_places(person, who)


@pass_context
def static_url(ctx, path: str) -> str:
    """`{{ static_url('css/portal.css') }}`: the file's fingerprinted URL
    (portal.core.assets), cached by browsers for a year."""
    return ctx["request"].app.state.assets.url(path)


def html_lang() -> str:
    return i18n.HTML_LANG[i18n.current_locale.get()]


def current_locale() -> str:
    return i18n.current_locale.get()


def make_environment(auto_reload: bool = True) -> Environment:
    """The Jinja environment; `auto_reload` checks each template's file for changes on
    every render (a stat per template): for development only."""
    env = Environment(
        auto_reload=auto_reload,
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Normalise whitespace in {% trans %} blocks, as babel.cfg does when it
    # extracts: a msgid that wraps over lines must match the rendered one.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(
        gettext=lambda message: i18n.active().gettext(message),
        ngettext=lambda singular, plural, n: i18n.active().ngettext(singular, plural, n),
        pgettext=lambda context, message: i18n.active().pgettext(context, message),
        newstyle=True,
    )
    env.globals["gettext"] = translated
    env.globals.update(
        form_token=csrf_token,
        form_fields=form_fields,
        session_tag=session_tag,
        subject_id=subject_id,
        new_key=new_key,
        viewer=viewer,
        places_visible=places_visible,
        flashes=flashes,
        html_lang=html_lang,
        settings=settings,
        current_locale=current_locale,
        static_url=static_url,
    )
    env.filters.update(
        date=i18n.format_date,
        time=i18n.format_time,
        datetime=i18n.format_datetime,
        number=i18n.format_number,
        isodate=isodate,
        isotime=isotime,
        genitive=i18n.genitive,
        shown_name=shown_name,
        shown_given_name=shown_given_name,
    )
    return env


# Paths kept per app (url_for below); past this many, the cache starts again: links
# with ids (a plan's, a request's) must not grow it without end.
URL_CACHE_SIZE = 4096


# (catalog, autoescape, message) -> the text {% trans %} shows, for messages without
# variables: the same for the catalog's life (a page's shell has some forty).
_TRANSLATED: dict[tuple, str] = {}
TRANSLATED_CACHE_SIZE = 10_000


@pass_eval_context
def translated(eval_ctx, message: str, **variables) -> str:
    """Jinja's newstyle `gettext` (jinja2.ext: the active catalog's text, Markup where the
    template autoescapes, always `% variables`, so `%%` is a percent sign), with the
    result of a message without variables kept per catalog (i18n.active(): a reload
    makes a new catalog, so nothing stale is shown)."""
    catalog = i18n.active()
    if not variables:
        key = (catalog, eval_ctx.autoescape, message)
        text = _TRANSLATED.get(key)
        if text is None:
            if len(_TRANSLATED) >= TRANSLATED_CACHE_SIZE:  # `_(a variable)`: kept bounded
                _TRANSLATED.clear()
            text = _TRANSLATED[key] = _format(catalog.gettext(message), eval_ctx.autoescape, {})
        return text
    return _format(catalog.gettext(message), eval_ctx.autoescape, variables)


def _format(text: str, autoescape: bool, variables: dict) -> str:
    return (Markup(text) if autoescape else text) % variables


@pass_context
def url_for(ctx, route_name: str, **path_parameters) -> str:
    """Litestar's `url_for`, with each (route, parameters)'s path kept once per app:
    the shell alone asks for some thirty on every page (menu, language switch,
    footer), and `route_reverse` costs more than the rest of a link. The path is
    the same function of its route and parameters for the app's life. Raises
    NoRouteMatchFoundException as Litestar's (nothing is kept then)."""
    app = ctx["request"].app
    urls = app.state.get("urls")
    if urls is None:
        urls = app.state["urls"] = {}  # per app: tests build many
    key = (route_name, *path_parameters.items()) if path_parameters else route_name
    try:
        return urls[key]
    except KeyError:
        pass
    except TypeError:  # a parameter that cannot be a key
        return app.route_reverse(route_name, **path_parameters)
    path = app.route_reverse(route_name, **path_parameters)
    if len(urls) >= URL_CACHE_SIZE:
        urls.clear()
    urls[key] = path
    return path


def make_engine(auto_reload: bool = True) -> Engine:
    """Litestar's Jinja engine over make_environment(auto_reload) with url_for."""
    engine = Engine.from_environment(make_environment(auto_reload))
    engine.register_template_callable(key="url_for", template_callable=url_for)
    return engine
