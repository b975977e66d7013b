"""Who may do what to the learner view log in PostgreSQL (architecture.md rule 3).

Every role but the log's owner may only SELECT from and INSERT into the log, and
nothing on its partitions (log_privileges_restrict, partition_revokes); the
stamp trigger installed here makes the database set each row's id and time.
The triggers that refuse UPDATE, DELETE and TRUNCATE are migration 0002's, and
each new partition's own TRUNCATE trigger records.log_partitions'; their names
are here. Below records.log_partitions and records.log_archive. On SQLite every
function here does nothing. Roles and grants: docs/runbooks/database-roles.md.
"""

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from lrs_portal.pg import is_postgres, quoted

LOG_TABLE = "records_learnerview"
# The trigger function migration 0002 creates: it refuses UPDATE, DELETE and TRUNCATE.
APPEND_ONLY_FUNCTION = "records_learnerview_append_only"
# TRUNCATE triggers are per table (only row triggers pass from parent to
# partitions), so each partition gets its own.
TRUNCATE_TRIGGER = "records_learnerview_no_truncate"
# The BEFORE INSERT trigger (migration 0010): for every role but the log's owner
# (and superusers), a row's time is the database's (the column's default,
# statement_timestamp(), as Django's Now() is) or the row is refused, and its id
# is drawn from the log's sequence whatever the row said. The owner may write
# other times: bench/ and tests write back-dated days that way, and the demo's seed.
STAMP_FUNCTION = "records_learnerview_stamp"
STAMP_TRIGGER = "records_learnerview_stamped_by_database"
# What any role but the owner may still do to the log itself.
_LOG_KEEPS = ("SELECT", "INSERT")
_LOG_TAKES = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"


def partition_revokes(cursor: Any, name: str) -> list[str]:
    """The statements that leave only the owner any privilege on table name."""
    grantees = table_grantees(cursor, name, keeping=())
    if not grantees:
        return []
    return [f"REVOKE ALL ON TABLE {quoted(name)} FROM {', '.join(grantees)}"]


def table_grantees(cursor: Any, table: str, *, keeping: tuple[str, ...]) -> list[str]:
    """The roles other than the owner holding a privilege on table not in keeping."""
    cursor.execute(
        "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'"
        " ELSE quote_ident(pg_get_userbyid(a.grantee)) END"
        " FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner"
        " AND NOT a.privilege_type = ANY(%s::text[]) ORDER BY 1",
        [table, list(keeping)],
    )
    return [grantee for (grantee,) in cursor.fetchall()]


def log_privileges_restrict(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Leave every role but the owner at most SELECT and INSERT on the log, and
    nothing on its partitions (rule 3); return the statements it ran.
    """
    if not is_postgres(using=using):
        return []
    statements = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        grantees = table_grantees(cursor, LOG_TABLE, keeping=_LOG_KEEPS)
        if grantees:
            statements.append(
                f"REVOKE {_LOG_TAKES} ON TABLE {quoted(LOG_TABLE)}"
                f" FROM {', '.join(grantees)}"
            )
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c"
            " ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)"
            " ORDER BY c.relname",
            [LOG_TABLE],
        )
        for (name,) in cursor.fetchall():
            statements += partition_revokes(cursor, name)
        for statement in statements:
            cursor.execute(statement)
    return statements


def stamp_install(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the database set the log's id and refuse any time but its own, for
    every role that is not (and cannot act as) the log's owner."""
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(current_schema()), pg_get_serial_sequence(%s, 'id')",
            [LOG_TABLE],
        )
        schema, sequence = cursor.fetchone()
        # Every name schema-qualified (a fixed search_path would cost a setting
        # saved and restored on each lookup's row), so no object of the same
        # name elsewhere changes anything.
        cursor.execute(
            f"""
CREATE OR REPLACE FUNCTION {schema}.{STAMP_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Only the owner (and superusers) hold any privilege on a partition, and
    -- this asks the cache, not a query: the lookup path pays microseconds.
    IF pg_catalog.has_table_privilege(TG_RELID, 'TRUNCATE') THEN
        RETURN NEW;
    END IF;
    IF NEW.viewed_at IS DISTINCT FROM pg_catalog.statement_timestamp() THEN
        RAISE EXCEPTION '{LOG_TABLE}.viewed_at is set by the database'
            USING ERRCODE = 'check_violation',
                  DETAIL = pg_catalog.format('A row claiming %s was refused.',
                                             NEW.viewed_at);
    END IF;
    NEW.id := pg_catalog.nextval('{sequence}'::pg_catalog.regclass);
    RETURN NEW;
END;
$$"""
        )
        cursor.execute(
            f'CREATE TRIGGER "{STAMP_TRIGGER}" BEFORE INSERT ON {quoted(LOG_TABLE)}'
            f" FOR EACH ROW EXECUTE FUNCTION {schema}.{STAMP_FUNCTION}()"
        )


def stamp_uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            f'DROP TRIGGER IF EXISTS "{STAMP_TRIGGER}" ON {quoted(LOG_TABLE)}'
        )
        cursor.execute(f"DROP FUNCTION IF EXISTS {STAMP_FUNCTION}()")
