"""The shape both of the approvals app's day-by-day job commands share: an
optional --date to run as if on that day, and a one-line summary of the counts."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class DailyJobCommand(BaseCommand):
    label = ""

    def run_job(self, *, today: date | None) -> dict[str, Any]:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            help="Run as if today were this date (YYYY-MM-DD); default today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {exc}") from exc
        counts = self.run_job(today=today)
        if counts.get("skipped"):
            self.stdout.write("Another run holds the lock: nothing done.")
            return
        summary = ", ".join(f"{key} {value}" for key, value in counts.items())
        self.stdout.write(f"{self.label}: {summary}")


def daily_job_command(
    job: Callable[..., dict[str, Any]], *, label: str, doc: str
) -> type[DailyJobCommand]:
    """A command class that runs job(today=...) and prints its counts."""

    class Command(DailyJobCommand):
        help = doc

        def run_job(self, *, today: date | None) -> dict[str, Any]:
            return job(today=today)

    Command.label = label
    return Command
