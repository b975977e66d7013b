"""The learner view log's monthly partitions: made ahead, listed, and dropped past
retention only once archived.

On PostgreSQL the log (``records_learnerview``) is partitioned by calendar month
(UTC); each partition is owned by the log's owner, refuses TRUNCATE and grants
nothing to anyone else (records.log_grants). On SQLite every function here does
nothing. Run nightly by records.jobs; by hand: ``manage.py maintain_partitions``.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from lrs_portal.pg import is_postgres, quoted
from records.log_grants import (
    APPEND_ONLY_FUNCTION,
    LOG_TABLE,
    TRUNCATE_TRIGGER,
    partition_revokes,
)

_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
_PARTITION_NAME = re.compile(rf"{LOG_TABLE}_y([0-9]{{4}})m([0-9]{{2}})")


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
            month_add(first, n) for n in range(-months_back, months_ahead + 1)
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
    cutoff = month_add(_this_month(today), -retention_months)
    old = [p for p in partitions_list(using=using) if p[2] <= cutoff]
    left = [p for p in _detached_list(using=using) if p[2] <= cutoff]
    if dry_run:
        retired.dropped = [name for name, _, _ in left + old]
        return retired
    for name, _, _ in old:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {quoted(LOG_TABLE)} DETACH PARTITION {quoted(name)}"
            )
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
            cursor.execute(f"DROP TABLE {quoted(name)}")
        retired.dropped.append(name)
    return retired


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
            found.append((name, month, month_add(month, 1)))
    return sorted(found, key=lambda partition: partition[1])


def _this_month(today: date | None) -> date:
    # timezone.now() is UTC, and so are the partitions' bounds.
    return (today or timezone.now().date()).replace(day=1)


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _utc_date(bound: str) -> date:
    return datetime.fromisoformat(bound).astimezone(UTC).date()


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def _partition_create(cursor: Any, month: date, *, owner: str | None) -> None:
    name = quoted(partition_name(month))
    cursor.execute(
        f"CREATE TABLE {name} PARTITION OF {quoted(LOG_TABLE)}"
        f" FOR VALUES FROM ({_bound(month)}) TO ({_bound(month_add(month, 1))})"
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
