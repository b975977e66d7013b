"""Importing learners and their achievements from CSV files.

Every bad row is reported with its line and reason and skipped; the good rows
load; loading the same file again changes nothing.

On PostgreSQL a learners file that PostgreSQL reads exactly as Python's csv
module does (no double quotes, see "the file itself COPYed" below) is COPYed
as it is into a staging table whose generated column screens each row in SQL;
only the rows the screen turns away come back to Python for the full check,
and repeated ULNs are found in SQL. Any other learners file, and every
achievements file, is read and checked row by row in Python, the good rows
streamed through COPY into a staging table. Either way one INSERT … ON CONFLICT
DO UPDATE then upserts, touching only rows whose values changed (a large load of
learners into an empty table inserts them and builds the indexes afterwards).
Elsewhere (SQLite) the rows are checked in Python and compared and written in
batches.
"""

import csv
import heapq
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import islice
from operator import mul
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import psycopg
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone

from records.csv_import import (
    EARLIEST_DATE,
    DateParser,
    ImportProgress,
    ImportSummary,
    RejectedRow,
    column_order,
    csv_records,
    show,
    text_problem,
)
from records.models import Achievement, Learner
from records.uln import TEMPORARY_ULN, uln_problem

LEARNER_COLUMNS = (
    "uln",
    "given_name",
    "middle_names",
    "family_name",
    "previous_family_name",
    "date_of_birth",
    "gender",
    "postcode",
    "email",
)
ACHIEVEMENT_COLUMNS = (
    "uln",
    "awarding_organisation",
    "qualification_title",
    "qualification_type",
    "level",
    "subject",
    "grade",
    "award_date",
    "awarding_provider_ukprn",
)
# Achievement's natural key (its unique constraint), and the rest of a row.
ACHIEVEMENT_KEY = ("awarding_organisation", "qualification_title", "award_date")
ACHIEVEMENT_DETAILS = (
    "qualification_type",
    "level",
    "subject",
    "grade",
    "awarding_provider_ukprn",
)
# Rows compared and written together on the batch path (SQLite).
BATCH_SIZE = 2000

Values = tuple[Any, ...]
Progress = Callable[[ImportProgress], None]
Reject = Callable[[RejectedRow], None]


class _Rejected(Exception):
    """One row cannot be imported (the message says why)."""


# --- Checking cells -------------------------------------------------------------

_ULN_SHAPE = re.compile(r"[1-9][0-9]{9}")
_ULN_WEIGHTS = range(10, 0, -1)


def _uln_valid(uln: str) -> bool:
    # uln_problem's rule at a fraction of its cost (tests/records/test_uln.py checks
    # they agree). The digits' ASCII codes add 48 x 55 = 2640 = 11 x 240 to the
    # weighted sum, which leaves it unchanged mod 11.
    return (
        _ULN_SHAPE.fullmatch(uln) is not None
        and uln != TEMPORARY_ULN
        and sum(map(mul, uln.encode(), _ULN_WEIGHTS)) % 11 == 10
    )


def _uln_reason(uln: str) -> str:
    problem = uln_problem(uln) or ""
    return f"uln {show(uln)}: {problem[:1].lower()}{problem[1:]}"


# The UK Government Data Standards postcode pattern, on the postcode with its
# spaces removed; and British Forces Post Office numbers (domain.md 1.3).
_OUTWARD = r"[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW])"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE = re.compile(rf"GIR0AA|{_OUTWARD}{_INWARD}")
_BFPO = re.compile(r"BFPO([0-9]{1,4})")
# What normalise_postcode returns, which it returns unchanged.
_NORMAL_POSTCODE = re.compile(rf"GIR 0AA|{_OUTWARD} {_INWARD}|BFPO [0-9]{{1,4}}")


def normalise_postcode(value: str) -> str | None:
    """A UK postcode in capitals with one space before the inward code (``ls29jt``
    -> ``LS2 9JT``), or ``BFPO 1234``; None when it is neither."""
    compact = "".join(value.split()).upper()
    if _POSTCODE.fullmatch(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    if match := _BFPO.fullmatch(compact):
        return f"BFPO {match[1]}"
    return None


def _max_lengths(model: Any, names: Sequence[str]) -> dict[str, int]:
    return {name: model._meta.get_field(name).max_length for name in names}


def _text_problems(
    problems: list[str],
    checks: Sequence[tuple[int, str, int, bool]],
    cells: Sequence[str],
) -> None:
    for index, column, limit, required in checks:
        value = cells[index]
        if not value:
            if required:
                problems.append(f"{column} is missing")
        elif len(value) > limit:
            problems.append(
                f"{column} is {len(value)} characters long; the most is {limit}"
            )


def _text_checks(
    model: Any, columns: Sequence[str], text: Sequence[str], required: set[str]
) -> list[tuple[int, str, int, bool]]:
    limits = _max_lengths(model, text)
    return [
        (columns.index(name), name, limits[name], name in required) for name in text
    ]


_GENDERS = {str(code): code for code in Learner.Gender.values}
_GENDER_CHOICES = ", ".join(f"{c.value} ({c.label.lower()})" for c in Learner.Gender)
_LEARNER_TEXT = _text_checks(
    Learner,
    LEARNER_COLUMNS,
    ("given_name", "middle_names", "family_name", "previous_family_name"),
    {"given_name", "family_name"},
)
_GIVEN_MAX, _MIDDLE_MAX, _FAMILY_MAX, _PREVIOUS_MAX = (c[2] for c in _LEARNER_TEXT)
_EMAIL_MAX = _max_lengths(Learner, ["email"])["email"]
_is_email = EmailValidator()
# EmailValidator's own patterns, compiled here: its lazy ones cost more to reach
# than to match. A match is only a shortcut; anything else goes to the validator.
_EMAIL_USER = re.compile(_is_email.user_regex.pattern, _is_email.user_regex.flags)
_EMAIL_DOMAIN = re.compile(_is_email.domain_regex.pattern, _is_email.domain_regex.flags)


def _email_valid(email: str) -> bool:
    user, _, domain = email.rpartition("@")
    return (
        len(email) <= _EMAIL_MAX
        and _EMAIL_USER.match(user) is not None
        and _EMAIL_DOMAIN.match(domain) is not None
    )


def _email_problem(email: str) -> str | None:
    if len(email) > _EMAIL_MAX:
        return f"email is {len(email)} characters long; the most is {_EMAIL_MAX}"
    try:
        _is_email(email)
    except ValidationError:
        return f"email {show(email)} is not an email address"
    return None


class _LearnerCheck:
    """A learner row's cells to the values stored, or _Rejected with every reason."""

    def __init__(self, today: date) -> None:
        self.dates = DateParser(latest=today)
        self.first_line: dict[int, int] = {}  # ULN -> the line it was first on

    def __call__(self, line: int, cells: list[str]) -> Values:
        return self._once(line, self.values(cells))

    def values(self, cells: list[str]) -> Values:
        """The row's values, whether or not its ULN was on an earlier line."""
        # The usual row passes these quick tests; any other gets the full check,
        # which gives every reason (or accepts it, e.g. after tidying a postcode).
        uln, given, middle, family, previous, born, gender, postcode, email = cells
        date_of_birth = self.dates.known.get(born)
        code = _GENDERS.get(gender)
        if (
            date_of_birth is None
            or code is None
            or not _uln_valid(uln)
            or not given
            or not family
            or len(given) > _GIVEN_MAX
            or len(middle) > _MIDDLE_MAX
            or len(family) > _FAMILY_MAX
            or len(previous) > _PREVIOUS_MAX
            or _NORMAL_POSTCODE.fullmatch(postcode) is None
            or (email and not _email_valid(email))
            or text_problem(cells) is not None
        ):
            return self._checked(cells)
        values = (uln, given, middle, family, previous, date_of_birth, code)
        return (*values, postcode, email)

    def _checked(self, cells: list[str]) -> Values:
        uln, given, middle, family, previous, born, gender, postcode, email = cells
        problems: list[str] = []
        if not _uln_valid(uln):
            problems.append(_uln_reason(uln))
        if (problem := text_problem(cells)) is not None:
            problems.append(problem)
        _text_problems(problems, _LEARNER_TEXT, cells)
        date_of_birth = self.dates("date_of_birth", born)
        if isinstance(date_of_birth, str):
            problems.append(date_of_birth)
        code = _GENDERS.get(gender)
        if code is None:
            problems.append(f"gender {show(gender)} is not one of {_GENDER_CHOICES}")
        normalised = normalise_postcode(postcode)
        if normalised is None:
            problems.append(
                f"postcode {show(postcode)} is not a UK postcode like LS2 9JT "
                "(or BFPO 1234)"
                if postcode
                else "postcode is missing"
            )
        if email and (problem := _email_problem(email)) is not None:
            problems.append(problem)
        if problems:
            raise _Rejected("; ".join(problems))
        values = (uln, given, middle, family, previous, date_of_birth, code)
        return (*values, normalised, email)

    def _once(self, line: int, values: Values) -> Values:
        first = self.first_line.setdefault(int(values[0]), line)
        if first != line:
            raise _Rejected(f"uln {values[0]} is repeated: it is also on line {first}")
        return values


_ACHIEVEMENT_TEXT = _text_checks(
    Achievement,
    ACHIEVEMENT_COLUMNS,
    (*ACHIEVEMENT_COLUMNS[1:7], "awarding_provider_ukprn"),
    {"awarding_organisation", "qualification_title", "qualification_type"}
    | {"level", "subject"},
)
_UKPRN = re.compile(r"[1-9][0-9]{7}")


class _AchievementCheck:
    """An achievement row's cells to the values stored, or _Rejected."""

    def __init__(self, today: date) -> None:
        self.dates = DateParser(latest=today)
        # The natural key -> the line it was first on. The ULN is kept exactly and
        # the rest hashed: a collision needs two of one learner's achievements to
        # share a 64-bit hash.
        self.first_line: dict[int, int] = {}

    def __call__(self, line: int, cells: list[str]) -> Values:
        uln, organisation, title, _, _, _, _, awarded, ukprn = cells
        problems: list[str] = []
        if not _uln_valid(uln):
            problems.append(_uln_reason(uln))
        if (problem := text_problem(cells)) is not None:
            problems.append(problem)
        _text_problems(problems, _ACHIEVEMENT_TEXT, cells)
        award_date = self.dates("award_date", awarded)
        if isinstance(award_date, str):
            problems.append(award_date)
        if ukprn and not _UKPRN.fullmatch(ukprn):
            problems.append(
                f"awarding_provider_ukprn {show(ukprn)} is not a UKPRN "
                "(8 digits, 10000000 to 99999999)"
            )
        if problems:
            raise _Rejected("; ".join(problems))
        key = int(uln) << 64 | hash((organisation, title, award_date)) & (2**64 - 1)
        first = self.first_line.setdefault(key, line)
        if first != line:
            raise _Rejected(
                f"the same achievement (uln, awarding_organisation, "
                f"qualification_title, award_date) is also on line {first}"
            )
        return (*cells[:7], award_date, ukprn)


def _unknown_uln(uln: str) -> str:
    return f"uln {uln}: there is no learner with this ULN (import the learner first)"


# --- Reading a file ---------------------------------------------------------------


def _valid_rows(
    records: Iterator[tuple[int, list[str]]],
    check: Callable[[int, list[str]], Values],
    summary: ImportSummary,
) -> Iterator[tuple[int, Values]]:
    for line, cells in records:
        try:
            yield line, check(line, cells)
        except _Rejected as exc:
            summary.reject(line, str(exc))


@contextmanager
def _checked_rows(
    path: str | Path,
    columns: Sequence[str],
    check: Callable[[int, list[str]], Values],
    summary: ImportSummary,
    on_progress: Progress | None,
) -> Iterator[Iterator[tuple[int, Values]]]:
    path = Path(path)
    with path.open("rb") as raw:
        records = csv_records(
            raw,
            columns,
            summary,
            on_progress=on_progress,
            bytes_total=path.stat().st_size,
        )
        yield _valid_rows(records, check, summary)


def _use_copy(use_copy: bool | None) -> bool:
    on_postgres = connection.vendor == "postgresql"
    if use_copy and not on_postgres:
        raise ValueError("COPY needs PostgreSQL")
    return on_postgres if use_copy is None else use_copy


T = TypeVar("T")


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- PostgreSQL: COPY into a staging table, then one upsert ---------------------


# The SQL below is built from the models' table and column names through
# quote_name (hence the noqa: S608 marks); every value is a parameter or COPY data.


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


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
    definition = ", ".join(f"{_q(name)} {kind}" for name, kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_q(table)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_q(table)} ({definition})")
        names = ", ".join(_q(name) for name, _ in columns)
        raw = cursor.connection.cursor()
        with raw, raw.copy(f"COPY {_q(table)} ({names}) FROM STDIN") as copy:
            # Written a few thousand rows at a time: one call per row costs more
            # than PostgreSQL takes to store the row.
            for batch in _batches(map(_copy_text, rows), 5000):
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
    return [_q(model._meta.get_field(name).column) for name in names]


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
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_q(constraint)}")
            rebuild.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {_q(constraint)} {constraint_sql}"
            )
        else:
            cursor.execute(f"DROP INDEX {_q(index)}")
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


def _learners_copy(rows: Iterator[tuple[int, Values]], summary: ImportSummary) -> None:
    """Rows checked in Python, COPYed into a staging table, then written."""
    stage = "records_learner_import"
    kinds = {"date_of_birth": "date", "gender": "smallint"}
    staged = _stage(
        stage,
        [(name, kinds.get(name, "text")) for name in LEARNER_COLUMNS],
        (values for _, values in rows),
    )
    source = (
        f"SELECT {', '.join(_q(n) for n in LEARNER_COLUMNS)} "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"FROM {_q(stage)} ORDER BY {_q('uln')}"
    )
    summary.added, summary.updated = _learners_write(source, staged)
    summary.unchanged = staged - summary.added - summary.updated
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{_q(stage)}")


def _learners_write(source: str, count: int) -> tuple[int, int]:
    """Write the learners a SELECT gives (LEARNER_COLUMNS in order, in ULN
    order, no ULN twice); how many were added and updated.

    In ULN order: the unique index on it grows at one end instead of at random
    pages (about a tenth quicker), and the table is laid out in the order a later
    reload's upsert visits it (bench/RESULTS.md: a reload of a table loaded in
    file order took more than twice as long)."""
    table = _q(Learner._meta.db_table)
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
            f"{insert} ON CONFLICT ({_q('uln')}) DO UPDATE SET "  # nosec B608 (quoted names, bound values)
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in [*changing, _q("updated_at")])
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


# --- PostgreSQL, learners: the file itself COPYed, the rows screened in SQL -----
#
# Reading and checking a million rows in Python takes several times as long as
# PostgreSQL takes to COPY the file. So a file PostgreSQL reads exactly as the
# csv module does is COPYed as it is into a staging table, and one SELECT
# through it (the screen) returns, in line order, only the rows that the quick
# check (_LearnerCheck.values) might not store exactly as they are: the others
# are printable ASCII with no space around a name, a valid ULN, names within
# their lengths, a real date of birth, a gender code, a postcode already in its
# usual form and a plain email address or none. The screen may turn away more
# than it needs to, never fewer: Python checks each row it returns (an accent, a
# postcode to tidy, a bad cell) and either stores it, tidied, or gives every
# reason. Repeated ULNs are found in SQL among the rows that passed, the first
# line kept, as the row-by-row path does.
#
# A file with a double quote anywhere (the csv module and PostgreSQL part ways
# over a quote inside a value, and a quoted value may hold a line break, which
# would break the line numbers), a line starting "\." (PostgreSQL's end of
# data), a blank line, a row of the wrong width or bytes that are not UTF-8
# makes PostgreSQL's COPY stop or is refused before it: nothing of the attempt
# is kept, and the file is read row by row instead.

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
    return f'{_q(name)} COLLATE "C"'


def _learner_screen(today: date) -> str:
    """SQL true for a staged row (cells as in the file) that _LearnerCheck.values
    would store exactly as it is. A cell with a space around it fails: the
    patterns are anchored, and a name is tested for one. The ULN's bytes are read
    only once it is ten digits, so no row can make the expression fail; a date of
    birth is one of the days from 1900 to today, written as Python writes them."""
    uln, email = _c("uln"), _c("email")
    weighted = " + ".join(
        f"{weight} * get_byte(CAST({_q('uln')} AS bytea), {place})"
        for place, weight in enumerate(_ULN_WEIGHTS)
    )
    days = (today - EARLIEST_DATE).days
    names = " || ',' || ".join(_q(name) for name in _NAMES)
    tests = [
        f'({names}) COLLATE "C" ~ {_literal(_ASCII_PRINTABLE)}',
        *(f"{_c(name)} NOT LIKE ' %' AND {_c(name)} NOT LIKE '% '" for name in _NAMES),
        *(
            f"char_length({_q(column)}) BETWEEN {int(required)} AND {limit}"
            for _, column, limit, required in _LEARNER_TEXT
        ),
        f"CASE WHEN octet_length({uln}) = 10 AND btrim({uln}, '0123456789') = '' "
        f"AND {uln} BETWEEN '1000000000' AND '9999999999' "
        f"AND {uln} <> {_literal(TEMPORARY_ULN)} "
        f"THEN ({weighted}) % 11 = 10 ELSE false END",
        f"{_c('date_of_birth')} IN (SELECT to_char("  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"DATE {_literal(EARLIEST_DATE.isoformat())} + day, 'YYYY-MM-DD') "
        f"FROM generate_series(0, {days}) AS day)",
        f"{_q('gender')} IN ({', '.join(map(_literal, _GENDERS))})",
        f"{_c('postcode')} ~ {_literal(f'^(?:{_NORMAL_POSTCODE.pattern})$')}",
        f"({email} = '' OR char_length({email}) <= {_EMAIL_MAX} "
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
    names = ", ".join(_q(name) for name in columns)
    lines = 0
    with connection.cursor() as cursor:
        copying = cursor.connection.cursor()
        with copying:
            with copying.copy(
                f"COPY {_q(stage)} ({names}) FROM STDIN "
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


def _learners_screened(
    path: str | Path,
    check: "_LearnerCheck",
    summary: ImportSummary,
    on_progress: Progress | None,
) -> bool:
    """Import through the SQL screen; False, with nothing done, when the file
    needs the row-by-row reader (see above)."""
    text = ", ".join(f"{_q(name)} text" for name in LEARNER_COLUMNS)
    with Path(path).open("rb") as raw:
        try:
            columns = _file_columns(raw)  # CsvFormatError: nothing is written
            raw.seek(0)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"DROP TABLE IF EXISTS pg_temp.{_q(_STAGE)}, pg_temp.{_q(_CHECKED)}"
                )
                # The import's one big sort (the rows in ULN order) in memory.
                cursor.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {_q(_STAGE)} "
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
    fields = ", ".join(_q(name) for name in LEARNER_COLUMNS)
    passed = (
        f"SELECT n, {fields} FROM {_q(_STAGE)} s WHERE NOT EXISTS "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"(SELECT FROM {_q(_CHECKED)} c WHERE c.n = s.n) "
        f"UNION ALL SELECT n, {fields} FROM {_q(_CHECKED)} WHERE stored"
    )
    # Sorted by bytes (the same order for ULNs, quicker than the collation's).
    source = (
        'SELECT DISTINCT ON (uln COLLATE "C") uln, '  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"{', '.join(map(_q, _NAMES))}, CAST(date_of_birth AS date), "
        "CAST(gender AS smallint), postcode, email "
        f'FROM ({passed}) AS passed ORDER BY uln COLLATE "C", n'
    )
    summary.added, summary.updated = _learners_write(source, accepted)
    # Every passing row written: no ULN was on two of them.
    written_all = summary.added + summary.updated == accepted
    repeats = [] if written_all else _repeated_lines(passed)
    summary.unchanged = accepted - len(repeats) - summary.added - summary.updated
    for line, reason in heapq.merge(rejected, repeats):
        summary.reject(line, reason)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{_q(_STAGE)}, pg_temp.{_q(_CHECKED)}")
    return True


def _screened_out_check(check: "_LearnerCheck") -> list[tuple[int, str]]:
    """Check in Python, in line order, every row the screen turns away: COPY
    each into the checked table, with its values tidied when it is stored, and
    return the lines and reasons of those it is not. The header is line 1 and
    the nth row line n + 1 (no value holds a line break: the file has no
    quotes). The rows come through a server-side cursor, some thousands at a
    time."""
    fields = ", ".join(_q(name) for name in LEARNER_COLUMNS)
    screen = _learner_screen(check.dates.latest)
    field_limit = csv.field_size_limit()
    rejected: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_q(_CHECKED)} (n bigint, stored boolean, "
            + ", ".join(f"{_q(name)} text" for name in LEARNER_COLUMNS)
            + ")"
        )
        with (
            cursor.connection.cursor(name="records_learner_screened") as turned,
            cursor.connection.cursor() as writing,
        ):
            turned.itersize = SCREENED_OUT_BATCH
            turned.execute(
                f"SELECT n, {fields} FROM {_q(_STAGE)} "  # noqa: S608 # nosec B608 (quoted names, bound values)
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
                    except _Rejected as exc:
                        rejected.append((n + 1, str(exc)))
                        checked.append((n, False, *[None] * len(cells)))
                    else:
                        checked.append((n, True, *map(str, values)))
                with writing.copy(f"COPY {_q(_CHECKED)} FROM STDIN") as copy:
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


def _achievements_copy(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary
) -> None:
    stage = "records_achievement_import"
    columns = [("line", "integer")]
    columns += [
        (n, "date" if n == "award_date" else "text") for n in ACHIEVEMENT_COLUMNS
    ]
    staged = _stage(stage, columns, ((line, *values) for line, values in rows))
    learners = _q(Learner._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_q(stage)}")
        cursor.execute(
            f"SELECT s.line, s.uln FROM {_q(stage)} s WHERE NOT EXISTS "  # noqa: S608 # nosec B608 (quoted names, bound values)
            f"(SELECT 1 FROM {learners} l WHERE l.uln = s.uln) ORDER BY s.line"
        )
        unknown = cursor.fetchall()
    for line, uln in unknown:
        summary.reject(line, _unknown_uln(uln))
    key = _columns(Achievement, ["learner", *ACHIEVEMENT_KEY])
    details = _columns(Achievement, ACHIEVEMENT_DETAILS)
    source = [f"s.{_q(n)}" for n in (*ACHIEVEMENT_KEY, *ACHIEVEMENT_DETAILS)]
    sql = (
        f"INSERT INTO {_q(Achievement._meta.db_table)} AS t "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"({', '.join(key + details)}) "
        f"SELECT l.id, {', '.join(source)} FROM {_q(stage)} s "
        f"JOIN {learners} l ON l.uln = s.uln "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in details)
        + f" WHERE ({', '.join(f't.{c}' for c in details)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in details)})"
    )
    summary.added, summary.updated = _upsert(sql, [])
    summary.unchanged = staged - len(unknown) - summary.added - summary.updated
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{_q(stage)}")


# --- Elsewhere: compare and write in batches ----------------------------------------


def _learners_batches(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary, size: int
) -> None:
    now = timezone.now()
    fields = [*LEARNER_COLUMNS[1:], "updated_at"]
    for batch in _batches(rows, size):
        by_uln = {values[0]: values for _, values in batch}
        held = {
            row[0]: row
            for row in Learner.objects.filter(uln__in=by_uln)
            .order_by()
            .values_list(*LEARNER_COLUMNS)
        }
        changed = []
        for uln, values in by_uln.items():
            old = held.get(uln)
            if old == values:
                summary.unchanged += 1
                continue
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            learner = Learner(**dict(zip(LEARNER_COLUMNS, values, strict=True)))
            learner.updated_at = now
            changed.append(learner)
        Learner.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["uln"], update_fields=fields
        )


def _achievements_batches(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary, size: int
) -> None:
    for batch in _batches(rows, size):
        ids = dict(
            Learner.objects.filter(uln__in={values[0] for _, values in batch})
            .order_by()
            .values_list("uln", "id")
        )
        held = {
            row[:4]: row[4:]
            for row in Achievement.objects.filter(learner_id__in=ids.values())
            .order_by()
            .values_list("learner_id", *ACHIEVEMENT_KEY, *ACHIEVEMENT_DETAILS)
        }
        changed = []
        for line, values in batch:
            learner_id = ids.get(values[0])
            if learner_id is None:
                summary.reject(line, _unknown_uln(values[0]))
                continue
            fields = dict(zip(ACHIEVEMENT_COLUMNS[1:], values[1:], strict=True))
            old = held.get((learner_id, *(fields[n] for n in ACHIEVEMENT_KEY)))
            if old == tuple(fields[n] for n in ACHIEVEMENT_DETAILS):
                summary.unchanged += 1
                continue
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            changed.append(Achievement(learner_id=learner_id, **fields))
        Achievement.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["learner", *ACHIEVEMENT_KEY],
            update_fields=ACHIEVEMENT_DETAILS,
        )


# --- The services ------------------------------------------------------------------


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
    check = _LearnerCheck(timezone.localdate())
    copy = _use_copy(use_copy)
    with transaction.atomic():
        if copy and _learners_screened(path, check, summary, on_progress):
            return summary
        with _checked_rows(path, LEARNER_COLUMNS, check, summary, on_progress) as rows:
            if copy:
                _learners_copy(rows, summary)
            else:
                _learners_batches(rows, summary, batch_size or BATCH_SIZE)
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
    check = _AchievementCheck(timezone.localdate())
    with (
        _checked_rows(path, ACHIEVEMENT_COLUMNS, check, summary, on_progress) as rows,
        transaction.atomic(),
    ):
        if _use_copy(use_copy):
            _achievements_copy(rows, summary)
        else:
            _achievements_batches(rows, summary, batch_size or BATCH_SIZE)
    return summary
