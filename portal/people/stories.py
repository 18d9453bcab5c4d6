"""The demo people's stories (the seeds): consent given and withdrawn, plans written
and followed up. Loaded by `python -m portal demo` after the people.

Everything goes through the app's own services (consent.services.decide,
plans.services.create_plan / save_draft / publish), so the consent history, the
notices and the audit chains are the same as if people had used the portal.
A person's story is told once: a person who already has a consent act or a
plan is left as they are, so loading twice adds nothing.

The plan texts are written as a good coordinator writes: "du", short sentences,
common words (LIX under 35; tests/people/test_demo_stories.py measures them).
Finland's plans use Finland's words: klientplan, egen kontaktperson,
välfärdsområdet, hälsostation, sjukskötare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.consent import services as consent
from portal.consent.models import ConsentAct
from portal.core.clock import zone_of
from portal.core.workdays import add_working_days
from portal.people.models import Person, StaffMember, Unit
from portal.plans import content as plan_content
from portal.plans import services as plans
from portal.plans.models import Plan


@dataclass
class Decision:
    by: str  # demo key of who answers (the person, a guardian, a god man …)
    decision: str  # give | withdraw
    units: tuple[str, ...]
    days_ago: int
    role: str = "self"


@dataclass
class Story:
    person: str
    locale: str
    decisions: list[Decision]
    coordinator: str  # staff given name
    versions: list[dict] = field(default_factory=list)  # each published in turn


def _in(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _meeting_in(days: int, country: str = "SE") -> str:
    """A meeting date about `days` from today, moved to the next working day of the
    country (portal.core.workdays): nobody books a follow-up on a Saturday or at Christmas."""
    day = date.today() + timedelta(days=days - 1)
    return add_working_days(day, 1, country).isoformat()


def _action(n: int, what: str, unit: str, responsible: str, start: int, end: int | None,
            status: str = "planned") -> dict:
    return {"id": f"a{n}", "what": what, "unit": unit, "responsible": responsible,
            "start": _in(start), "end": _in(end) if end is not None else "", "status": status}


def _contact(n: int, name: str, role: str, phone: str, hours: str = "") -> dict:
    return {"id": f"c{n}", "name": name, "role": role, "phone": phone, "hours": hours}


def stories() -> list[Story]:
    """Built when loaded, so the dates are near today."""
    viola_v1 = {
        "important": ("Jag vill bo kvar hemma med Gösta. Jag vill kunna gå till affären själv. "
                      "Jag vill inte åka in till akuten så ofta."),
        "self_can": ("Du klär dig själv. Du lagar enkel mat. Du tar en promenad varje dag "
                     "när det är fint väder."),
        "need_help": ("Du behöver hjälp att ta dina mediciner i rätt tid. Du behöver stöd när "
                      "du blir orolig. Gösta behöver också hjälp. Han har Parkinsons sjukdom."),
        "actions": [
            _action(1, "Vi går igenom alla dina mediciner. Du får en dosett som är klar varje vecka.",
                    "se-kalmar-vc", "Anna Berg", -20, None, "ongoing"),
            _action(2, "Hemtjänsten kommer två gånger om dagen. De ser att du tar din medicin.",
                    "se-kalmar-soc", "Maria Ek", -14, None, "ongoing"),
            _action(3, "Du får ett larm att bära runt handleden. Du trycker om du faller eller blir rädd.",
                    "se-kalmar-soc", "Maria Ek", -14, -7, "done"),
        ],
        "contacts": [_contact(1, "Anna Berg", "Din samordnare, sjuksköterska", "0480-123 46",
                              "Vardagar kl. 8–10"),
                     _contact(2, "Maria Ek", "Biståndshandläggare", "0480-450 12")],
        "relatives": [{"id": "r1", "name": "Johan Andersson", "relation": "Son"},
                      {"id": "r2", "name": "Gösta Andersson", "relation": "Make"}],
        "follow_up": {"date": _in(-2), "time": "10:00", "place": "hemma hos dig"},
        "start": _in(-21), "end": _in(160), "evaluation": _in(-2),
    }
    viola_v2 = dict(viola_v1)
    viola_v2.update({
        "need_help": ("Du behöver hjälp att ta dina mediciner i rätt tid. Du behöver stöd när "
                      "du blir orolig. Det går bättre nu med dosetten. Gösta får egen hjälp "
                      "från hemtjänsten."),
        "actions": viola_v1["actions"] + [
            _action(4, "Du får träffa en kurator en gång i veckan. Ni pratar om det som gör dig orolig.",
                    "se-kalmar-vc", "Anna Berg", 3, 90),
        ],
        "follow_up": {"date": _meeting_in(19), "time": "10:00", "place": "hemma hos dig"},
        "evaluation": _in(19),
    })
    peter = {
        "important": ("Jag vill ha ett eget hem. Jag vill få ordning på mina skulder. "
                      "Jag vill kunna gå med rullator ute."),
        "self_can": "Du tar dig fram inne med rullator. Du äter själv. Du vet vad du vill.",
        "need_help": ("Du behöver ett hem där du kan ta dig fram med rullstol. Du behöver hjälp "
                      "med räkningar och post. Du glömmer lätt tider. Då får du ett sms innan."),
        "actions": [
            _action(1, "Vi söker en bostad med hiss åt dig. Karin är med på alla möten.",
                    "se-kalmar-soc", "Maria Ek", -10, 60, "ongoing"),
            _action(2, "Du tränar att gå med rullator två gånger i veckan.",
                    "se-kalmar-vc", "Anna Berg", -10, 50, "ongoing"),
            _action(3, "Karin hjälper dig att göra en plan för dina skulder.",
                    "se-kalmar-soc", "Karin Holm, god man", 0, 45),
        ],
        "contacts": [_contact(1, "Maria Ek", "Din samordnare", "0480-450 12", "Vardagar kl. 9–11"),
                     _contact(2, "Karin Holm", "God man", "070-123 45 67")],
        "relatives": [],
        "follow_up": {"date": _meeting_in(26), "time": "13:30", "place": "Socialtjänsten, Kalmar"},
        "start": _in(-12), "end": _in(170), "evaluation": _in(26),
    }
    ylva = {
        "important": ("Ylva ska må bra och inte skada sig. Hela familjen ska få vila. "
                      "Vi vill förstå vad Ylva vill säga."),
        "self_can": "Ylva leker gärna med vatten och bilar. Hon äter själv med sked.",
        "need_help": ("Ylva behöver hjälp att säga vad hon vill. Hon behöver lugn när det blir "
                      "för mycket. Familjen behöver avlösning och hjälp med resor."),
        "actions": [
            _action(1, "Ylva och ni får lära er att prata med bilder.",
                    "se-kalmar-hab", "Logoped på habiliteringen", -5, 120, "ongoing"),
            _action(2, "Ni får en kontaktfamilj en helg i månaden.",
                    "se-kalmar-soc", "Maria Ek", 10, None),
            _action(3, "Ni får resa med taxi till habiliteringen.",
                    "se-kalmar-soc", "Maria Ek", 0, None),
        ],
        "contacts": [_contact(1, "Maria Ek", "Er samordnare", "0480-450 12", "Vardagar kl. 9–11"),
                     _contact(2, "Habiliteringen", "Mottagningen", "0480-842 00")],
        "relatives": [{"id": "r1", "name": "Amina Hassan", "relation": "Mamma"},
                      {"id": "r2", "name": "Yusuf Hassan", "relation": "Pappa"}],
        "follow_up": {"date": _meeting_in(33), "time": "09:00", "place": "Habiliteringen, Kalmar"},
        "start": _in(-6), "end": _in(180), "evaluation": _in(33),
    }
    elsa = {
        "important": ("Jag vill bo kvar i mitt hem i Vasa. Jag vill träffa mina vänner i kyrkan. "
                      "Annika ska veta hur jag mår."),
        "self_can": "Du sköter dig själv på morgonen. Du går med rollator. Du ringer Annika varje dag.",
        "need_help": ("Du behöver hjälp med mat och städning. Du behöver hjälp med dina sår på "
                      "benen. Du vill inte vara ensam på kvällen."),
        "actions": [
            _action(1, "Sjukskötaren sköter såren på dina ben två gånger i veckan.",
                    "fi-vasa-hs", "Johanna Lindholm", -15, None, "ongoing"),
            _action(2, "Hemvården kommer med mat varje dag och städar en gång i veckan.",
                    "fi-vasa-soc", "Peter Backman", -10, None, "ongoing"),
            _action(3, "Du får åka till dagverksamhet två dagar i veckan.",
                    "fi-vasa-soc", "Peter Backman", 7, 120),
        ],
        "contacts": [_contact(1, "Johanna Lindholm", "Din egen kontaktperson, sjukskötare",
                              "06 218 1112", "Vardagar kl. 8–10"),
                     _contact(2, "Peter Backman", "Socialhandledare", "06 218 2223")],
        "relatives": [{"id": "r1", "name": "Annika Holmström", "relation": "Dotter"}],
        "follow_up": {"date": _meeting_in(24, "FI"), "time": "14:00", "place": "Hälsostationen i Vasa"},
        "start": _in(-16), "end": _in(165), "evaluation": _in(24),
    }
    bertil = {
        "important": "Jag vill ha ett jobb igen. Jag vill sluta dricka. Jag vill ha kvar min lägenhet.",
        "self_can": "Du handlar och lagar mat. Du går till gruppen på tisdagar.",
        "need_help": ("Du behöver stöd för att inte dricka. Du behöver hjälp med hyran och "
                      "med andra räkningar. Marina hjälper dig med pengarna."),
        "actions": [
            _action(1, "Du träffar en sjukskötare var annan vecka. Hon finns på hälsostationen.",
                    "fi-vasa-hs", "Johanna Lindholm", -8, 90, "ongoing"),
            _action(2, "Din egen kontaktperson hjälper dig att söka arbete.",
                    "fi-vasa-soc", "Peter Backman", 5, 150),
        ],
        "contacts": [_contact(1, "Peter Backman", "Din egen kontaktperson", "06 218 2223",
                              "Vardagar kl. 9–11"),
                     _contact(2, "Marina Lindqvist", "Intressebevakare", "040 123 4567")],
        "relatives": [],
        "follow_up": {"date": _meeting_in(40, "FI"), "time": "10:30", "place": "Socialvården i Vasa"},
        "start": _in(-9), "end": _in(175), "evaluation": _in(40),
    }
    wilma = {
        "important": "Wilma ska trivas på dagis. Hon ska få sova bättre. Vi vill ha tid för hennes syskon.",
        "self_can": "Wilma leker med andra barn. Hon klär på sig själv med lite hjälp.",
        "need_help": "Wilma sover dåligt. Hon vaknar många gånger på natten. Ni vill ha stöd hemma på kvällen.",
        "actions": [
            _action(1, "En sjukskötare hjälper er med Wilmas sömn. Ni ses en gång i månaden.",
                    "fi-vasa-hs", "Johanna Lindholm", -3, 90, "ongoing"),
            _action(2, "En familjearbetare kommer hem till er en kväll i veckan.",
                    "fi-vasa-soc", "Peter Backman", 7, 120),
        ],
        "contacts": [_contact(1, "Johanna Lindholm", "Er egen kontaktperson, sjukskötare",
                              "06 218 1112", "Vardagar kl. 8–10")],
        "relatives": [{"id": "r1", "name": "Sofia Nyberg", "relation": "Mamma"},
                      {"id": "r2", "name": "Mikael Nyberg", "relation": "Pappa"}],
        "follow_up": {"date": _meeting_in(30, "FI"), "time": "15:00", "place": "Hälsostationen i Vasa"},
        "start": _in(-4), "end": _in(180), "evaluation": _in(30),
    }
    # Sara has protected personal data (skyddade personuppgifter); Erik is her god man.
    sara = {
        "important": ("Jag vill känna mig trygg hemma. Jag vill sova hela nätter. "
                      "Jag vill ha ett jobb igen."),
        "self_can": "Du handlar och lagar mat. Du tar hand om din katt. Du går till gymmet.",
        "need_help": ("Du blir rädd och får ont i magen. Du behöver någon att prata med. "
                      "Du behöver hjälp med post och räkningar. Erik hjälper dig med det."),
        "actions": [
            _action(1, "Du träffar en kurator varje vecka. Ni pratar om det som gör dig rädd.",
                    "se-kalmar-vc", "Anna Berg", -5, 90, "ongoing"),
            _action(2, "Du får stöd att söka arbete. Vi ses en gång i månaden.",
                    "se-kalmar-soc", "Maria Ek", 7, 150),
        ],
        "contacts": [_contact(1, "Maria Ek", "Din samordnare", "0480-450 12", "Vardagar kl. 9–11"),
                     _contact(2, "Erik Dahl", "God man", "070-234 56 78")],
        "relatives": [],
        "follow_up": {"date": _meeting_in(35), "time": "11:00",
                      "place": "Kalmar vårdcentral, rum 4"},
        "start": _in(-7), "end": _in(175), "evaluation": _in(35),
    }
    se3 = ("se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12")
    return [
        Story("viola", "sv", [Decision("viola", "give", se3, 30),
                              Decision("viola", "withdraw", ("se-lsk-avd12",), 12)],
              "Anna", [viola_v1, viola_v2]),
        Story("peter", "sv", [Decision("karin", "give", ("se-kalmar-vc", "se-kalmar-soc"), 14,
                                       "legal_representative")],
              "Maria", [peter]),
        Story("ylva", "sv", [Decision("amina", "give", ("se-kalmar-vc", "se-kalmar-soc",
                                                        "se-kalmar-hab"), 9, "guardian"),
                             Decision("yusuf", "give", ("se-kalmar-vc", "se-kalmar-soc",
                                                        "se-kalmar-hab"), 8, "guardian")],
              "Maria", [ylva]),
        Story("elsa", "sv_FI", [Decision("elsa", "give", ("fi-vasa-hs", "fi-vasa-soc"), 20)],
              "Johanna", [elsa]),
        Story("bertil", "sv_FI", [Decision("marina", "give", ("fi-vasa-hs", "fi-vasa-soc"), 11,
                                           "legal_representative")],
              "Peter", [bertil]),
        Story("wilma", "sv_FI", [Decision("sofia", "give", ("fi-vasa-hs", "fi-vasa-soc"), 6,
                                          "guardian"),
                                 Decision("mikael", "give", ("fi-vasa-hs", "fi-vasa-soc"), 5,
                                          "guardian")],
              "Johanna", [wilma]),
        Story("sara", "sv", [Decision("sara", "give", ("se-kalmar-vc", "se-kalmar-soc"), 8)],
              "Maria", [sara]),
    ]


def plan_texts(version: dict) -> list[str]:
    """Every text a person reads in a plan version (for the readability test)."""
    texts = [version[s] for s in plan_content.TEXT_SECTIONS]
    texts += [a["what"] for a in version["actions"]]
    return texts


async def _already_told(db: AsyncSession, person: Person) -> bool:
    acts = (await db.exec(select(func.count()).select_from(ConsentAct).where(
        ConsentAct.person_id == person.id))).one()
    told = (await db.exec(select(func.count()).select_from(Plan).where(
        Plan.person_id == person.id))).one()
    return bool(acts or told)


async def _requests_and_questions(db: AsyncSession, people: dict[str, Person],
                                  units: dict[str, Unit], staff: dict[str, StaffMember]) -> None:
    """One request for coordination in progress and one answered question, told once:

    - Johan asked for coordination for Viola four days ago (Gösta needs more help at home);
      Anna Berg at Kalmar vårdcentral has taken it.
    - Peter asked Socialtjänsten about his flat two days ago; Maria Ek answered.
    Both go through the services, so the timelines, notices and audit chains are real."""
    from portal.coordination import services as requests
    from portal.coordination.models import CoordinationRequest
    from portal.messages import services as messages
    from portal.messages.models import Thread

    viola, johan, peter = people["viola"], people["johan"], people["peter"]
    anna, maria = staff["Anna"], staff["Maria"]
    vc, soc = units["se-kalmar-vc"], units["se-kalmar-soc"]
    told = (await db.exec(select(func.count()).select_from(CoordinationRequest).where(
        CoordinationRequest.person_id == viola.id))).one()
    if not told:
        sent = datetime.combine(date.today() - timedelta(days=4), time(8, 40), UTC)
        johan_acts = Actor("person", johan.id, "proxy")
        draft = await requests.start_draft(db, viola, johan_acts)
        await requests.save_answers(db, draft, {
            "hard": ("Pappa Gösta har fått det svårare med sin Parkinson. Mamma orkar inte "
                     "hjälpa honom själv längre, och hon blir orolig på nätterna."),
            "units": [vc.id, soc.id], "other": "", "unknown": False, "units_answered": True,
            "contact": "phone", "phone": "070-123 45 67", "times": "Vardagar efter kl. 16",
            "consent": "given"}, sent)
        request = await requests.send(db, draft, viola, johan_acts, [vc, soc], sent)
        anna_acts = Actor("staff", anna.id, "staff", anna.unit_id)
        await requests.assign(db, request, viola, anna.id, anna_acts, sent + timedelta(days=1),
                              seen=len(await requests.timeline(db, request.id)))
    asked = (await db.exec(select(func.count()).select_from(Thread).where(
        Thread.person_id == peter.id))).one()
    if not asked:
        when = datetime.combine(date.today() - timedelta(days=2), time(9, 15), UTC)
        thread = await messages.start_thread(
            db, person=peter, unit=soc, staff_id=maria.id, subject="Visning av lägenhet",
            body="Hej Maria! När är visningen av lägenheten på Norra vägen? Kan Karin följa med?",
            actor=Actor("person", peter.id, "self"), key="demo-peter-question", now=when)
        await messages.post(
            db, thread, person=peter, unit=soc,
            body=("Hej Peter! Visningen är på torsdag kl. 14. Karin får gärna följa med. "
                  "Jag möter er utanför porten."),
            actor=Actor("staff", maria.id, "staff", maria.unit_id), key="demo-maria-answer",
            now=when + timedelta(hours=3))


async def _protected_meeting(db: AsyncSession, people: dict[str, Person],
                             units: dict[str, Unit], staff: dict[str, StaffMember]) -> None:
    """Erik, Sara's god man, asked for coordination five days ago (Sara needs help to find
    work); Maria Ek took it and booked a coordination meeting with a place. Told once.
    Sara has protected personal data: she and staff see the place, Erik does not, and
    neither does any notice or calendar file (portal.people.names.may_see_places)."""
    from portal.coordination import meetings
    from portal.coordination import services as requests
    from portal.coordination.models import CoordinationRequest

    sara, erik = people["sara"], people["erik"]
    maria, anna = staff["Maria"], staff["Anna"]
    vc, soc = units["se-kalmar-vc"], units["se-kalmar-soc"]
    told = (await db.exec(select(func.count()).select_from(CoordinationRequest).where(
        CoordinationRequest.person_id == sara.id))).one()
    if told:
        return
    sent = datetime.combine(date.today() - timedelta(days=5), time(10, 5), UTC)
    erik_acts = Actor("person", erik.id, "legal_representative")
    draft = await requests.start_draft(db, sara, erik_acts)
    await requests.save_answers(db, draft, {
        "hard": ("Sara vill börja arbeta igen. Hon behöver stöd från både vårdcentralen och "
                 "socialtjänsten."),
        "units": [vc.id, soc.id], "other": "", "unknown": False, "units_answered": True,
        "contact": "portal", "phone": "", "times": "", "consent": "given"}, sent)
    request = await requests.send(db, draft, sara, erik_acts, [vc, soc], sent)
    maria_acts = Actor("staff", maria.id, "staff", maria.unit_id)
    await requests.assign(db, request, sara, maria.id, maria_acts, sent + timedelta(days=1),
                          seen=len(await requests.timeline(db, request.id)))
    day = date.fromisoformat(_meeting_in(9))
    starts = datetime.combine(day, time(13, 0), tzinfo=zone_of(sara)).astimezone(UTC)
    await meetings.book(db, request, sara, starts_at=starts, place="Socialtjänsten, rum 2",
                        participants=[maria.id, anna.id], actor=maria_acts,
                        now=sent + timedelta(days=2),
                        seen=len(await requests.timeline(db, request.id)))


async def load_stories(db: AsyncSession, people: dict[str, Person]) -> int:
    """Tell each story that has not been told yet; return how many were told."""
    units = {u.code: u for u in (await db.exec(select(Unit))).all()}
    staff = {s.given_name: s for s in (await db.exec(select(StaffMember))).all()}
    told = 0
    for story in stories():
        person = people[story.person]
        if await _already_told(db, person):
            continue
        for n, d in enumerate(story.decisions):
            when = datetime.combine(date.today() - timedelta(days=d.days_ago), time(9, 30), UTC)
            seq = (await consent.overview(db, person, when.date())).seq
            by = people[d.by]
            await consent.decide(
                db, person=person, actor=Actor("person", by.id, d.role), given_by=by.id,
                decision=d.decision, unit_ids=[units[c].id for c in d.units],
                idempotency_key=f"demo-{story.person}-{n}", seen_seq=seq, locale=story.locale,
                today=when.date(), on_behalf_of=person.id if by.id != person.id else None,
                now=when)
        coordinator = staff[story.coordinator]
        plan = await plans.create_plan(db, person, coordinator)
        for version in story.versions:
            content = dict(version, coordinator_id=coordinator.id)
            content["actions"] = [
                {k: v for k, v in dict(a, unit_id=units[a["unit"]].id).items() if k != "unit"}
                for a in version["actions"]]
            plan = await plans.save_draft(db, plan, coordinator, plan.draft_revision, content)
            await plans.publish(db, plan, coordinator, plan.draft_revision)
            await db.refresh(plan)
        told += 1
    await _requests_and_questions(db, people, units, staff)
    await _protected_meeting(db, people, units, staff)
    return told

