"""Run the DSAP secretariat's daily job now: reminders to assessors and to members
who have not voted, accreditation warnings and access ends, annual reviews. Safe
to run again: a second run sends nothing new."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.services.secretariat import secretariat_daily


class Command(BaseCommand):
    help = __doc__

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
        counts = secretariat_daily(today=today)
        if counts.get("skipped"):
            self.stdout.write("Another run holds the lock: nothing done.")
            return
        summary = ", ".join(f"{key} {value}" for key, value in counts.items())
        self.stdout.write(f"DSAP secretariat job: {summary}")
