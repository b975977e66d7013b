from typing import Any

from django.core.management.base import BaseCommand

from lrs_portal.jobs import JobLocked
from registration.services.reverification import reverify_organisations_run


class Command(BaseCommand):
    help = (
        "Re-read Companies House and the ICO register for every registered or "
        "suspended organisation, and open a re-verification case for a new company "
        "name, a company no longer active, a signing director who left office or a "
        "lapsed ICO registration. Keeps within COMPANIES_HOUSE_RATE_LIMIT requests "
        "each COMPANIES_HOUSE_RATE_PERIOD_SECONDS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = reverify_organisations_run()
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        counts = run.counts if run is not None else {}
        listed = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        self.stdout.write(f"Re-verified organisations. {listed or 'Nothing to do.'}")
        unavailable = counts.get("companies_house_unavailable", 0)
        if unavailable:
            self.stdout.write(
                f"Companies House did not answer for {unavailable} organisation(s): "
                "they are checked again on the next run."
            )
