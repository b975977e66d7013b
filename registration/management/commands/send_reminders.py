from typing import Any

from django.core.management.base import BaseCommand

from lrs_portal.jobs import JobLocked
from registration.services.reminders import reminders_run


class Command(BaseCommand):
    help = (
        "Send the reminders due today, each once: drafts left alone, requests for "
        "information unanswered, signing links about to expire, a new agreement "
        "version's re-sign deadline near (decision 32). Beat runs it daily at 07:40."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = reminders_run()
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        counts = (run.counts if run else {}) or {}
        if not counts:
            self.stdout.write("No reminders were due.")
        for key, number in sorted(counts.items()):
            self.stdout.write(f"{key.replace('_', ' ')}: {number}")
