"""The records app's PostgreSQL-only features other than the log's, behind plain
functions.

Merged learners' guard against cycles, the organisation's caps lock, admin
changelists' estimated counts, the demographic search for many keys at once,
and COPY for many new rows. On SQLite every function here is a harmless no-op
or a plain fallback, so the demo runs unchanged. The log's partitions are
records.log_partitions; who may do what to it, records.log_grants.
"""

from datetime import date
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

from lrs_portal.pg import is_postgres as is_postgres
from lrs_portal.pg import quoted

# Merged learners (records.links): no link may close a cycle. The import checks
# in Python; this trigger is the database's own refusal, for every writer.
LINK_TABLE = "records_learnerlink"


LINK_GUARD = "records_learnerlink_no_cycle"


def learner_links_lock(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make writers of learner links wait for each other until the end of the
    transaction, so two cannot each add one half of a cycle."""
    if is_postgres(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LINK_TABLE])


def learner_link_guard_install(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refuse, in the database, a learner link that would close a cycle."""
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
        cursor.execute(
            f"""
CREATE OR REPLACE FUNCTION {schema}.{LINK_GUARD}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The lock first: the check's query then sees every link committed before.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('{LINK_TABLE}'));
    IF EXISTS (
        WITH RECURSIVE chain(id) AS (
            SELECT NEW.master_id
            UNION
            SELECT l.master_id FROM {schema}.{LINK_TABLE} l
            JOIN chain ON l.learner_id = chain.id
        )
        SELECT FROM chain WHERE chain.id = NEW.learner_id
    ) THEN
        RAISE EXCEPTION 'learner % cannot be merged into %: a cycle of links',
            NEW.learner_id, NEW.master_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$"""  # noqa: S608 # nosec B608 (catalog-quoted schema, constant names)
        )
        cursor.execute(
            f'CREATE TRIGGER "{LINK_GUARD}" BEFORE INSERT OR UPDATE OF'
            f" learner_id, master_id ON {quoted(LINK_TABLE)}"
            f" FOR EACH ROW EXECUTE FUNCTION {schema}.{LINK_GUARD}()"
        )


def learner_link_guard_uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{LINK_GUARD}" ON {quoted(LINK_TABLE)}')
        cursor.execute(f"DROP FUNCTION IF EXISTS {LINK_GUARD}()")


def estimated_count(model: type[models.Model], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """The number of rows in model's table as the planner last estimated it,
    summed over partitions; never a COUNT(*) on PostgreSQL, an exact count on SQLite.

    A table never analysed counts as 0 until autovacuum (or ANALYZE) reaches it.
    """
    if not is_postgres(using=using):
        return model._base_manager.using(using).count()
    table = model._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(c.reltuples) FILTER (WHERE c.reltuples > 0), 0)"
            " FROM pg_class c WHERE c.oid IN"
            " (SELECT relid FROM pg_partition_tree(to_regclass(%s)) WHERE isleaf)"
            " OR (c.oid = to_regclass(%s) AND c.relkind = 'r')",
            [table, table],
        )
        row = cursor.fetchone()
    return round(row[0]) if row else 0


def organisation_caps_lock(organisation_id: int) -> None:
    """Wait for, and hold until the transaction ends, the organisation's lock on
    its caps: lookups by its members count and log one at a time (decision 26).

    A transaction-scoped advisory lock, not the organisation's row: nothing else
    waits on it (record views, the admin, foreign-key checks on its rows). It must
    be its own statement, before the count: under READ COMMITTED the count's
    snapshot is then taken after the previous holder committed. On SQLite (the
    demo, one writer at a time) it does nothing.
    """
    if not is_postgres():
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"records.organisation_caps:{organisation_id}"],
        )


def learners_by_family_and_birth(
    keys: set[tuple[str, date]], *, limit: int, using: str = DEFAULT_DB_ALIAS
) -> dict[tuple[str, date], list[Any]]:
    """For each (upper-cased family name, date of birth), the first ``limit``
    learners with both, in date of birth and ULN order: what a single
    demographic search reads (records.matching.demographic_match), for many keys
    at once.

    On PostgreSQL one query, a LATERAL join that walks learner_family_dob_idx
    once per key; elsewhere (the demo's SQLite) one query per key.
    """
    from django.db.models.functions import Upper

    from records.models import Learner

    found: dict[tuple[str, date], list[Any]] = {key: [] for key in keys}
    if not keys:
        return found
    if not is_postgres(using=using):
        for family, born in keys:
            found[(family, born)] = list(
                Learner.objects.using(using)
                .annotate(family_upper=Upper("family_name"))
                .filter(family_upper=family, date_of_birth=born)
                .order_by("date_of_birth", "uln")[:limit]
            )
        return found
    families, births = zip(*keys, strict=True)
    learners = Learner.objects.using(using).raw(
        "SELECT l.*, k.family_upper FROM unnest(%s::text[], %s::date[])"
        " AS k(family_upper, date_of_birth)"
        " CROSS JOIN LATERAL (SELECT c.* FROM records_learner c"
        " WHERE upper(c.family_name) = k.family_upper"
        " AND c.date_of_birth = k.date_of_birth"
        " ORDER BY c.date_of_birth, c.uln LIMIT %s) AS l",
        [list(families), list(births), limit],
    )
    for learner in learners:
        found[(getattr(learner, "family_upper"), learner.date_of_birth)].append(  # noqa: B009
            learner
        )
    return found


def rows_insert(
    model: type[models.Model],
    rows: list[tuple[Any, ...]],
    *,
    fields: tuple[str, ...],
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Insert new rows, each a tuple of ``fields`` (attribute names: ``user_id``)
    with the other columns taking their database defaults: one COPY on
    PostgreSQL, bulk_create elsewhere.

    For the batch worker's log rows and results, thousands a second: building
    model instances and the ORM's INSERT costs more than PostgreSQL takes to
    store the rows. COPY fires the same row triggers as INSERT (the log's stamp).
    """
    if not rows:
        return
    if not is_postgres(using=using):
        model._default_manager.using(using).bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows]
        )
        return
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    names = ", ".join(quoted(columns[name]) for name in fields)
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {quoted(model._meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
