"""Database triggers that count changes per person, per unit and for the whole site.

`data_version(scope, version)` holds one counter per scope: "p:<person id>" (anything
shown about the person, or to them: their plan, consent, requests, messages, who acts
for them and for whom they act), "u:<unit id>" (what a unit's inbox shows) and "site"
(units, staff members, consent wordings, staff systems: shown on many pages). A trigger
on every table in `SCOPES` counts each inserted, changed or deleted row in the same
transaction, so a page kept by portal.core.page_cache is shown again only while the
counters it was made with are unchanged, whichever process or path wrote the change.

PostgreSQL: the row triggers only note the scopes (`data_change_pending`, unlogged, rows
of the current transaction); a deferred constraint trigger adds them up at COMMIT, in
scope order. Counters are locked only at commit and always in the same order, so two
writers never deadlock on them, and the new counts become visible with the change itself.
SQLite (one writer at a time) counts at once.

Tables not in SCOPES: `EXEMPT` says why. A table SQLite recreates in a batch migration
(`op.batch_alter_table`) loses its triggers: call `count_changes(table)` again after it
(tests/core/test_data_versions.py checks that every table has them).
"""

from __future__ import annotations

from alembic import op

# Per table: SELECTs giving the scopes a row of it concerns; {r} is the row (NEW or OLD).
# A SELECT may give several rows (a request's units) or NULL (no coordinator yet).
_PERSON = "SELECT 'p:' || {r}.person_id AS s"
_REQUEST_PERSON = "SELECT 'p:' || person_id AS s FROM coordination_request WHERE id = {r}.request_id"
_REQUEST_UNITS = "SELECT 'u:' || unit_id AS s FROM request_unit WHERE request_id = {r}.request_id"
_PLAN_PERSON = "SELECT 'p:' || person_id AS s FROM plan WHERE id = {r}.plan_id"
_PLAN_UNIT = ("SELECT 'u:' || st.unit_id AS s FROM plan JOIN staff_member st "
              "ON st.id = plan.coordinator_id WHERE plan.id = {r}.plan_id")
_UNIT = "SELECT 'u:' || {r}.unit_id AS s"
_SITE = "SELECT 'site' AS s"

SCOPES: dict[str, tuple[str, ...]] = {
    # A person's name and protected identity show on the pages of those who act for them,
    # of those they act for (a co-guardian's) and in the inboxes of the units they deal with.
    "person": ("SELECT 'p:' || {r}.id AS s",
               ("SELECT 'p:' || representative_id AS s FROM representation "
               "WHERE represented_id = {r}.id"),
               ("SELECT 'p:' || represented_id AS s FROM representation "
               "WHERE representative_id = {r}.id"),
               "SELECT 'u:' || unit_id AS s FROM care_relation WHERE person_id = {r}.id",
               "SELECT 'u:' || unit_id AS s FROM message_thread WHERE person_id = {r}.id",
               ("SELECT 'u:' || ru.unit_id AS s FROM coordination_request cr JOIN request_unit ru "
               "ON ru.request_id = cr.id WHERE cr.person_id = {r}.id"),
               ("SELECT 'u:' || st.unit_id AS s FROM plan JOIN staff_member st "
               "ON st.id = plan.coordinator_id WHERE plan.person_id = {r}.id")),
    "representation": ("SELECT 'p:' || {r}.representative_id AS s",
                       "SELECT 'p:' || {r}.represented_id AS s"),
    "proxy_invitation": (_PERSON, ("SELECT 'p:' || id AS s FROM person WHERE national_id = "
                                  "{r}.invitee_national_id")),
    "care_relation": (_PERSON, _UNIT),
    "consent_act": (_PERSON,),
    "consent_event": (_PERSON, _UNIT),
    "plan": (_PERSON, "SELECT 'u:' || unit_id AS s FROM staff_member WHERE id = {r}.coordinator_id"),
    "plan_version": (_PLAN_PERSON, _PLAN_UNIT),
    "plan_seen": (_PLAN_PERSON,),
    "coordination_request": (_PERSON, ("SELECT 'u:' || unit_id AS s FROM request_unit WHERE "
                                      "request_id = {r}.id")),
    "request_unit": (_REQUEST_PERSON, _UNIT),
    "request_event": (_REQUEST_PERSON, _REQUEST_UNITS),
    "coordination_meeting": (_PERSON, _REQUEST_UNITS),
    "internal_note": (_PERSON, _UNIT),
    "message_thread": (_PERSON, _UNIT),
    "message": ("SELECT 'p:' || person_id AS s FROM message_thread WHERE id = {r}.thread_id",
                "SELECT 'u:' || unit_id AS s FROM message_thread WHERE id = {r}.thread_id"),
    "unit": (_SITE,),
    "staff_member": (_SITE,),
    "consent_wording": (_SITE,),
    "fhir_client": (_SITE,),
    "fhir_client_unit": (_SITE,),
}
EXEMPT = {
    "audit_event": "written on reads too (the access log); the log page is not kept",
    "outbox_message": "notices waiting to be sent: no page shows them",
    "login_identity": "which e-ID logs in as whom: no page shows it",
    "alembic_version": "the schema's version",
    "data_version": "the counters themselves",
    "data_change_pending": "the counters' work table (PostgreSQL)",
}


def _union(table: str, row: str) -> str:
    selects = " UNION ALL ".join(query.replace("{r}", row) for query in SCOPES[table])
    return f"SELECT s FROM ({selects}) AS scopes WHERE s IS NOT NULL"


def create_counters() -> None:
    """The counter table (both), the work table and the function adding up at commit
    (PostgreSQL)."""
    op.execute("CREATE TABLE data_version (scope VARCHAR(40) PRIMARY KEY, "
               "version BIGINT NOT NULL)")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE UNLOGGED TABLE data_change_pending (txid BIGINT NOT NULL "
               "DEFAULT txid_current(), scope VARCHAR(40) NOT NULL)")
    op.execute("CREATE INDEX data_change_pending_txid ON data_change_pending (txid)")
    op.execute(
        "CREATE FUNCTION portal_data_versions_apply() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "WITH gone AS (DELETE FROM data_change_pending WHERE txid = txid_current() RETURNING scope) "
        "INSERT INTO data_version (scope, version) "
        "SELECT DISTINCT scope, 1 FROM gone ORDER BY scope "
        "ON CONFLICT (scope) DO UPDATE SET version = data_version.version + 1; "
        "RETURN NULL; END $$")
    op.execute("CREATE CONSTRAINT TRIGGER data_change_pending_apply AFTER INSERT ON "
               "data_change_pending DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
               "EXECUTE FUNCTION portal_data_versions_apply()")


def count_changes(table: str) -> None:
    """Triggers counting every inserted, updated or deleted row of `table` (see SCOPES)."""
    if op.get_bind().dialect.name == "postgresql":
        # The row's scopes not yet noted in this transaction (r: NEW, then OLD on UPDATE).
        note = (f"INSERT INTO data_change_pending (scope) SELECT DISTINCT s FROM "
                f"({_union(table, 'r')}) AS c WHERE NOT EXISTS (SELECT 1 FROM "
                "data_change_pending p WHERE p.txid = txid_current() AND p.scope = c.s); ")
        op.execute(
            f"CREATE OR REPLACE FUNCTION portal_changed_{table}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN "
            "IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF; "
            f"{note}IF TG_OP = 'UPDATE' THEN r := OLD; {note}END IF; "
            "RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION portal_changed_{table}()")
        # An UPDATE that changes nothing (a lock taken as `SET id = id`) counts nothing.
        op.execute(f"CREATE TRIGGER {table}_counted_update AFTER UPDATE ON {table} "
                   "FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) "
                   f"EXECUTE FUNCTION portal_changed_{table}()")
        return
    columns = [row[1] for row in op.get_bind().exec_driver_sql(f"PRAGMA table_info({table})")]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    rows = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}
    for verb, which in rows.items():
        body = " ".join(
            f"INSERT INTO data_version (scope, version) SELECT DISTINCT s, 1 FROM "
            f"({_union(table, row)}) WHERE true ON CONFLICT (scope) DO UPDATE SET "
            "version = version + 1;" for row in which)
        when = f" WHEN {changed}" if verb == "UPDATE" else ""
        op.execute(f"CREATE TRIGGER {table}_counted_{verb.lower()} AFTER {verb} ON {table} "
                   f"FOR EACH ROW{when} BEGIN {body} END")


def stop_counting(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_update ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS portal_changed_{table}()")
        return
    for verb in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_{verb}")


def drop_counters() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS data_change_pending")
        op.execute("DROP FUNCTION IF EXISTS portal_data_versions_apply()")
    op.execute("DROP TABLE IF EXISTS data_version")
