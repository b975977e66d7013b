"""The import on PostgreSQL: checked rows COPYed into a staging table, then one upsert.

One INSERT … ON CONFLICT DO UPDATE writes a staging table's rows, touching only
rows whose values changed; a large load of learners into an empty table inserts
them and builds the table's indexes afterwards. learners_write is also where the
SQL screen's rows (records.loading_screen) are written.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from lrs_portal.pg import quoted
from records.csv_import import ImportSummary
from records.loading_checks import (
    ACHIEVEMENT_COLUMNS,
    ACHIEVEMENT_DETAILS,
    ACHIEVEMENT_KEY,
    LEARNER_COLUMNS,
    Values,
    batches,
    unknown_uln,
)
from records.models import Achievement, Learner

# The SQL below is built from the models' table and column names through
# quoted (hence the noqa: S608 marks); every value is a parameter or COPY data.


def _copy_text(values: Values) -> str:
    # COPY's text format. Checked cells hold no tabs, line breaks or other control
    # characters (text_problem), so only a backslash needs escaping.
    line = "\t".join(map(str, values))
    if "\\" in line:
        line = "\t".join(str(value).replace("\\", "\\\\") for value in values)
    return line


def _stage(
    table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Values]
) -> int:
    """Create the temporary table and COPY the rows into it; how many it holds."""
    staged = 0
    definition = ", ".join(f"{quoted(name)} {kind}" for name, kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{quoted(table)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quoted(table)} ({definition})")
        names = ", ".join(quoted(name) for name, _ in columns)
        raw = cursor.connection.cursor()
        with raw, raw.copy(f"COPY {quoted(table)} ({names}) FROM STDIN") as copy:
            # Written a few thousand rows at a time: one call per row costs more
            # than PostgreSQL takes to store the row.
            for batch in batches(map(_copy_text, rows), 5000):
                copy.write("\n".join(batch) + "\n")
                staged += len(batch)
    return staged


def _upsert(sql: str, params: Sequence[Any]) -> tuple[int, int]:
    """Run an INSERT … RETURNING (xmax = 0); how many rows it added and updated."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH written AS ({sql} RETURNING (xmax = 0) AS added) "  # noqa: S608 # nosec B608 (quoted names, bound values)
            "SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE NOT added) "
            "FROM written",
            params,
        )
        added, updated = cursor.fetchone() or (0, 0)
    return added, updated


def _columns(model: Any, names: Sequence[str]) -> list[str]:
    return [quoted(model._meta.get_field(name).column) for name in names]


# From this many rows, a load into an empty learners table drops the table's
# secondary indexes (the ULN's unique constraint, the family-name index) and
# builds them again once the rows are in: one sorted build each instead of a
# million random insertions. Below it, the upsert's own index updates cost less.
REBUILD_INDEXES_FROM = 100_000


def _secondary_indexes_drop(cursor: Any, table: str) -> list[str]:
    """Drop the table's indexes and unique constraints other than its primary
    key; the statements that make them again, exactly as they were."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), c.conname,"
        " pg_get_constraintdef(c.oid) FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid"
        " AND c.conrelid = x.indrelid"
        " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary ORDER BY 1",
        [table],
    )
    rebuild = []
    for index, index_sql, constraint, constraint_sql in cursor.fetchall():
        if constraint:
            name = quoted(constraint)
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            rebuild.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint_sql}"
            )
        else:
            cursor.execute(f"DROP INDEX {quoted(index)}")
            rebuild.append(index_sql)
    return rebuild


def _empty_and_locked(cursor: Any, table: str) -> bool:
    """Whether the table is empty; if so, it stays empty to everyone else (an
    ACCESS EXCLUSIVE lock, to the end of the import's transaction)."""
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 # nosec B608 (quoted names, bound values)
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 # nosec B608 (quoted names, bound values)
    return bool(cursor.fetchone()[0])


def learners_copy(rows: Iterator[tuple[int, Values]], summary: ImportSummary) -> None:
    """Rows checked in Python, COPYed into a staging table, then written."""
    stage = "records_learner_import"
    kinds = {"date_of_birth": "date", "gender": "smallint"}
    staged = _stage(
        stage,
        [(name, kinds.get(name, "text")) for name in LEARNER_COLUMNS],
        (values for _, values in rows),
    )
    source = (
        f"SELECT {', '.join(quoted(n) for n in LEARNER_COLUMNS)} "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"FROM {quoted(stage)} ORDER BY {quoted('uln')}"
    )
    summary.added, summary.updated = learners_write(source, staged)
    summary.unchanged = staged - summary.added - summary.updated
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{quoted(stage)}")


def learners_write(source: str, count: int) -> tuple[int, int]:
    """Write the learners a SELECT gives (LEARNER_COLUMNS in order, in ULN
    order, no ULN twice); how many were added and updated.

    In ULN order: the unique index on it grows at one end instead of at random
    pages (about a tenth quicker), and the table is laid out in the order a later
    reload's upsert visits it (bench/RESULTS.md: a reload of a table loaded in
    file order took more than twice as long)."""
    table = quoted(Learner._meta.db_table)
    target = _columns(Learner, [*LEARNER_COLUMNS, "ability_to_share", "updated_at"])
    changing = _columns(Learner, LEARNER_COLUMNS[1:])
    insert = (
        f"INSERT INTO {table} AS t ({', '.join(target)}) "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"SELECT *, %s, %s FROM ({source}) AS source"
    )
    rebuild: list[str] = []
    if count >= REBUILD_INDEXES_FROM:
        with connection.cursor() as cursor:
            if _empty_and_locked(cursor, table):
                rebuild = _secondary_indexes_drop(cursor, table)
    if rebuild:
        # An empty table, and no ULN twice: every row is new. Rebuilding the
        # unique constraint checks that once more.
        sql = insert
    else:
        sql = (
            f"{insert} ON CONFLICT ({quoted('uln')}) DO UPDATE SET "  # nosec B608 (quoted names, bound values)
            + ", ".join(
                f"{c} = EXCLUDED.{c}" for c in [*changing, quoted("updated_at")]
            )
            + f" WHERE ({', '.join(f't.{c}' for c in changing)}) IS DISTINCT FROM "
            f"({', '.join(f'EXCLUDED.{c}' for c in changing)})"
        )
    default_share = Learner.AbilityToShare.NOT_PROVIDED.value
    written = _upsert(sql, [default_share, timezone.now()])
    if rebuild:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in rebuild:
                cursor.execute(statement)
    return written


def achievements_copy(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary
) -> None:
    stage = "records_achievement_import"
    columns = [("line", "integer")]
    columns += [
        (n, "date" if n == "award_date" else "text") for n in ACHIEVEMENT_COLUMNS
    ]
    staged = _stage(stage, columns, ((line, *values) for line, values in rows))
    learners = quoted(Learner._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quoted(stage)}")
        cursor.execute(
            f"SELECT s.line, s.uln FROM {quoted(stage)} s WHERE NOT EXISTS "  # noqa: S608 # nosec B608 (quoted names, bound values)
            f"(SELECT 1 FROM {learners} l WHERE l.uln = s.uln) ORDER BY s.line"
        )
        unknown = cursor.fetchall()
    for line, uln in unknown:
        summary.reject(line, unknown_uln(uln))
    key = _columns(Achievement, ["learner", *ACHIEVEMENT_KEY])
    details = _columns(Achievement, ACHIEVEMENT_DETAILS)
    source = [f"s.{quoted(n)}" for n in (*ACHIEVEMENT_KEY, *ACHIEVEMENT_DETAILS)]
    sql = (
        f"INSERT INTO {quoted(Achievement._meta.db_table)} AS t "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"({', '.join(key + details)}) "
        f"SELECT l.id, {', '.join(source)} FROM {quoted(stage)} s "
        f"JOIN {learners} l ON l.uln = s.uln "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in details)
        + f" WHERE ({', '.join(f't.{c}' for c in details)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in details)})"
    )
    summary.added, summary.updated = _upsert(sql, [])
    summary.unchanged = staged - len(unknown) - summary.added - summary.updated
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{quoted(stage)}")
