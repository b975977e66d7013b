"""Importing the ICO register into IcoRegistration rows.

The register is a daily CSV of about 1.3M rows, so the import streams it and writes
in batches: per batch, one query reads the rows already held and one upsert (more
on SQLite, which limits query parameters) writes those that are new or changed.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registration.models import IcoRegistration
from registration.validators import normalise_ico_number, validate_ico_number

NUMBER = "Registration_number"
NAME = "Organisation_name"
START = "Start_date_of_registration"
END = "End_date_of_registration"
REQUIRED_COLUMNS = (NUMBER, NAME, START, END)
ADDRESS_COLUMNS = tuple(f"Organisation_address_line_{n}" for n in range(1, 6))
OPTIONAL_COLUMNS = (
    *ADDRESS_COLUMNS,
    "Organisation_postcode",
    "Public_authority",
    "Trading_names",
    "Payment_tier",
)
# What an import writes; a row whose values all match these is left alone.
FIELDS = (
    "organisation_name",
    "address",
    "postcode",
    "trading_names",
    "public_authority",
    "payment_tier",
    "start_date",
    "end_date",
)
# Every rejected row is counted; only this many are listed (a wrong file would
# otherwise list a million lines).
MAX_LISTED_REJECTIONS = 1000


class IcoRegisterFormatError(Exception):
    """The file is not the ICO register CSV; nothing was imported."""


class _Rejected(Exception):
    """One row cannot be imported (the message says why)."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class IcoImportSummary:
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # Why registrations missing from the file were not marked removed, if not.
    removal_skipped: str = ""
    rejected: int = 0
    rejections: list[RejectedRow] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED_REJECTIONS:
            self.rejections.append(RejectedRow(line, reason))


@dataclass(frozen=True)
class IcoImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int


# --- Reading rows -------------------------------------------------------------


def shown(value: str) -> str:
    return '"' + (value if len(value) <= 40 else value[:40] + "…") + '"'


def _columns(fieldnames: list[str] | None) -> dict[str, str]:
    """Our column name -> the file's header for it (ignoring case and spaces)."""
    if not fieldnames:
        raise IcoRegisterFormatError(
            "The file is empty: it has no header row. Expected the ICO register CSV "
            f"with the columns {', '.join(REQUIRED_COLUMNS)}."
        )
    headers = {name.strip().casefold(): name for name in fieldnames if name}
    found = {
        column: headers[column.casefold()]
        for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if column.casefold() in headers
    }
    missing = [column for column in REQUIRED_COLUMNS if column not in found]
    if missing:
        raise IcoRegisterFormatError(
            f"The file is missing required columns: {', '.join(missing)}. Nothing "
            "was imported. Is it the ICO register of data controllers CSV?"
        )
    return found


_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Some exports add a midnight time to each date.
_TIME = re.compile(r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$")


def _register_date(value: str, column: str) -> date | None:
    """dd/mm/yyyy or yyyy-mm-dd; empty is None."""
    if not value:
        return None
    text = _TIME.sub("", value)
    if match := _DMY.fullmatch(text):
        day, month, year = match.groups()
    elif match := _YMD.fullmatch(text):
        year, month, day = match.groups()
    else:
        raise _Rejected(f"{column} {shown(value)} is not a date like 31/12/2025")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _Rejected(f"{column} {shown(value)} is not a real date") from None


def _fit(field_name: str, value: str) -> str:
    # Over-long optional values are cut rather than the whole registration refused:
    # the number, name and dates are what the checks need.
    limit = getattr(IcoRegistration._meta.get_field(field_name), "max_length", None)
    return value[:limit] if limit else value


def _trading_names(value: str) -> str:
    # Stored one per line, as Organisation.trading_names is. The register's own
    # separator is not documented; ";" and "|" are both seen in exports.
    names = (name.strip() for name in re.split(r"[;|\r\n]+", value))
    return "\n".join(name for name in names if name)


def _parse_row(
    row: dict[str, str | None], columns: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    def cell(column: str) -> str:
        return (row.get(columns.get(column, "")) or "").strip()

    number = normalise_ico_number(cell(NUMBER))
    try:
        validate_ico_number(number)
    except ValidationError:
        raise _Rejected(f"bad registration number {shown(cell(NUMBER))}") from None
    name = cell(NAME)
    if not name:
        raise _Rejected("no organisation name")
    start, end = _register_date(cell(START), START), _register_date(cell(END), END)
    if start and end and end < start:
        raise _Rejected(f"{END} is before {START}")
    address = "\n".join(line for line in map(cell, ADDRESS_COLUMNS) if line)
    return number, {
        "organisation_name": _fit("organisation_name", name),
        "address": address,
        "postcode": _fit("postcode", cell("Organisation_postcode")),
        "trading_names": _trading_names(cell("Trading_names")),
        "public_authority": cell("Public_authority").upper() in {"Y", "YES", "TRUE"},
        "payment_tier": _fit("payment_tier", cell("Payment_tier")),
        "start_date": start,
        "end_date": end,
    }


class _SeenNumbers:
    """Registration numbers met so far in a file, one bit each: a set of 1.3M
    strings would take over 100 MB, this takes 6 MB."""

    # Z1234567 -> 0..; ZA123456..ZZ999999 -> 10M + letter * 1M + n; C1234567 -> 36M + n.
    SIZE = 46_000_000

    def __init__(self) -> None:
        self.bits = bytearray(self.SIZE // 8 + 1)

    def add(self, number: str) -> bool:
        """Record a valid number; False if it was already recorded."""
        byte, mask = self._position(number)
        if self.bits[byte] & mask:
            return False
        self.bits[byte] |= mask
        return True

    def has(self, number: str) -> bool:
        """Whether the number was recorded (a stored one in any valid form)."""
        try:
            byte, mask = self._position(number)
        except (IndexError, ValueError):
            return False
        return bool(self.bits[byte] & mask)

    @staticmethod
    def _position(number: str) -> tuple[int, int]:
        if number[0] == "C":
            index = 36_000_000 + int(number[1:])
        elif number[1].isdigit():
            index = int(number[1:])
        else:
            index = 10_000_000 + (ord(number[1]) - ord("A")) * 1_000_000
            index += int(number[2:])
        return index // 8, 1 << (index % 8)


# --- Writing batches ----------------------------------------------------------


def _upsert(
    batch: dict[str, dict[str, Any]],
    *,
    imported_at: datetime,
    summary: IcoImportSummary,
) -> None:
    with transaction.atomic():
        held = {
            row["registration_number"]: row
            for row in IcoRegistration.objects.filter(
                registration_number__in=batch
            ).values("registration_number", "removed_at", *FIELDS)
        }
        changed = []
        for number, values in batch.items():
            old = held.get(number)
            if (
                old is not None
                and old["removed_at"] is None
                and all(old[f] == values[f] for f in FIELDS)
            ):
                summary.unchanged += 1
                continue
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            changed.append(
                IcoRegistration(
                    registration_number=number, imported_at=imported_at, **values
                )
            )
        IcoRegistration.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["registration_number"],
            # Listed again: no longer removed (removed_at defaults to None).
            update_fields=[*FIELDS, "imported_at", "removed_at"],
        )


def _mark_removed(
    seen: "_SeenNumbers", *, imported_at: datetime, summary: IcoImportSummary
) -> None:
    """Mark every registration a complete file no longer lists as removed, so
    re-verification notices it (a lapsed fee payer leaves the register)."""
    gone = [
        pk
        for pk, number in IcoRegistration.objects.filter(
            removed_at__isnull=True, imported_at__lt=imported_at
        )
        .values_list("pk", "registration_number")
        .iterator(chunk_size=10_000)
        if not seen.has(number)
    ]
    for start in range(0, len(gone), 10_000):
        IcoRegistration.objects.filter(pk__in=gone[start : start + 10_000]).update(
            removed_at=imported_at
        )
    summary.removed = len(gone)


def _rows(
    reader: "csv.DictReader[str]", summary: IcoImportSummary
) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Each record with the line it starts on; unreadable records are rejected."""
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            summary.rows_read += 1
            summary.reject(start, f"unreadable CSV ({exc})")
            continue
        finally:
            line = reader.line_num
        summary.rows_read += 1
        yield start, row


def ico_register_import(
    *,
    path: str | Path,
    batch_size: int | None = None,
    on_progress: Callable[[IcoImportProgress], None] | None = None,
    complete: bool = False,
) -> IcoImportSummary:
    """Add and update IcoRegistration rows from the ICO register CSV.

    Rows that cannot be read are counted and reported, never imported; importing
    the same file again adds and updates nothing. A file without the required
    columns raises IcoRegisterFormatError before anything is written. A complete
    file (the whole register) with no rejected row also marks every registration
    it no longer lists as removed; with a rejected row it marks none, since the
    row it could not read may be one of them."""
    path = Path(path)
    batch_size = batch_size or settings.ICO_IMPORT_BATCH_SIZE
    total = path.stat().st_size
    summary = IcoImportSummary()
    imported_at = timezone.now()
    seen = _SeenNumbers()
    batch: dict[str, dict[str, Any]] = {}
    # utf-8-sig drops a byte order mark; newline="" lets csv handle CRLF and line
    # breaks inside quoted fields; a stray undecodable byte must not stop the import.
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.DictReader(text)
        columns = _columns(list(reader.fieldnames or []))

        for line, row in _rows(reader, summary):
            try:
                number, values = _parse_row(row, columns)
                if not seen.add(number):
                    raise _Rejected(f"registration number {number} is repeated")
            except _Rejected as exc:
                summary.reject(line, str(exc))
                continue
            batch[number] = values
            if len(batch) >= batch_size:
                _upsert(batch, imported_at=imported_at, summary=summary)
                batch = {}
                if on_progress:
                    on_progress(IcoImportProgress(summary.rows_read, raw.tell(), total))
        if batch:
            _upsert(batch, imported_at=imported_at, summary=summary)
    if complete and summary.rejected:
        summary.removal_skipped = (
            "rows were rejected, so registrations missing from the file were not "
            "marked removed"
        )
    elif complete:
        _mark_removed(seen, imported_at=imported_at, summary=summary)
    if on_progress:
        on_progress(IcoImportProgress(summary.rows_read, total, total))
    return summary
