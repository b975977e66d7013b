from typing import Any

from django.core.management.base import BaseCommand

from lrs_portal.jobs import JobLocked
from registration.services.yearly_confirmation import yearly_confirmation_run


class Command(BaseCommand):
    help = (
        "Open the yearly confirmations of registration whose anniversary is near "
        "and send the reminders due today, each once (decision 31). Beat runs it "
        "daily at 06:30."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = yearly_confirmation_run()
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        counts = (outcome.run.counts if outcome.run else {}) or {}
        if not counts:
            self.stdout.write("No confirmations to open and no reminders were due.")
        for key, number in sorted(counts.items()):
            self.stdout.write(f"{key.replace('_', ' ')}: {number}")
