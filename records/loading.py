"""Importing learners and their achievements from CSV files.

Every bad row is reported with its line and reason and skipped; the good rows
load; loading the same file again changes nothing.

On PostgreSQL a learners file that PostgreSQL reads exactly as Python's csv
module does (no double quotes: records.loading_screen says why) is COPYed
as it is into a staging table whose generated column screens each row in SQL;
only the rows the screen turns away come back to Python for the full check,
and repeated ULNs are found in SQL. Any other learners file, and every
achievements file, is read and checked row by row in Python, the good rows
streamed through COPY into a staging table. Either way one INSERT … ON CONFLICT
DO UPDATE then upserts, touching only rows whose values changed (a large load of
learners into an empty table inserts them and builds the indexes afterwards).
Elsewhere (SQLite) the rows are checked in Python and compared and written in
batches.

Each part has its module: the columns and the checks of cells
(records.loading_checks), the COPY and upsert (records.loading_copy), the file
COPYed and screened in SQL (records.loading_screen) and the batches
(records.loading_batches).
"""

from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from records.csv_import import ImportSummary
from records.loading_batches import BATCH_SIZE, achievements_batches, learners_batches
from records.loading_checks import (
    ACHIEVEMENT_COLUMNS,
    LEARNER_COLUMNS,
    AchievementCheck,
    LearnerCheck,
    Progress,
    Reject,
    checked_rows,
    normalise_postcode,
)
from records.loading_copy import achievements_copy, learners_copy
from records.loading_screen import learners_screened

__all__ = [
    "ACHIEVEMENT_COLUMNS",
    "LEARNER_COLUMNS",
    "achievements_import",
    "learners_import",
    "normalise_postcode",
]


def _use_copy(use_copy: bool | None) -> bool:
    on_postgres = connection.vendor == "postgresql"
    if use_copy and not on_postgres:
        raise ValueError("COPY needs PostgreSQL")
    return on_postgres if use_copy is None else use_copy


def learners_import(
    *,
    path: str | Path,
    batch_size: int | None = None,
    use_copy: bool | None = None,
    on_progress: Progress | None = None,
    on_reject: Reject | None = None,
) -> ImportSummary:
    """Add and update learners from a CSV file, keyed by ULN.

    Bad rows are reported (on_reject, and the summary) and skipped; the good rows
    load in one transaction, and a learner's updated_at changes only when its
    values did. A file without the right header raises CsvFormatError before
    anything is written. use_copy (default: on PostgreSQL) picks COPY and one
    upsert over batches of batch_size rows."""
    summary = ImportSummary(on_reject=on_reject)
    check = LearnerCheck(timezone.localdate())
    copy = _use_copy(use_copy)
    with transaction.atomic():
        if copy and learners_screened(path, check, summary, on_progress):
            return summary
        with checked_rows(path, LEARNER_COLUMNS, check, summary, on_progress) as rows:
            if copy:
                learners_copy(rows, summary)
            else:
                learners_batches(rows, summary, batch_size or BATCH_SIZE)
    return summary


def achievements_import(
    *,
    path: str | Path,
    batch_size: int | None = None,
    use_copy: bool | None = None,
    on_progress: Progress | None = None,
    on_reject: Reject | None = None,
) -> ImportSummary:
    """Add and update achievements from a CSV file, keyed by the learner's ULN,
    awarding organisation, qualification title and award date.

    As learners_import; a row whose ULN has no learner is a bad row."""
    summary = ImportSummary(on_reject=on_reject)
    check = AchievementCheck(timezone.localdate())
    with (
        checked_rows(path, ACHIEVEMENT_COLUMNS, check, summary, on_progress) as rows,
        transaction.atomic(),
    ):
        if _use_copy(use_copy):
            achievements_copy(rows, summary)
        else:
            achievements_batches(rows, summary, batch_size or BATCH_SIZE)
    return summary
