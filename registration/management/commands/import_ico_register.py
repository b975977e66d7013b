from pathlib import Path
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
)

from registration.ico import (
    IcoImportProgress,
    IcoImportSummary,
    IcoRegisterFormatError,
    ico_register_import,
)


class Command(BaseCommand):
    help = (
        "Import the ICO register of data protection fee payers "
        "(register-of-data-controllers.csv, unzipped): add new registrations, update "
        "changed ones, and list the rows that could not be read. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The register CSV file")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows compared and written together (default ICO_IMPORT_BATCH_SIZE)",
        )
        parser.add_argument(
            "--complete",
            action="store_true",
            help="The file is the whole register (the ICO's daily download): mark "
            "registrations it no longer lists as removed. Not for a partial file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No file at {path}")
        bar = _ProgressBar(self.stderr)
        try:
            summary = ico_register_import(
                path=path,
                batch_size=options["batch_size"],
                on_progress=bar.update,
                complete=options["complete"],
            )
        except IcoRegisterFormatError as exc:
            raise CommandError(str(exc)) from exc
        bar.finish()
        self.stdout.write("\n".join(_summary(summary, complete=options["complete"])))


def _summary(summary: IcoImportSummary, *, complete: bool) -> list[str]:
    lines = [
        f"Rows read: {summary.rows_read:,}",
        f"Added: {summary.added:,}",
        f"Updated: {summary.updated:,}",
        f"Unchanged: {summary.unchanged:,}",
        f"Rejected: {summary.rejected:,}",
    ]
    lines += [f"  Line {r.line}: {r.reason}" for r in summary.rejections]
    unlisted = summary.rejected - len(summary.rejections)
    if unlisted:
        lines.append(f"  … and {unlisted:,} more rejected rows, not listed")
    if complete:
        lines.append(f"Removed (no longer listed): {summary.removed:,}")
    if summary.removal_skipped:
        lines.append(f"  None marked removed: {summary.removal_skipped}")
    return lines


class _ProgressBar:
    """A bar redrawn in place on a terminal; in a log, a line every 10%."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.shown = -1

    def update(self, progress: IcoImportProgress) -> None:
        percent = 100 * progress.bytes_read // max(progress.bytes_total, 1)
        step = percent if self.interactive else percent // 10 * 10
        if step == self.shown:
            return
        self.shown = step
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        text = f"[{bar}] {percent:3d}%  {progress.rows_read:,} rows"
        # Plain text: stderr is styled as errors by default, and this is not one.
        if self.interactive:
            self.stream.write("\r" + text, style_func=str, ending="")
        else:
            self.stream.write(text, style_func=str)

    def finish(self) -> None:
        if self.interactive and self.shown >= 0:
            self.stream.write("")
