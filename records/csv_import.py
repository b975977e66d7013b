"""What the streaming CSV imports share: reading records with their line numbers,
checking the header, counting what happened, a progress bar and the summary.

It follows registration/ico/register.py and its import_ico_register command;
registration cannot import from records (architecture.md), so moving this module to
lrs_portal would let the ICO import share it too.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
)

# Every rejected row is counted and passed to on_reject; only this many are kept
# on the summary (a wrong file would otherwise hold a million reasons in memory).
MAX_KEPT_REJECTIONS = 1000


class CsvFormatError(Exception):
    """The file is not the CSV the import expects; nothing was imported."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"


@dataclass
class ImportSummary:
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[RejectedRow] = field(default_factory=list)
    on_reject: Callable[[RejectedRow], None] | None = field(
        default=None, repr=False, compare=False
    )

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        row = RejectedRow(line, reason)
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(row)
        if self.on_reject is not None:
            self.on_reject(row)


@dataclass(frozen=True)
class ImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int
    read_all: bool = False  # the file is read; the last rows are being written


def show(value: str) -> str:
    """A cell quoted for a message, cut short if long."""
    return '"' + (value if len(value) <= 40 else value[:40] + "…") + '"'


def column_order(header: Sequence[str] | None, columns: Sequence[str]) -> list[int]:
    """Where each expected column is in the file's header (ignoring case and
    spaces); CsvFormatError names the missing and unexpected ones."""
    if not header:
        raise CsvFormatError(
            "The file is empty: it has no header row. Expected the columns "
            f"{','.join(columns)}. Nothing was imported."
        )
    names = [name.strip().casefold() for name in header]
    missing = [column for column in columns if column not in names]
    unexpected = [name for name in names if name and name not in columns]
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected columns: {', '.join(unexpected)}")
        raise CsvFormatError(
            f"The header row is wrong ({'; '.join(problems)}). Expected "
            f"{','.join(columns)}. Nothing was imported."
        )
    return [names.index(column) for column in columns]


def csv_records(
    raw: BinaryIO,
    columns: Sequence[str],
    summary: ImportSummary,
    *,
    on_progress: Callable[[ImportProgress], None] | None = None,
    bytes_total: int = 0,
) -> Iterator[tuple[int, list[str]]]:
    """Each record of a UTF-8 CSV with the line it starts on, its cells stripped
    and in the order of ``columns``. The header is checked now, before any row is
    read (CsvFormatError); records that cannot be read are rejected, blank lines
    skipped."""
    # utf-8-sig drops a byte order mark; newline="" lets csv handle CRLF and line
    # breaks inside quoted fields; an undecodable byte becomes U+FFFD, which the
    # row check then rejects rather than stopping the whole import.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvFormatError(f"The header row cannot be read ({exc}).") from None
    order = column_order(header, columns)

    def progress(bytes_read: int, read_all: bool = False) -> None:
        if on_progress is not None:
            rows = summary.rows_read
            on_progress(ImportProgress(rows, bytes_read, bytes_total, read_all))

    def records() -> Iterator[tuple[int, list[str]]]:
        in_order = order == list(range(len(columns)))
        width = len(columns)
        line = reader.line_num
        while True:
            try:
                for cells in reader:
                    start, line = line + 1, reader.line_num
                    if not cells:
                        continue
                    summary.rows_read += 1
                    if summary.rows_read % 10_000 == 0:
                        progress(raw.tell())
                    if len(cells) != width:
                        summary.reject(
                            start, f"has {len(cells)} values, expected {width}"
                        )
                        continue
                    if not in_order:
                        cells = [cells[i] for i in order]
                    yield start, list(map(str.strip, cells))
                break
            except csv.Error as exc:
                start, line = line + 1, reader.line_num
                summary.rows_read += 1
                summary.reject(start, f"unreadable CSV ({exc})")
        progress(bytes_total, read_all=True)

    return records()


def text_problem(cells: Sequence[str]) -> str | None:
    """Why a row's text cannot be stored as it is, if it cannot."""
    joined = "".join(cells)
    if "\ufffd" in joined:
        return "is not UTF-8 text"
    if not joined.isprintable():
        return "contains a line break, tab or other control character"
    return None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EARLIEST_DATE = date(1900, 1, 1)


class DateParser:
    """yyyy-mm-dd cells to dates, remembered: a file of a million learners
    holds only some tens of thousands of different dates."""

    def __init__(self, *, latest: date) -> None:
        self.latest = latest
        self.known: dict[str, date] = {}

    def __call__(self, column: str, value: str) -> date | str:
        """The date, or why the cell is not an acceptable one."""
        known = self.known.get(value)
        if known is not None:
            return known
        if not _ISO_DATE.fullmatch(value):
            if not value:
                return f"{column} is missing"
            return f"{column} {show(value)} is not a date like 2007-05-14"
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            return f"{column} {show(value)} is not a real date"
        if parsed > self.latest:
            return f"{column} {value} is in the future"
        if parsed < EARLIEST_DATE:
            return f"{column} {value} is before 1900"
        self.known[value] = parsed
        return parsed


# --- The command's side ------------------------------------------------------


def summary_lines(summary: ImportSummary) -> list[str]:
    return [
        f"Rows read: {summary.rows_read:,}",
        f"Added: {summary.added:,}",
        f"Updated: {summary.updated:,}",
        f"Unchanged: {summary.unchanged:,}",
        f"Rejected: {summary.rejected:,}",
    ]


class ProgressBar:
    """A bar redrawn in place on a terminal; in a log, a line every 10%.
    Messages written through it (rejected rows) appear above the bar."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.shown = -1
        self.text = ""

    def update(self, progress: ImportProgress) -> None:
        percent = 100 * progress.bytes_read // max(progress.bytes_total, 1)
        step = percent if self.interactive else percent // 10 * 10
        if step == self.shown and not progress.read_all:
            return
        self.shown = step
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.text = f"[{bar}] {percent:3d}%  {progress.rows_read:,} rows"
        if progress.read_all:
            # Writing the last rows (on PostgreSQL, the one upsert) takes a while.
            self.text += " read, saving…"
        # Plain text: stderr is styled as errors by default, and this is not one.
        if self.interactive:
            self.stream.write("\r\x1b[K" + self.text, style_func=str, ending="")
        else:
            self.stream.write(self.text, style_func=str)

    def message(self, text: str) -> None:
        if self.interactive and self.text:
            # Clear the bar's line, write the message, draw the bar again below.
            self.stream.write("\r\x1b[K" + text, style_func=str)
            self.stream.write(self.text, style_func=str, ending="")
        else:
            self.stream.write(text, style_func=str)

    def finish(self) -> None:
        if self.interactive and self.shown >= 0:
            self.stream.write("")


class CsvImportCommand(BaseCommand):
    """An import command: a progress bar and each rejected row on stderr, the
    summary on stdout, and a non-zero exit when any row was rejected."""

    # The service: called with path, batch_size, on_progress and on_reject.
    service: Callable[..., ImportSummary]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The CSV file")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows compared and written together when not using COPY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No file at {path}")
        bar = ProgressBar(self.stderr)
        try:
            summary = self.service(
                path=path,
                batch_size=options["batch_size"],
                on_progress=bar.update,
                on_reject=lambda row: bar.message(str(row)),
            )
        except CsvFormatError as exc:
            raise CommandError(str(exc)) from exc
        bar.finish()
        self.stdout.write("\n".join(summary_lines(summary)))
        if summary.rejected:
            rows = (
                "1 row was"
                if summary.rejected == 1
                else f"{summary.rejected:,} rows were"
            )
            raise CommandError(
                f"{rows} rejected (each is listed above with its line and reason); "
                "the other rows were imported."
            )
