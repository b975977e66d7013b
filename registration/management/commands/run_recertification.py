from typing import Any

from django.core.management.base import BaseCommand

from lrs_portal.jobs import JobLocked
from registration.services.recertification import recertification_run


class Command(BaseCommand):
    help = (
        "Open this quarter's recertification campaigns not yet open (each "
        "registered organisation's users, and the department's caseworkers, "
        "assessors and panel members), and tell those not confirmed in time "
        "(decision 29). Beat runs it daily at 06:20; running it again does nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = recertification_run()
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        counts = (outcome.run.counts if outcome.run else {}) or {}
        if not counts:
            self.stdout.write("Nothing to do.")
        for key, number in sorted(counts.items()):
            self.stdout.write(f"{key.replace('_', ' ')}: {number}")
