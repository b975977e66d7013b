from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lrs_portal.jobs import JobLocked
from records.jobs import audit_usage_run


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date like 2026-11-27") from None


class Command(BaseCommand):
    help = (
        "The nightly usage audit: count each user's and organisation's lookups for "
        "a UTC day, apply the audit rules (admin: Audit rules), raise one usage "
        "alert per hit and suspend where a rule says so. Without --date it audits "
        "every day since the last one audited, up to yesterday."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=str,
            help="Audit this UTC day (YYYY-MM-DD) again, or for the first time.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["date"]) if options["date"] else None
        if day is not None and day >= timezone.now().date():
            raise CommandError(f"{day} has not finished yet: audit a past day")
        try:
            run = audit_usage_run(day=day)
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        if run is None or run.first_day is None:
            self.stdout.write("Nothing to audit: every day up to yesterday is done.")
            return
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(run.counts.items()))
        self.stdout.write(
            f"Audited {run.first_day:%Y-%m-%d} to {run.last_day:%Y-%m-%d}. {counts}"
        )
