"""Reading a batch file: a CSV of learners to find (issue 12).

A file that cannot be read as one (not CSV, not UTF-8, the wrong header, empty,
too many rows) is refused whole with a message saying what to change; a line
that can be read but is not a search the pages would run (a ULN with a wrong
check digit, an impossible date) becomes that line's error, in the pages' words
(records.uln, records.forms), and is never searched.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django import forms

from records.forms import learner_name, learner_postcode, real_past_date
from records.uln import uln_problem

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
REFERENCE_MAX = 100
ERROR_MAX = 200
ULN_COLUMNS = ("uln",)
DEMOGRAPHIC_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "postcode",
)
REFERENCE = "reference"
GENDERS = {"0": 0, "1": 1, "2": 2, "9": 9}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_HEADER_HELP = (
    "The first line of the file must name its columns: either uln, or "
    "given_name, family_name, date_of_birth, gender and postcode; and reference "
    "if you want one"
)


class BatchFileRefused(ValueError):
    """A file refused whole: nothing is stored or searched."""


@dataclass
class BatchLine:
    """One line of the file: what to search for, or why it cannot be searched."""

    line: int
    reference: str = ""
    uln: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    gender: int | None = None
    postcode: str = ""
    error: str = ""


@dataclass
class BatchFile:
    kind: str  # "uln" or "demographics" (records.models.Batch.Kind)
    lines: list[BatchLine] = field(default_factory=list)

    @property
    def searchable(self) -> int:
        return sum(1 for line in self.lines if not line.error)


def _text(data: bytes) -> str:
    if not data.strip():
        raise BatchFileRefused("The selected file is empty")
    if len(data) > MAX_BYTES:
        raise BatchFileRefused("The selected file must be smaller than 5MB")
    if b"\x00" in data:
        raise BatchFileRefused(
            "The selected file must be a CSV file (a spreadsheet saved as CSV)"
        )
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise BatchFileRefused(
            "The selected file must be saved as UTF-8 (in Excel: Save as, CSV UTF-8)"
        ) from None


def _kind(header: list[str]) -> str:
    names = [cell.strip().lower() for cell in header]
    if len(set(names)) != len(names):
        raise BatchFileRefused(f"{_HEADER_HELP}. A column is named twice")
    wanted = set(names) - {REFERENCE}
    if wanted == set(ULN_COLUMNS):
        return "uln"
    if wanted == set(DEMOGRAPHIC_COLUMNS):
        return "demographics"
    unknown = sorted(wanted - set(ULN_COLUMNS) - set(DEMOGRAPHIC_COLUMNS))
    if unknown:
        named = unknown[0][:40] or "(blank)"
        raise BatchFileRefused(f"{_HEADER_HELP}. The file has a column “{named}”")
    raise BatchFileRefused(_HEADER_HELP)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield line, record
            line = reader.line_num + 1
    except csv.Error:
        raise BatchFileRefused(
            f"The selected file must be a CSV file: line {line} cannot be read"
        ) from None


def batch_file_read(data: bytes) -> BatchFile:
    """The file's lines, each with its search or its error; BatchFileRefused
    when the file cannot be read as a batch at all."""
    records = _records(_text(data))
    first = next(records, None)
    if first is None:
        raise BatchFileRefused("The selected file is empty")
    header = [cell.strip().lower() for cell in first[1]]
    parsed = BatchFile(kind=_kind(header))
    for line, record in records:
        if len(parsed.lines) == MAX_ROWS:
            raise BatchFileRefused(
                f"The selected file must have at most {MAX_ROWS:,} learners: "
                "split it into smaller files"
            )
        parsed.lines.append(_line(line, header, record, parsed.kind))
    if not parsed.lines:
        raise BatchFileRefused(
            "The selected file has no learners in it: add one line for each "
            "learner under the column names"
        )
    return parsed


def _line(line: int, header: list[str], record: list[str], kind: str) -> BatchLine:
    if len(record) != len(header):
        return BatchLine(
            line=line,
            error=f"This line has {len(record)} values but the first line names "
            f"{len(header)} columns",
        )
    cells = dict(zip(header, (cell.strip() for cell in record), strict=True))
    parsed = BatchLine(line=line, reference=cells.get(REFERENCE, ""))
    problems = []
    if len(parsed.reference) > REFERENCE_MAX:
        parsed.reference = ""
        problems.append(f"Reference must be {REFERENCE_MAX} characters or less")
    if kind == "uln":
        problems += _uln(parsed, cells["uln"])
    else:
        problems += _demographics(parsed, cells)
    parsed.error = ". ".join(problems)[:ERROR_MAX]
    if parsed.error:  # nothing of a line that will not be searched is kept
        parsed.uln = parsed.given_name = parsed.family_name = parsed.postcode = ""
        parsed.date_of_birth = parsed.gender = None
    return parsed


def _uln(parsed: BatchLine, value: str) -> list[str]:
    uln = re.sub(r"[\s-]", "", value)  # as the page takes "927 630 8686"
    problem = uln_problem(uln)
    if problem:
        return [problem]
    parsed.uln = uln
    return []


def _demographics(parsed: BatchLine, cells: dict[str, str]) -> list[str]:
    problems = []
    for name, label in (("given_name", "Given name"), ("family_name", "Family name")):
        try:
            setattr(parsed, name, learner_name(label, cells[name]))
        except forms.ValidationError as error:
            problems.append(error.messages[0])
    try:
        parsed.date_of_birth = _date_of_birth(cells["date_of_birth"])
    except forms.ValidationError as error:
        problems.append(error.messages[0])
    parsed.gender = GENDERS.get(cells["gender"])
    if parsed.gender is None:
        problems.append(
            "Enter the learner's gender"
            if not cells["gender"]
            else "Gender must be 0 (not known), 1 (male), 2 (female) or 9 "
            "(not specified)"
        )
    try:
        parsed.postcode = _postcode(cells["postcode"])
    except forms.ValidationError as error:
        problems.append(error.messages[0])
    return problems


def _date_of_birth(value: str) -> date:
    if not value:
        raise forms.ValidationError("Enter the learner's date of birth")
    found = _ISO_DATE.fullmatch(value)
    if found is None:
        raise forms.ValidationError(
            "Date of birth must be a real date written year-month-day, like 2007-05-14"
        )
    year, month, day = found.groups()
    return real_past_date("Date of birth", (day, month, year))


def _postcode(value: str) -> str:
    if not value:
        raise forms.ValidationError("Enter the learner's postcode")
    if len(value) > 16:  # the page's box takes no more
        raise forms.ValidationError("Enter a real postcode")
    return learner_postcode(value)
