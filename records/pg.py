"""The records app's PostgreSQL-only features, behind plain functions.

On PostgreSQL the learner view log (``records_learnerview``) is partitioned by
calendar month (UTC) and append-only (architecture.md rule 3), and admin
changelists use estimated counts. On SQLite every function here is a harmless
no-op or a plain fallback, so the demo runs unchanged.
Who may do what to the log: docs/runbooks/database-roles.md.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

# The log's name and its revokes live in records.log_grants, which the log's
# archive imports too; they are still read as records.pg's.
from records.log_grants import LOG_TABLE as LOG_TABLE
from records.log_grants import partition_revokes as partition_revokes
from records.log_grants import table_grantees

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
_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
# What any role but the owner may still do to the log itself.
_LOG_KEEPS = ("SELECT", "INSERT")
_LOG_TAKES = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"


def is_postgres(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database is PostgreSQL, which everything else here needs."""
    return connections[using].vendor == "postgresql"


def partition_name(month: date) -> str:
    """The partition holding one month's rows, like records_learnerview_y2026m11."""
    return f"{LOG_TABLE}_y{month.year:04d}m{month.month:02d}"


def partitions_list(*, using: str = DEFAULT_DB_ALIAS) -> list[tuple[str, date, date]]:
    """The log's range partitions as (name, first day, first day after), oldest first.

    A DEFAULT partition, or one bounded by MINVALUE/MAXVALUE, is not listed, so
    nothing here ever drops it.
    """
    if not is_postgres(using=using):
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s)",
            [LOG_TABLE],
        )
        rows = cursor.fetchall()
    found = []
    for name, bounds in rows:
        match = _BOUNDS.search(bounds or "")
        if match:
            found.append((name, _utc_date(match[1]), _utc_date(match[2])))
    return sorted(found, key=lambda partition: partition[1])


def partitions_ensure(
    *,
    months_ahead: int,
    months_back: int = 0,
    today: date | None = None,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> list[str]:
    """Create the log's missing monthly partitions, from months_back before this
    month to months_ahead after it; return their names (in dry_run, create none).

    Each new partition is given to the log's owner, refuses TRUNCATE, and grants
    nothing to anyone else: roles use the log through the parent table only.
    """
    if months_ahead < 0 or months_back < 0:
        raise ValueError("months_ahead and months_back cannot be negative")
    if not is_postgres(using=using):
        return []
    first = _this_month(today)
    existing = {name for name, _, _ in partitions_list(using=using)}
    missing = [
        month
        for month in (
            _month_add(first, n) for n in range(-months_back, months_ahead + 1)
        )
        if partition_name(month) not in existing
    ]
    if missing and not dry_run:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_userbyid(relowner) <> current_user,"
                " quote_ident(pg_get_userbyid(relowner))"
                " FROM pg_class WHERE oid = to_regclass(%s)",
                [LOG_TABLE],
            )
            row = cursor.fetchone()
            owner = row[1] if row and row[0] else None
            for month in missing:
                _partition_create(cursor, month, owner=owner)
    return [partition_name(month) for month in missing]


@dataclass
class Retired:
    """What partitions_drop_older_than did with the months past retention."""

    archived: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def partitions_drop_older_than(
    *,
    retention_months: int,
    archive_dir: Path,
    today: date | None = None,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> Retired:
    """Detach, archive, verify, and only then drop every log partition whose rows
    are all older than retention_months (in dry_run, touch nothing).

    Whole partitions only, never a DELETE: at least retention_months of rows are
    always kept. Each is detached in a short transaction of its own (detaching
    locks the log), then written to archive_dir (records.log_archive) and checked
    against the table before it is dropped; an archive that does not verify
    raises ArchiveError and the detached table stays. A run after a failure picks
    up the detached tables it left. Detaching and dropping fire no row or
    TRUNCATE trigger, and only the table's owner may do either.
    """
    from records import log_archive

    if retention_months < 1:
        raise ValueError("retention_months must be at least 1")
    retired = Retired()
    if not is_postgres(using=using):
        return retired
    # Partitions end on a first of the month, so "every row older than today
    # minus N months" is "ends on or before the first of that month".
    cutoff = _month_add(_this_month(today), -retention_months)
    old = [p for p in partitions_list(using=using) if p[2] <= cutoff]
    left = [p for p in _detached_list(using=using) if p[2] <= cutoff]
    if dry_run:
        retired.dropped = [name for name, _, _ in left + old]
        return retired
    for name, _, _ in old:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(f"ALTER TABLE {_q(LOG_TABLE)} DETACH PARTITION {_q(name)}")
    for name, first, after in sorted(left + old, key=lambda p: p[1]):
        try:
            log_archive.archive_verify(name=name, directory=archive_dir, using=using)
        except log_archive.ArchiveError:  # none yet, or a bad one: write it afresh
            log_archive.partition_archive(
                name=name,
                first_day=first,
                first_day_after=after,
                directory=archive_dir,
                using=using,
            )
            retired.archived.append(name)
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(f"DROP TABLE {_q(name)}")
        retired.dropped.append(name)
    return retired


_PARTITION_NAME = re.compile(rf"{LOG_TABLE}_y([0-9]{{4}})m([0-9]{{2}})")


def is_partition_name(name: str) -> bool:
    """Whether name is one a monthly partition of the log would have."""
    return _PARTITION_NAME.fullmatch(name) is not None


def _detached_list(*, using: str) -> list[tuple[str, date, date]]:
    """Tables named as the log's partitions that are not (any longer) attached:
    left by a run that detached them and stopped before dropping them."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r'"
            " AND NOT c.relispartition"
            " AND c.relnamespace = current_schema()::regnamespace"
            " AND c.relname LIKE %s",
            [f"{LOG_TABLE}_y%"],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = []
    for name in names:
        match = _PARTITION_NAME.fullmatch(name)
        if match:
            month = date(int(match[1]), int(match[2]), 1)
            found.append((name, month, _month_add(month, 1)))
    return sorted(found, key=lambda partition: partition[1])


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
                f"REVOKE {_LOG_TAKES} ON TABLE {_q(LOG_TABLE)}"
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
            f'CREATE TRIGGER "{STAMP_TRIGGER}" BEFORE INSERT ON {_q(LOG_TABLE)}'
            f" FOR EACH ROW EXECUTE FUNCTION {schema}.{STAMP_FUNCTION}()"
        )


def stamp_uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{STAMP_TRIGGER}" ON {_q(LOG_TABLE)}')
        cursor.execute(f"DROP FUNCTION IF EXISTS {STAMP_FUNCTION}()")


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
            f" learner_id, master_id ON {_q(LINK_TABLE)}"
            f" FOR EACH ROW EXECUTE FUNCTION {schema}.{LINK_GUARD}()"
        )


def learner_link_guard_uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{LINK_GUARD}" ON {_q(LINK_TABLE)}')
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


# --- helpers -------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _this_month(today: date | None) -> date:
    # timezone.now() is UTC, and so are the partitions' bounds.
    return (today or timezone.now().date()).replace(day=1)


def _month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _utc_date(bound: str) -> date:
    return datetime.fromisoformat(bound).astimezone(UTC).date()


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def _partition_create(cursor: Any, month: date, *, owner: str | None) -> None:
    name = _q(partition_name(month))
    cursor.execute(
        f"CREATE TABLE {name} PARTITION OF {_q(LOG_TABLE)}"
        f" FOR VALUES FROM ({_bound(month)}) TO ({_bound(_month_add(month, 1))})"
    )
    cursor.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {name}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {APPEND_ONLY_FUNCTION}()"
    )
    if owner:  # created by a superuser: the log's owner owns all of it
        cursor.execute(f"ALTER TABLE {name} OWNER TO {owner}")
    # The owner's default privileges may have granted the app role UPDATE and DELETE.
    for statement in partition_revokes(cursor, partition_name(month)):
        cursor.execute(statement)


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
    demographic search reads (records.matching._match), for many keys at once.

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
    names = ", ".join(_q(columns[name]) for name in fields)
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {_q(model._meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
