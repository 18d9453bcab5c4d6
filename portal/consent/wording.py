"""The consent text, versioned. Each event stores the version and exact text shown."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.consent.models import ConsentWording
from portal.core import i18n
from portal.core.i18n import N_

VERSION = 1

# The sentences of version 1, in the order they are shown. Changing a
# sentence means a new VERSION, so old events keep pointing at what was shown.
SENTENCES = [
    N_("De som hjälper dig får prata med varandra om dig."),
    N_("De får dela de uppgifter som behövs för att planera din hjälp."),
    N_("Du bestämmer vilka som får vara med."),
    N_("Du kan ändra dig när du vill."),
    N_("Om du säger nej får du ändå vård och stöd. Men de som hjälper dig planerar inte tillsammans."),
]


def current_text(locale: str) -> list[str]:
    translations = i18n.translations(locale)
    return [translations.gettext(sentence) for sentence in SENTENCES]


async def current_wording(db: AsyncSession, locale: str) -> ConsentWording:
    """The stored row for the text shown now in this variant (created on first use)."""
    text = "\n".join(current_text(locale))
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = (await db.exec(select(ConsentWording).where(
        ConsentWording.version == VERSION, ConsentWording.locale == locale,
        ConsentWording.sha256 == digest))).first()
    if row is None:
        row = ConsentWording(version=VERSION, locale=locale, sha256=digest, text=text)
        try:
            async with db.begin_nested():
                db.add(row)
        except IntegrityError:  # another request stored the same text first
            row = (await db.exec(select(ConsentWording).where(
                ConsentWording.version == VERSION, ConsentWording.locale == locale,
                ConsentWording.sha256 == digest))).one()
    return row
