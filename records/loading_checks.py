"""The learner and achievement files' columns, and the checks of their cells.

A row's cells become the values stored, or Rejected with every reason (line and
reason reach the import's summary). The quick checks (uln_valid, the patterns)
decide most rows; anything they doubt gets the full check. Also the file read
row by row through the checks (checked_rows) and the batches helper. Used by
every path of the import (records.loading): the SQL screen, the COPY and the
batches.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import islice
from operator import mul
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from records.csv_import import (
    DateParser,
    ImportProgress,
    ImportSummary,
    RejectedRow,
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
Values = tuple[Any, ...]
Progress = Callable[[ImportProgress], None]
Reject = Callable[[RejectedRow], None]


class Rejected(Exception):
    """One row cannot be imported (the message says why)."""


# --- Checking cells -------------------------------------------------------------

_ULN_SHAPE = re.compile(r"[1-9][0-9]{9}")
ULN_WEIGHTS = range(10, 0, -1)


def uln_valid(uln: str) -> bool:
    # uln_problem's rule at a fraction of its cost (tests/records/test_uln.py checks
    # they agree). The digits' ASCII codes add 48 x 55 = 2640 = 11 x 240 to the
    # weighted sum, which leaves it unchanged mod 11.
    return (
        _ULN_SHAPE.fullmatch(uln) is not None
        and uln != TEMPORARY_ULN
        and sum(map(mul, uln.encode(), ULN_WEIGHTS)) % 11 == 10
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
NORMAL_POSTCODE = re.compile(rf"GIR 0AA|{_OUTWARD} {_INWARD}|BFPO [0-9]{{1,4}}")


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


GENDERS = {str(code): code for code in Learner.Gender.values}
_GENDER_CHOICES = ", ".join(f"{c.value} ({c.label.lower()})" for c in Learner.Gender)
LEARNER_TEXT = _text_checks(
    Learner,
    LEARNER_COLUMNS,
    ("given_name", "middle_names", "family_name", "previous_family_name"),
    {"given_name", "family_name"},
)
_GIVEN_MAX, _MIDDLE_MAX, _FAMILY_MAX, _PREVIOUS_MAX = (c[2] for c in LEARNER_TEXT)
EMAIL_MAX = _max_lengths(Learner, ["email"])["email"]
_is_email = EmailValidator()
# EmailValidator's own patterns, compiled here: its lazy ones cost more to reach
# than to match. A match is only a shortcut; anything else goes to the validator.
_EMAIL_USER = re.compile(_is_email.user_regex.pattern, _is_email.user_regex.flags)
_EMAIL_DOMAIN = re.compile(_is_email.domain_regex.pattern, _is_email.domain_regex.flags)


def _email_valid(email: str) -> bool:
    user, _, domain = email.rpartition("@")
    return (
        len(email) <= EMAIL_MAX
        and _EMAIL_USER.match(user) is not None
        and _EMAIL_DOMAIN.match(domain) is not None
    )


def _email_problem(email: str) -> str | None:
    if len(email) > EMAIL_MAX:
        return f"email is {len(email)} characters long; the most is {EMAIL_MAX}"
    try:
        _is_email(email)
    except ValidationError:
        return f"email {show(email)} is not an email address"
    return None


def _row_problems(
    cells: Sequence[str],
    text: Sequence[tuple[int, str, int, bool]],
    dates: DateParser,
    column: str,
    cell: str,
) -> tuple[list[str], date | str]:
    """What every file's row is checked for, in the order its reasons are given:
    the ULN (the first cell), the characters, the text cells' lengths and the
    row's one date; the reasons, and the date (or its reason)."""
    problems: list[str] = []
    if not uln_valid(cells[0]):
        problems.append(_uln_reason(cells[0]))
    if (problem := text_problem(cells)) is not None:
        problems.append(problem)
    _text_problems(problems, text, cells)
    parsed = dates(column, cell)
    if isinstance(parsed, str):
        problems.append(parsed)
    return problems, parsed


class LearnerCheck:
    """A learner row's cells to the values stored, or Rejected with every reason."""

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
        code = GENDERS.get(gender)
        if (
            date_of_birth is None
            or code is None
            or not uln_valid(uln)
            or not given
            or not family
            or len(given) > _GIVEN_MAX
            or len(middle) > _MIDDLE_MAX
            or len(family) > _FAMILY_MAX
            or len(previous) > _PREVIOUS_MAX
            or NORMAL_POSTCODE.fullmatch(postcode) is None
            or (email and not _email_valid(email))
            or text_problem(cells) is not None
        ):
            return self._checked(cells)
        values = (uln, given, middle, family, previous, date_of_birth, code)
        return (*values, postcode, email)

    def _checked(self, cells: list[str]) -> Values:
        uln, given, middle, family, previous, born, gender, postcode, email = cells
        problems, date_of_birth = _row_problems(
            cells, LEARNER_TEXT, self.dates, "date_of_birth", born
        )
        code = GENDERS.get(gender)
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
            raise Rejected("; ".join(problems))
        values = (uln, given, middle, family, previous, date_of_birth, code)
        return (*values, normalised, email)

    def _once(self, line: int, values: Values) -> Values:
        first = self.first_line.setdefault(int(values[0]), line)
        if first != line:
            raise Rejected(f"uln {values[0]} is repeated: it is also on line {first}")
        return values


_ACHIEVEMENT_TEXT = _text_checks(
    Achievement,
    ACHIEVEMENT_COLUMNS,
    (*ACHIEVEMENT_COLUMNS[1:7], "awarding_provider_ukprn"),
    {"awarding_organisation", "qualification_title", "qualification_type"}
    | {"level", "subject"},
)
_UKPRN = re.compile(r"[1-9][0-9]{7}")


class AchievementCheck:
    """An achievement row's cells to the values stored, or Rejected."""

    def __init__(self, today: date) -> None:
        self.dates = DateParser(latest=today)
        # The natural key -> the line it was first on. The ULN is kept exactly and
        # the rest hashed: a collision needs two of one learner's achievements to
        # share a 64-bit hash.
        self.first_line: dict[int, int] = {}

    def __call__(self, line: int, cells: list[str]) -> Values:
        uln, organisation, title, _, _, _, _, awarded, ukprn = cells
        problems, award_date = _row_problems(
            cells, _ACHIEVEMENT_TEXT, self.dates, "award_date", awarded
        )
        if ukprn and not _UKPRN.fullmatch(ukprn):
            problems.append(
                f"awarding_provider_ukprn {show(ukprn)} is not a UKPRN "
                "(8 digits, 10000000 to 99999999)"
            )
        if problems:
            raise Rejected("; ".join(problems))
        key = int(uln) << 64 | hash((organisation, title, award_date)) & (2**64 - 1)
        first = self.first_line.setdefault(key, line)
        if first != line:
            raise Rejected(
                f"the same achievement (uln, awarding_organisation, "
                f"qualification_title, award_date) is also on line {first}"
            )
        return (*cells[:7], award_date, ukprn)


def unknown_uln(uln: str) -> str:
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
        except Rejected as exc:
            summary.reject(line, str(exc))


@contextmanager
def checked_rows(
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


T = TypeVar("T")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
