from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lrs_portal.jobs import JobLocked
from registration.services.housekeeping import housekeeping_run


class Command(BaseCommand):
    help = (
        "The deregistration ladder: suspend organisations that have not re-signed "
        "the agreement by its deadline (and lift that once they sign), whose company "
        "is no longer active or whose ICO registration lapsed past the grace period; "
        "deregister those suspended too long or unused after a warning; close "
        "accounts nobody has used. The HOUSEKEEPING_* settings give each period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be done; change nothing and send no email.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        try:
            outcome = housekeeping_run(dry_run=dry_run)
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        prefix = "Would: " if dry_run else ""
        for action in outcome.actions:
            self.stdout.write(f"{prefix}{action.description}")
        if not outcome.actions:
            self.stdout.write("Nothing to do.")
        elif dry_run:
            self.stdout.write("Dry run: nothing was changed and no email was sent.")
        elif outcome.run is not None:
            counts = ", ".join(
                f"{k}: {v}" for k, v in sorted(outcome.run.counts.items())
            )
            self.stdout.write(f"Done. {counts}")
