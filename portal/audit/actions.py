"""Every audit action, in plain words for the person's access log ("Vem har tittat").

One place: each action name passed to `record(...)`, `record_many(...)`,
`Subject.log_read(...)` or an `audit=` argument in portal/ is either SHOWN (with the
words the person reads) or EXCLUDED (with the reason). tests/audit/test_action_catalog.py
scans portal/ and fails on an action that is in neither, so a new one cannot be forgotten.

The log lists only what staff and representatives did (`portal.audit.access_log`), so
the words are said of them: "Läste planen." beside "Anna Berg, Sjuksköterska, Kalmar
vårdcentral". They name no possessive (not "din plan"): a representative with the log
scope reads the same words about the person. Where staff and a representative do
different things under one action (staff write down a consent given orally), `staff`
holds the staff words, and where a staff system (over the FHIR API, actor type "client")
did it, `system` holds the system's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import N_


@dataclass(frozen=True)
class Words:
    said: str  # msgid: what a representative did (and staff, when `staff` is None)
    staff: str | None = None  # msgid: what staff did, when it differs
    system: str | None = None  # msgid: what a staff system did, when it differs

    def of(self, kind: str) -> str:
        """The words for an actor of `kind` ("staff", "client" or "person")."""
        if kind == "staff" and self.staff:
            return self.staff
        if kind == "client" and self.system:
            return self.system
        return self.said


SHOWN: dict[str, Words] = {
    # The plan
    "plan.read": Words(N_("Läste planen.")),
    "plan.versions_read": Words(N_("Såg listan över planens versioner.")),
    "consent.read": Words(N_("Läste svaren om samtycke.")),
    "consent.history_read": Words(N_("Läste vad som har hänt med samtycket.")),
    "my_data.document": Words(N_("Hämtade alla uppgifter som ett dokument.")),
    "my_data.fhir": Words(N_("Hämtade alla uppgifter som en fil för andra system.")),
    "plan.created": Words(N_("Började skriva en ny plan.")),
    # A staff system (portal.fhir.plan_publication) sends a draft for staff to publish, or
    # publishes a version: one event each, said of the system.
    "plan.draft_saved": Words(N_("Ändrade i utkastet till planen."),
                              system=N_("Skickade ett utkast till planen från sitt eget system.")),
    "plan.published": Words(N_("Publicerade en ny version av planen.")),
    "plan.closed": Words(N_("Avslutade planen.")),
    # The person as a whole, and lists where the person is shown
    "person.viewed_by_staff": Words(N_("Öppnade översikten med uppgifterna.")),
    "consent.listed_for_staff": Words(N_("Såg namnet och svaret om samtycke i en lista.")),
    "inbox.listed_for_staff": Words(N_("Såg ett ärende eller en fråga i inkorgen.")),
    # Who acts for the person (portal.people.invitations, representatives)
    "representation.viewed": Words(N_("Läste vad rätten att använda tjänsten gäller.")),
    "proxy_invitation.accepted": Words(N_("Tackade ja till inbjudan att använda tjänsten.")),
    "proxy_invitation.declined": Words(N_("Tackade nej till inbjudan att använda tjänsten.")),
    "representation.replaced": Words(N_("Fick en ny fullmakt i stället för den förra.")),
    "representation.ended": Words(N_("Avslutade en fullmakt.")),
    "proxy_invitation.created": Words(N_("Bjöd in någon att använda tjänsten.")),
    "proxy_invitation.withdrawn": Words(N_("Tog tillbaka en inbjudan.")),
    # Consent
    "consent.viewed_by_staff": Words(N_("Läste svaren om samtycke.")),
    "consent.give": Words(N_("Sa ja till samtycke."),
                          staff=N_("Skrev in ett ja till samtycke.")),
    "consent.withdraw": Words(N_("Tog tillbaka samtycke."),
                              staff=N_("Skrev in att samtycket tas tillbaka.")),
    "consent.think": Words(N_("Svarade att det behövs tid att tänka."),
                           staff=N_("Skrev in att det behövs tid att tänka.")),
    # Requests for coordination
    "requests.listed": Words(N_("Såg listan över ärenden.")),
    "request.viewed": Words(N_("Läste ett ärende.")),
    "request.viewed_by_staff": Words(N_("Läste ett ärende.")),
    "request.sent": Words(N_("Bad om samordning."),
                          staff=N_("Skrev in en begäran om samordning.")),
    "request.received": Words(N_("Tog emot en begäran om samordning.")),
    "request.assigned": Words(N_("Tog hand om ett ärende.")),
    "request.meeting_booked": Words(N_("Bokade ett möte om samordning.")),
    "request.plan_made": Words(N_("Skrev att planen är gjord.")),
    "request.closed": Words(N_("Avslutade ett ärende.")),
    "request.reopened": Words(N_("Öppnade ett ärende igen.")),
    "request.note_added": Words(N_("Skrev en anteckning om ett ärende till andra i personalen.")),
    "meeting.calendar_read": Words(N_("Hämtade ett möte till sin kalender.")),
    "meeting.calendar_by_staff": Words(N_("Hämtade ett möte till sin kalender.")),
    # Questions and messages
    "messages.listed": Words(N_("Såg listan över frågor.")),
    "thread.read": Words(N_("Läste en fråga och svaren.")),
    "thread.viewed_by_staff": Words(N_("Läste en fråga och svaren.")),
    "thread.started": Words(N_("Skickade en ny fråga.")),
    "message.sent": Words(N_("Skrev ett meddelande."), staff=N_("Svarade på en fråga.")),
    "thread.assigned": Words(N_("Bestämde vem i personalen som svarar på en fråga.")),
    "thread.closed": Words(N_("Stängde en fråga.")),
    "thread.reopened": Words(N_("Öppnade en fråga igen.")),
    "thread.note_added": Words(N_("Skrev en anteckning om en fråga till andra i personalen.")),
    # Representation
    "acting.started": Words(N_("Började använda tjänsten för personen.")),
    "representation.registered": Words(N_("Skrev in vem som får företräda personen.")),
    # Staff systems, through the FHIR API (portal.fhir): the actor is the system
    "fhir.consent.read": Words(N_("Hämtade svaret om samtycke till sitt system.")),
    "fhir.careplan.read": Words(N_("Hämtade planen till sitt system.")),
    # This log
    "access_log.viewed": Words(N_("Läste den här loggen.")),
}

# Shown for an action that is in the database but not in this catalog (an older or
# newer version wrote it): better a plain line than a read that goes unseen.
UNKNOWN = Words(N_("Använde uppgifterna."))

EXCLUDED: dict[str, str] = {
    "auth.login": "the person's own login (staff log in on the system chain)",
    "auth.reauthenticated": "the person's own login",
    "auth.logout": "the person's own logout",
    "person.created_at_login": "system bookkeeping: the person's first login made the record",
    "acting.ended": "bookkeeping: a representative stopped using the service for the person, "
                    "or their right ended by itself; neither reads nor changes anything",
    "notice_settings.changed": "the signed-in person's own notice settings, changed only by "
                               "themself",
    "proxy_invitation.prepared": "the person's own step before re-authentication; the "
                                 "invitation itself is proxy_invitation.created",
    "proxy_invitation.refused": "the person's own attempt, refused (protected personal data); "
                                "nothing was read or changed",
}


def words_for(action: str, kind: str) -> str:
    """The msgid for what an actor of `kind` ("staff", "client", "person") did (translate
    it where it is shown)."""
    return SHOWN.get(action, UNKNOWN).of(kind)
