"""Template `gettext` (portal.core.templating.translated): the same text as Jinja's own
newstyle gettext, with the text of a message without variables kept per catalog."""

from __future__ import annotations

import pytest

from portal.core import i18n
from portal.core.templating import make_environment

SOURCES = [
    "{% trans %}Avslutade en fullmakt.{% endtrans %}",  # differs in sv_FI
    "{% trans %}100 % klart{% endtrans %}",
    "{{ _('100 %% klart') }}",
    "{{ _('a & b <i>') }}",
    "{% trans name=who %}Hej {{ name }}{% endtrans %}",
    "{% trans name=who %}%(name)s har ingen plan just nu{% endtrans %}",
    "{{ ngettext('%(num)d dag', '%(num)d dagar', 2) }}",
]


def jinja_own():
    """make_environment() with Jinja's newstyle gettext put back: the reference."""
    env = make_environment()
    env.install_gettext_callables(
        gettext=lambda message: i18n.active().gettext(message),
        ngettext=lambda singular, plural, n: i18n.active().ngettext(singular, plural, n),
        newstyle=True,
    )
    return env


def render(env, source: str, locale: str, autoescape: bool) -> str:
    env.autoescape = autoescape
    token = i18n.current_locale.set(locale)
    try:
        return env.from_string(source).render(who="<b>Viola</b>")
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_same_text_as_jinjas_gettext_in_each_variant_and_again(autoescape):
    ours, reference = make_environment(), jinja_own()
    assert ours.globals["gettext"] is not reference.globals["gettext"]
    for _ in range(2):  # the second time from what was kept
        for locale in ("sv", "sv_FI", "sv"):
            for source in SOURCES:
                expected = render(reference, source, locale, autoescape)
                assert render(ours, source, locale, autoescape) == expected, (source, locale)
    fi = render(ours, SOURCES[0], "sv_FI", autoescape)
    assert fi == "Tog bort en rätt att sköta ärenden." != render(ours, SOURCES[0], "sv", autoescape)
