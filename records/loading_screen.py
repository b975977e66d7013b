"""The learners' import on PostgreSQL: the file COPYed as it is, screened in SQL.

Reading and checking a million rows in Python takes several times as long as
PostgreSQL takes to COPY the file. So a file PostgreSQL reads exactly as the
csv module does is COPYed as it is into a staging table, and one SELECT
through it (the screen) returns, in line order, only the rows that the quick
check (LearnerCheck.values) might not store exactly as they are: the others
are printable ASCII with no space around a name, a valid ULN, names within
their lengths, a real date of birth, a gender code, a postcode already in its
usual form and a plain email address or none. The screen may turn away more
than it needs to, never fewer: Python checks each row it returns (an accent, a
postcode to tidy, a bad cell) and either stores it, tidied, or gives every
reason. Repeated ULNs are found in SQL among the rows that passed, the first
line kept, as the row-by-row path does.

A file with a double quote anywhere (the csv module and PostgreSQL part ways
over a quote inside a value, and a quoted value may hold a line break, which
would break the line numbers), a line starting "\\." (PostgreSQL's end of
data), a blank line, a row of the wrong width or bytes that are not UTF-8
makes PostgreSQL's COPY stop or is refused before it: nothing of the attempt
is kept, and the file is read row by row instead.
"""

import csv
import heapq
import os
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from django.db import connection, transaction

from lrs_portal.pg import quoted
from records.csv_import import (
    EARLIEST_DATE,
    ImportProgress,
    ImportSummary,
    column_order,
)
from records.loading_checks import (
    EMAIL_MAX,
    GENDERS,
    LEARNER_COLUMNS,
    LEARNER_TEXT,
    NORMAL_POSTCODE,
    ULN_WEIGHTS,
    LearnerCheck,
    Progress,
    Rejected,
)
from records.loading_copy import learners_write
from records.uln import TEMPORARY_ULN

_NAMES = ("given_name", "middle_names", "family_name", "previous_family_name")
_ASCII_PRINTABLE = "^[ -~]*$"
# Django's EmailValidator accepts all of these (and more, which go to Python):
# its labels may be 63 characters long, and here the whole domain may.
_PLAIN_EMAIL = (
    r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9]+(-+[A-Za-z0-9]+)*"
    r"(\.[A-Za-z0-9]+(-+[A-Za-z0-9]+)*)*\.[A-Za-z][A-Za-z]+$"
)
# The file goes to PostgreSQL this many bytes at a time.
COPY_CHUNK = 1 << 20
# Memory for the sort of a large file's rows, for the import's transaction.
IMPORT_WORK_MEM = "256MB"
# Rows the screen turned away, read and written back this many at a time.
SCREENED_OUT_BATCH = 10_000


class _NeedsRowByRow(Exception):
    """The file holds something only the row-by-row reader reads exactly."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _c(name: str) -> str:
    # Byte order and ASCII character classes, whatever the database's collation.
    return f'{quoted(name)} COLLATE "C"'


def learner_screen(today: date) -> str:
    """SQL true for a staged row (cells as in the file) that LearnerCheck.values
    would store exactly as it is. A cell with a space around it fails: the
    patterns are anchored, and a name is tested for one. The ULN's bytes are read
    only once it is ten digits, so no row can make the expression fail; a date of
    birth is one of the days from 1900 to today, written as Python writes them."""
    uln, email = _c("uln"), _c("email")
    weighted = " + ".join(
        f"{weight} * get_byte(CAST({quoted('uln')} AS bytea), {place})"
        for place, weight in enumerate(ULN_WEIGHTS)
    )
    days = (today - EARLIEST_DATE).days
    names = " || ',' || ".join(quoted(name) for name in _NAMES)
    tests = [
        f'({names}) COLLATE "C" ~ {_literal(_ASCII_PRINTABLE)}',
        *(f"{_c(name)} NOT LIKE ' %' AND {_c(name)} NOT LIKE '% '" for name in _NAMES),
        *(
            f"char_length({quoted(column)}) BETWEEN {int(required)} AND {limit}"
            for _, column, limit, required in LEARNER_TEXT
        ),
        f"CASE WHEN octet_length({uln}) = 10 AND btrim({uln}, '0123456789') = '' "
        f"AND {uln} BETWEEN '1000000000' AND '9999999999' "
        f"AND {uln} <> {_literal(TEMPORARY_ULN)} "
        f"THEN ({weighted}) % 11 = 10 ELSE false END",
        f"{_c('date_of_birth')} IN (SELECT to_char("  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"DATE {_literal(EARLIEST_DATE.isoformat())} + day, 'YYYY-MM-DD') "
        f"FROM generate_series(0, {days}) AS day)",
        f"{quoted('gender')} IN ({', '.join(map(_literal, GENDERS))})",
        f"{_c('postcode')} ~ {_literal(f'^(?:{NORMAL_POSTCODE.pattern})$')}",
        f"({email} = '' OR char_length({email}) <= {EMAIL_MAX} "
        f"AND {email} ~ {_literal(_PLAIN_EMAIL)} "
        f"AND char_length(split_part({email}, '@', 2)) <= 63)",
    ]
    return "\n  AND ".join(tests)


def _file_columns(raw: BinaryIO) -> list[str]:
    """The header's columns in the file's order; CsvFormatError if it is not the
    learners' header, _NeedsRowByRow if it has a column besides them or cannot
    be read as one line (a file whose lines end in a carriage return alone)."""
    first = raw.readline().decode("utf-8-sig", errors="replace")
    try:
        header = next(csv.reader([first]), None)
    except csv.Error:
        raise _NeedsRowByRow from None
    order = column_order(header, LEARNER_COLUMNS)
    if header is None or len(header) != len(LEARNER_COLUMNS):
        raise _NeedsRowByRow
    in_file = [""] * len(LEARNER_COLUMNS)
    for column, place in zip(LEARNER_COLUMNS, order, strict=True):
        in_file[place] = column
    return in_file


def _copy_file(
    raw: BinaryIO, stage: str, columns: list[str], on_progress: Progress | None
) -> int:
    """COPY the file as it is into the staging table; how many rows it holds."""
    total = os.fstat(raw.fileno()).st_size
    names = ", ".join(quoted(name) for name in columns)
    lines = 0
    with connection.cursor() as cursor:
        copying = cursor.connection.cursor()
        with copying:
            with copying.copy(
                f"COPY {quoted(stage)} ({names}) FROM STDIN "
                f"(FORMAT csv, HEADER true, FORCE_NOT_NULL ({names}))"
            ) as copy:
                tail = b""
                while chunk := raw.read(COPY_CHUNK):
                    # The last two bytes of the chunk before, so that a "\n\\."
                    # split between two chunks is seen.
                    if b'"' in chunk or b"\n\\." in tail + chunk:
                        raise _NeedsRowByRow
                    copy.write(chunk)
                    tail = chunk[-2:]
                    lines += chunk.count(b"\n")
                    if on_progress is not None:
                        on_progress(
                            ImportProgress(max(lines - 1, 0), raw.tell(), total)
                        )
            return int(copying.rowcount)


_STAGE = "records_learner_screen"
# The rows Python checked: n, whether it stores them, and their values if so.
_CHECKED = "records_learner_checked"


def _temporary_tables() -> str:
    """Both, as DROP TABLE names them."""
    return f"pg_temp.{quoted(_STAGE)}, pg_temp.{quoted(_CHECKED)}"


def learners_screened(
    path: str | Path,
    check: "LearnerCheck",
    summary: ImportSummary,
    on_progress: Progress | None,
) -> bool:
    """Import through the SQL screen; False, with nothing done, when the file
    needs the row-by-row reader (see above)."""
    text = ", ".join(f"{quoted(name)} text" for name in LEARNER_COLUMNS)
    with Path(path).open("rb") as raw:
        try:
            columns = _file_columns(raw)  # CsvFormatError: nothing is written
            raw.seek(0)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {_temporary_tables()}")
                # The import's one big sort (the rows in ULN order) in memory.
                cursor.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {quoted(_STAGE)} "
                    f"(n bigint GENERATED ALWAYS AS IDENTITY, {text})"
                )
                staged = _copy_file(raw, _STAGE, columns, on_progress)
                if on_progress is not None:
                    total = Path(path).stat().st_size
                    on_progress(ImportProgress(staged, total, total, read_all=True))
                rejected = _screened_out_check(check)
        except (_NeedsRowByRow, psycopg.errors.DataError):
            return False
    summary.rows_read = staged
    accepted = staged - len(rejected)
    fields = ", ".join(quoted(name) for name in LEARNER_COLUMNS)
    passed = (
        f"SELECT n, {fields} FROM {quoted(_STAGE)} s WHERE NOT EXISTS "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"(SELECT FROM {quoted(_CHECKED)} c WHERE c.n = s.n) "
        f"UNION ALL SELECT n, {fields} FROM {quoted(_CHECKED)} WHERE stored"
    )
    # Sorted by bytes (the same order for ULNs, quicker than the collation's).
    source = (
        'SELECT DISTINCT ON (uln COLLATE "C") uln, '  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"{', '.join(map(quoted, _NAMES))}, CAST(date_of_birth AS date), "
        "CAST(gender AS smallint), postcode, email "
        f'FROM ({passed}) AS passed ORDER BY uln COLLATE "C", n'
    )
    summary.added, summary.updated = learners_write(source, accepted)
    # Every passing row written: no ULN was on two of them.
    written_all = summary.added + summary.updated == accepted
    repeats = [] if written_all else _repeated_lines(passed)
    summary.unchanged = accepted - len(repeats) - summary.added - summary.updated
    for line, reason in heapq.merge(rejected, repeats):
        summary.reject(line, reason)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_temporary_tables()}")
    return True


def _screened_out_check(check: "LearnerCheck") -> list[tuple[int, str]]:
    """Check in Python, in line order, every row the screen turns away: COPY
    each into the checked table, with its values tidied when it is stored, and
    return the lines and reasons of those it is not. The header is line 1 and
    the nth row line n + 1 (no value holds a line break: the file has no
    quotes). The rows come through a server-side cursor, some thousands at a
    time."""
    fields = ", ".join(quoted(name) for name in LEARNER_COLUMNS)
    screen = learner_screen(check.dates.latest)
    field_limit = csv.field_size_limit()
    rejected: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {quoted(_CHECKED)} (n bigint, stored boolean, "
            + ", ".join(f"{quoted(name)} text" for name in LEARNER_COLUMNS)
            + ")"
        )
        with (
            cursor.connection.cursor(name="records_learner_screened") as turned,
            cursor.connection.cursor() as writing,
        ):
            turned.itersize = SCREENED_OUT_BATCH
            turned.execute(
                f"SELECT n, {fields} FROM {quoted(_STAGE)} "  # noqa: S608 # nosec B608 (quoted names, bound values)
                f"WHERE ({screen}) IS NOT TRUE ORDER BY n"
            )
            # A batch is read, then written: the connection cannot fetch while
            # it copies.
            while batch := turned.fetchmany(SCREENED_OUT_BATCH):
                checked: list[tuple[Any, ...]] = []
                for n, *cells in batch:
                    if max(map(len, cells)) > field_limit:
                        # Python's csv module cannot read the row: only the
                        # row-by-row reader reports it as it does.
                        raise _NeedsRowByRow
                    try:
                        values = check.values([cell.strip() for cell in cells])
                    except Rejected as exc:
                        rejected.append((n + 1, str(exc)))
                        checked.append((n, False, *[None] * len(cells)))
                    else:
                        checked.append((n, True, *map(str, values)))
                with writing.copy(f"COPY {quoted(_CHECKED)} FROM STDIN") as copy:
                    for row in checked:
                        copy.write_row(row)
    return rejected


def _repeated_lines(passed: str) -> list[tuple[int, str]]:
    """The later lines of each ULN that more than one passing row holds, in line
    order, each with the reason the row-by-row check gives."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT uln, array_agg(n ORDER BY n) FROM ({passed}) AS passed "  # noqa: S608 # nosec B608 (quoted names, bound values)
            "GROUP BY uln HAVING count(*) > 1"
        )
        found = [
            (later + 1, f"uln {uln} is repeated: it is also on line {lines[0] + 1}")
            for uln, lines in cursor.fetchall()
            for later in lines[1:]
        ]
    return sorted(found)
