"""Who acts for the person, proxy invitations, and ending a proxy: the services.

A person invites someone to act for them (a proxy, fullmakt) by national id, with
chosen scopes and an optional end date. Nothing is shared until the invitee logs in
and accepts: then one Representation(kind="proxy", source="invitation") is made in
the same transaction (an earlier proxy between the two is ended, so an invitation
can also change the scopes). The person may withdraw a pending invitation or end a
proxy at any moment; the proxy's next request meets the end (portal.core.security).

The invitee's national id is stored to match their login; it is never shown back in
full, put in a URL, a log line, an audit detail or a notice. Every step is in the
audit log (`record`), in the caller's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.core.clock import local_date
from portal.core.i18n import N_
from portal.core.inputs import BadInput, parse_date
from portal.notices.outbox import notify
from portal.people.models import Person, ProxyInvitation, Representation, age_on
from portal.people.national_id import NationalIdError, birth_date, normalise
from portal.people.representation import Scope, acting_right, is_valid

PENDING, ACCEPTED, DECLINED, WITHDRAWN = "pending", "accepted", "declined", "withdrawn"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A proxy the person chose ends when they say so; one from Suomi.fi is changed there.
ENDABLE_SOURCES = ("person", "invitation")
# Ended or expired proxies are shown for this long ("Har tidigare kunnat ...").
EARLIER_SHOWN_DAYS = 365
# An end date more than this far ahead is surely a typing mistake.
LATEST_END_YEARS = 10

# A fullmakt is given by an adult to an adult (Swedish and Finnish law: legal capacity from
# 18, FB 9:1 and the Finnish Guardianship Services Act 2 §); a child's matters are their
# guardians'.
ADULT_AGE = 18
INVITEE_A_CHILD = N_("Personen är under 18 år. Du kan bara bjuda in någon som har fyllt 18.")


def may_invite(person: Person, today: date) -> bool:
    """Whether `person` may invite a proxy themself: an adult (ADULT_AGE) without protected
    personal data (then staff add a proxy after checking identity)."""
    return not person.protected_identity and person.age_on(today) >= ADULT_AGE


# By the inviter's country, not the language variant: a person in Sweden types a Swedish
# number whichever variant the page is shown in.
NUMBER_LABEL = {"SE": N_("Personnummer eller samordningsnummer"), "FI": N_("Personbeteckning")}
NUMBER_MISSING = {"SE": N_("Skriv personnumret för den du vill bjuda in."),
                  "FI": N_("Skriv personbeteckningen för den du vill bjuda in.")}
OWN_NUMBER = {"SE": N_("Det är ditt eget personnummer. Skriv numret för den du vill bjuda in."),
              "FI": N_("Det är din egen personbeteckning. Skriv beteckningen för den du vill "
                       "bjuda in.")}
NO_SCOPE = N_("Välj minst en sak som personen får göra.")
END_IN_PAST = N_("Slutdatumet kan inte vara före i dag.")
END_TOO_LATE = N_("Slutdatumet är för långt fram. Välj ett datum inom tio år.")
FORM_BROKEN = N_("Formuläret var ofullständigt. Kontrollera dina val och skicka igen.")


def scope_list(scopes: frozenset[str] | set[str] | list[str]) -> list[Scope]:
    """The scopes in their fixed order (Scope's), unknown words left out."""
    return [scope for scope in Scope if scope.value in scopes]


# --- the invitation form -----------------------------------------------------------------


@dataclass
class InviteForm:
    number: str = ""  # as typed, re-shown on errors
    scopes: list[str] = field(default_factory=list)
    valid_to: str = ""  # as typed (YYYY-MM-DD)
    key: str = ""
    national_id: str = ""  # normalised, once valid
    end: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_invite_form(form, person: Person, today: date) -> InviteForm:
    """Only the whitelisted fields; errors by field name (message ids)."""
    data = InviteForm(
        number=str(form.get("number") or "")[:40],
        scopes=[str(s) for s in form.getall("scope", [])] if hasattr(form, "getall") else [],
        valid_to=str(form.get("valid_to") or "").strip()[:40],
        key=str(form.get("idempotency_key") or ""),
    )
    country = person.country
    typed = data.number.strip()
    if not typed:
        data.errors["number"] = NUMBER_MISSING[country]
    else:
        try:
            if not typed.isascii():  # digits from other scripts are not a number here
                raise NationalIdError(_shape_error(country))
            data.national_id = normalise(typed, country)
        except NationalIdError as bad:
            data.errors["number"] = bad.message
        else:
            if data.national_id == person.national_id:
                data.errors["number"] = OWN_NUMBER[country]
            elif age_on(birth_date(data.national_id, country), today) < ADULT_AGE:
                data.errors["number"] = INVITEE_A_CHILD
    chosen = {s for s in data.scopes if s in {scope.value for scope in Scope}}
    data.scopes = [scope.value for scope in scope_list(chosen)]
    if not data.scopes:
        data.errors["scope"] = NO_SCOPE
    if data.valid_to:
        latest = date(today.year + LATEST_END_YEARS, today.month, min(today.day, 28))
        try:
            data.end = parse_date(data.valid_to, today, latest, too_early=END_IN_PAST,
                                  too_late=END_TOO_LATE)
        except BadInput as bad:
            data.errors["valid_to"] = bad.message
    if not KEY_PATTERN.match(data.key):
        from portal.consent.forms import new_key

        data.key = new_key()
        data.errors.setdefault("form", FORM_BROKEN)
    return data


def _shape_error(country: str) -> str:
    try:
        normalise("?", country)
    except NationalIdError as bad:
        return bad.message
    return NUMBER_MISSING[country]  # pragma: no cover


def pending_data(form: InviteForm, person: Person) -> dict:
    """What the session keeps between the form and the confirmation (never in a URL)."""
    return {"person": person.id, "national_id": form.national_id, "scopes": form.scopes,
            "valid_to": form.end.isoformat() if form.end else None, "key": form.key}


async def already_acts(db: AsyncSession, pending: dict, person: Person, now: datetime) -> bool:
    """Whether the invitee already has a valid right for `person` (then an accepted invitation
    replaces it). Says nothing about who they are."""
    invitee = (await db.exec(select(Person).where(
        Person.national_id == pending.get("national_id", "")))).first()
    if invitee is None:
        return False
    return await acting_right(db, invitee.id, person.id, now) is not None


def invitee_birth_date(pending: dict, person: Person) -> date | None:
    """The only part of the number shown back on the confirm page."""
    try:
        return birth_date(pending["national_id"], person.country)
    except (KeyError, ValueError, TypeError):
        return None


# --- queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Representative:
    """Someone who can (or could) act for the person, and why."""

    representation: Representation
    person: Person  # the representative

    @property
    def scopes(self) -> list[Scope]:
        return scope_list(self.representation.scopes)

    @property
    def endable(self) -> bool:
        rep = self.representation
        return rep.kind == "proxy" and rep.source in ENDABLE_SOURCES and rep.ended_at is None


@dataclass
class Overview:
    """The /ombud page for the person themself."""

    now: list[Representative]
    earlier: list[Representative]
    invitations: list[ProxyInvitation]  # the person's pending invitations


async def representatives(db: AsyncSession, person: Person, today: date) -> Overview:
    """Everyone who can act for `person` on `today` (the person's date), proxies that
    ended or expired in the last year, and pending invitations. Two queries."""
    rows = (await db.exec(
        select(Representation, Person)
        .join(Person, Person.id == Representation.representative_id)
        .where(Representation.represented_id == person.id)
        .order_by(col(Representation.valid_from), col(Representation.created_at)))).all()
    since = today - timedelta(days=EARLIER_SHOWN_DAYS)
    current, earlier = [], []
    for rep, representative in rows:
        item = Representative(rep, representative)
        if is_valid(rep, person, today):
            current.append(item)
        elif rep.kind == "proxy" and rep.valid_from <= today and _ended_on(rep, person) >= since:
            earlier.append(item)
    earlier.sort(key=lambda r: _ended_on(r.representation, person), reverse=True)
    invitations = (await db.exec(
        select(ProxyInvitation).where(ProxyInvitation.person_id == person.id,
                                      ProxyInvitation.status == PENDING)
        .order_by(col(ProxyInvitation.created_at)))).all()
    return Overview(current, earlier, list(invitations))


def _ended_on(rep: Representation, person: Person) -> date:
    if rep.ended_at is not None:
        return local_date(rep.ended_at, person)
    return rep.valid_to or date.max


def ended_on(rep: Representation, person: Person) -> date | None:
    """The person's date the representation stopped counting (None: it has not)."""
    day = _ended_on(rep, person)
    return None if day == date.max else day


@dataclass(frozen=True)
class Invitation:
    invitation: ProxyInvitation
    inviter: Person

    def open_on(self, today: date) -> bool:
        """Whether it can still be answered on `today` (the inviter's date): pending, its
        end date not passed, and the inviter without protected personal data (then a
        proxy is added only with staff involvement)."""
        invitation = self.invitation
        return (invitation.status == PENDING and not self.inviter.protected_identity
                and (invitation.valid_to is None or invitation.valid_to >= today))


async def invitations_to(db: AsyncSession, invitee: Person, now: datetime) -> list[Invitation]:
    """Invitations the signed-in person can answer at `now` (matched on their national id)."""
    rows = (await db.exec(
        select(ProxyInvitation, Person).join(Person, Person.id == ProxyInvitation.person_id)
        .where(ProxyInvitation.invitee_national_id == invitee.national_id,
               ProxyInvitation.invitee_country == invitee.country,
               ProxyInvitation.status == PENDING, col(Person.protected_identity).is_(False))
        .order_by(col(ProxyInvitation.created_at)))).all()
    found = [Invitation(inv, inviter) for inv, inviter in rows]
    return [item for item in found if item.open_on(local_date(now, item.inviter))]


async def invitation_to(db: AsyncSession, invitation_id: str, invitee: Person) -> Invitation | None:
    """One invitation to `invitee`, whatever its status; None for anyone else's."""
    row = (await db.exec(
        select(ProxyInvitation, Person).join(Person, Person.id == ProxyInvitation.person_id)
        .where(ProxyInvitation.id == invitation_id,
               ProxyInvitation.invitee_national_id == invitee.national_id,
               ProxyInvitation.invitee_country == invitee.country))).first()
    return Invitation(*row) if row else None


async def invitation_by(db: AsyncSession, invitation_id: str, person_id: str) -> ProxyInvitation | None:
    """One invitation the person sent; None for anyone else's."""
    return (await db.exec(select(ProxyInvitation).where(
        ProxyInvitation.id == invitation_id, ProxyInvitation.person_id == person_id))).first()


async def proxy_of(db: AsyncSession, representation_id: str, person_id: str) -> Representative | None:
    """A representation acting for `person_id` (any kind, ended or not); None otherwise."""
    row = (await db.exec(
        select(Representation, Person).join(Person, Person.id == Representation.representative_id)
        .where(Representation.id == representation_id,
               Representation.represented_id == person_id))).first()
    return Representative(*row) if row else None


# --- changes -----------------------------------------------------------------------------


class Refused(Exception):
    """The invitation cannot be made (the person has protected personal data)."""


async def invite(db: AsyncSession, person: Person, pending: dict, actor: Actor, *,
                 on_behalf_of: str | None = None) -> tuple[ProxyInvitation, bool]:
    """Make the invitation in `pending` (from `pending_data`); returns (invitation, new?).

    The same idempotency key gives the same invitation: a double submit, two tabs or
    a retry make one. Raises Refused for a person with protected personal data."""
    if person.protected_identity:
        raise Refused()
    key = str(pending["key"])
    existing = await _by_key(db, person.id, key)
    if existing is not None:
        return existing, False
    invitation = ProxyInvitation(
        person_id=person.id, invitee_national_id=pending["national_id"],
        invitee_country=person.country, scope=" ".join(pending["scopes"]),
        valid_to=date.fromisoformat(pending["valid_to"]) if pending.get("valid_to") else None,
        idempotency_key=key)
    try:
        async with db.begin_nested():
            db.add(invitation)
    except IntegrityError:  # the same key a moment ago, in another request
        existing = await _by_key(db, person.id, key)
        if existing is None:
            raise
        return existing, False
    invitee = (await db.exec(select(Person).where(
        Person.national_id == invitation.invitee_national_id,
        Person.country == invitation.invitee_country))).first()
    if invitee is not None:  # a notice without a name: they log in to read who
        await notify(db, invitee, "proxy_invited")
    await record(db, "proxy_invitation.created", actor, subject_person_id=person.id,
                 on_behalf_of=on_behalf_of, object_type="proxy_invitation",
                 object_id=invitation.id,
                 detail={"scope": invitation.scope,
                         "valid_to": pending.get("valid_to")})
    return invitation, True


async def _by_key(db: AsyncSession, person_id: str, key: str) -> ProxyInvitation | None:
    return (await db.exec(select(ProxyInvitation).where(
        ProxyInvitation.person_id == person_id,
        ProxyInvitation.idempotency_key == key))).first()


async def withdraw(db: AsyncSession, invitation: ProxyInvitation, actor: Actor, now: datetime,
                   ) -> bool:
    """Withdraw a pending invitation; False when it was answered or withdrawn already."""
    if invitation.status != PENDING:
        return False
    invitation.status = WITHDRAWN
    invitation.answered_at = now
    db.add(invitation)
    await record(db, "proxy_invitation.withdrawn", actor, subject_person_id=invitation.person_id,
                 object_type="proxy_invitation", object_id=invitation.id)
    await db.flush()
    return True


async def answer(db: AsyncSession, found: Invitation, invitee: Person, accept: bool,
                 today: date, now: datetime) -> bool:
    """The invitee accepts or declines; False when the invitation was no longer pending.

    Accepting makes the proxy, valid from `today` (the inviter's date) until the
    invitation's end date; an earlier proxy between the two ends now (replaced)."""
    invitation, inviter = found.invitation, found.inviter
    # In the inviter's access log as the proxy they invited, whoever the invitee acts for now.
    actor = Actor("person", invitee.id, "invitee")
    # Lock the row where the database can: two tabs answering at once answer once.
    fresh = (await db.exec(select(ProxyInvitation).where(ProxyInvitation.id == invitation.id)
                           .with_for_update().execution_options(populate_existing=True))).one()
    if not Invitation(fresh, inviter).open_on(today):
        return False
    fresh.status = ACCEPTED if accept else DECLINED
    fresh.answered_at = now
    fresh.answered_by = invitee.id
    if accept:
        earlier = (await db.exec(select(Representation).where(
            Representation.representative_id == invitee.id,
            Representation.represented_id == inviter.id,
            Representation.kind == "proxy",
            col(Representation.source).in_(ENDABLE_SOURCES),
            col(Representation.ended_at).is_(None)))).all()
        for rep in earlier:
            rep.ended_at = now
            rep.ended_by = inviter.id
            db.add(rep)
            await record(db, "representation.replaced", actor, subject_person_id=inviter.id,
                         on_behalf_of=inviter.id, object_type="representation", object_id=rep.id)
        rep = Representation(representative_id=invitee.id, represented_id=inviter.id,
                             kind="proxy", scope=fresh.scope, valid_from=today,
                             valid_to=fresh.valid_to, source="invitation")
        db.add(rep)
        await db.flush()
        fresh.representation_id = rep.id
    db.add(fresh)
    await record(db, "proxy_invitation.accepted" if accept else "proxy_invitation.declined",
                 actor, subject_person_id=inviter.id, on_behalf_of=inviter.id,
                 object_type="proxy_invitation", object_id=fresh.id,
                 detail={"representation": fresh.representation_id} if accept else None)
    await db.flush()
    found.invitation.status = fresh.status
    return True


async def end(db: AsyncSession, rep: Representation, ended_by: str, actor: Actor,
              now: datetime) -> bool:
    """End a proxy the person chose; False when it had ended already (or cannot be)."""
    fresh = (await db.exec(select(Representation).where(Representation.id == rep.id)
                           .with_for_update().execution_options(populate_existing=True))).one()
    if fresh.kind != "proxy" or fresh.source not in ENDABLE_SOURCES or fresh.ended_at is not None:
        return False
    fresh.ended_at = now
    fresh.ended_by = ended_by
    db.add(fresh)
    proxy = await db.get(Person, fresh.representative_id)
    if proxy is not None:
        await notify(db, proxy, "proxy_ended")
    await record(db, "representation.ended", actor, subject_person_id=fresh.represented_id,
                 object_type="representation", object_id=fresh.id,
                 detail={"kind": fresh.kind, "source": fresh.source})
    await db.flush()
    return True


# --- why a right ended (for the representative's next request) ---------------------------


@dataclass(frozen=True)
class EndedRight:
    person: Person | None  # whom the representative acted for
    ended_by_person: bool  # the person ended it (not an end date or a birthday)


async def why_ended(db: AsyncSession, representative_id: str, person_id: str | None,
                    ) -> EndedRight:
    """Why the representative's right for `person_id` no longer counts. One query."""
    if not person_id:
        return EndedRight(None, False)
    row = (await db.exec(
        select(Representation, Person).join(Person, Person.id == Representation.represented_id)
        .where(Representation.representative_id == representative_id,
               Representation.represented_id == person_id)
        .order_by(col(Representation.created_at).desc()).limit(1))).first()
    if row is None:
        return EndedRight(None, False)
    rep, person = row
    return EndedRight(person, rep.ended_at is not None and rep.ended_by == person.id)
