from typing import Any

from django.core.management.base import BaseCommand

from lrs_portal.jobs import JobLocked
from lrs_portal.trail import trail_audit_run


class Command(BaseCommand):
    help = (
        "The nightly trail audit: compare the database's change trail with the "
        "history since the last run, and raise a service alert (emailed to "
        "caseworkers) for each change made outside the portal. Run again, it "
        "raises nothing new. See docs/runbooks/database-roles.md."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = trail_audit_run()
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        counts = run.counts if run else {}
        self.stdout.write(
            f"Checked {counts.get('changes', 0)} changes: "
            f"{counts.get('alerts', 0)} new alerts."
        )
