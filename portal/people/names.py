"""Whose name and whereabouts a viewer may see: protected personal data (skyddade
personuppgifter).

A person with `Person.protected_identity` (Sweden: sekretessmarkering or skyddad
folkbokföring; Finland: spärrmarkering, turvakielto) is named only to themself, to
staff, and to those with a valid right to act for them right now. Every other
citizen reads a neutral phrase instead: another guardian, an invitee, anyone
reading an access log or a timeline where the person acted.

Places are stricter than names (`may_see_places`): where such a person can be found
(a unit's visiting address, the place of a meeting) is shown only to themself and to
staff. A representative does not see it, and nothing sent out of the portal holds it
(a notice, an .ics file: there is no viewer to ask, so `viewer=None` says no).
Pages ask through `places_visible(person)` (core.templating) and the macros in
templates/components/place.html, which say plainly that the contact person tells where.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.core.i18n import N_, gettext

if TYPE_CHECKING:
    from portal.auth.viewer import Viewer
    from portal.people.models import Person

PROTECTED = N_("En person med skyddade personuppgifter")


def may_see_name(person: Person, viewer: Viewer | None) -> bool:
    """Whether `viewer` (None: nobody signed in, as in a notice) may read `person`'s name:
    whoever may see their places, and those with a valid right to act for them now."""
    if may_see_places(person, viewer):
        return True
    return viewer is not None and viewer.right is not None and viewer.right.person.id == person.id


def shown_name(person: Person, viewer: Viewer | None) -> str:
    """`person.name`, or the neutral phrase (translated) when `viewer` may not see it."""
    return person.name if may_see_name(person, viewer) else gettext(PROTECTED)


def shown_given_name(person: Person, viewer: Viewer | None) -> str:
    """`person.given_name`, or the neutral phrase (translated) when `viewer` may not see it."""
    return person.given_name if may_see_name(person, viewer) else gettext(PROTECTED)


def may_see_places(person: Person, viewer: Viewer | None) -> bool:
    """Whether `viewer` may read where `person` can be found: unit addresses and meeting
    places in their plan, requests and messages. For a person with protected personal
    data only themself and staff may; a representative may not, and neither may anything
    sent out of the portal (`viewer` None: a notice, an .ics file)."""
    if not person.protected_identity:
        return True
    if viewer is None:
        return False
    if viewer.is_staff:
        return True
    return viewer.person is not None and viewer.person.id == person.id
