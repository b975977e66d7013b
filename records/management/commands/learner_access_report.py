from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.reports import (
    AccessRow,
    access_report_csv,
    access_report_pdf,
    learner_access_report,
)
from records.services import InvalidUln


class _Counted:
    """The report's rows, counted as they are written."""

    def __init__(self, rows: Iterable[AccessRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[AccessRow]:
        for row in self.rows:
            self.count += 1
            yield row


class Command(BaseCommand):
    help = (
        "Write, as CSV or PDF, every search for and view of one learner's record: "
        "when (UTC), which organisation, what, with what outcome and through which "
        "channel (UK GDPR Article 15 subject access; answer within one calendar "
        "month of the request). The same file as the admin's download."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("uln", help="The learner's ULN, like 9276308686")
        parser.add_argument(
            "--format", choices=("csv", "pdf"), default="csv", dest="file_format"
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="Write the file here (default: standard output, CSV only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        uln: str = options["uln"]
        try:
            rows = _Counted(learner_access_report(uln=uln))
        except InvalidUln as exc:
            raise CommandError(f"{uln!r} is not a ULN: {exc}") from exc
        output: Path | None = options["output"]
        if options["file_format"] == "pdf":
            if output is None:
                raise CommandError("A PDF needs --output PATH")
            try:
                output.write_bytes(access_report_pdf(uln=uln, rows=rows))
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}") from exc
            self.stdout.write(
                f"Wrote {_rows(rows.count)} for ULN {uln.strip()} to {output}"
            )
            return
        lines = access_report_csv(uln=uln, rows=rows)
        if output is None:
            for line in lines:
                self.stdout.write(line, ending="")
            # The CSV has standard output to itself; the summary goes to stderr.
            self.stderr.write(
                f"{_rows(rows.count)} for ULN {uln.strip()}",
                style_func=self.style.SUCCESS,
            )
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as file:
                file.writelines(lines)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}") from exc
        self.stdout.write(
            f"Wrote {_rows(rows.count)} for ULN {uln.strip()} to {output}"
        )


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"
