from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from records import pg
from records.models import JobRun

JOB = "maintain_partitions"


class Command(BaseCommand):
    help = (
        "Keep the learner view log's monthly partitions (PostgreSQL only): create "
        "every month of the retention period and LEARNER_VIEW_PARTITIONS_AHEAD months "
        "ahead, and drop whole months older than LEARNER_VIEW_RETENTION_MONTHS. Run "
        "it as the log's owner role (docs/runbooks/database-roles.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be created and dropped; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not pg.is_postgres():
            self.stdout.write(
                "Partitioning is PostgreSQL-only: nothing to do on this database."
            )
            return
        dry_run: bool = options["dry_run"]
        with pg.advisory_lock(f"records.{JOB}") as locked:
            if not locked:
                self.stdout.write("Another maintain_partitions run holds the lock.")
                if not dry_run:
                    JobRun.objects.create(
                        job=JOB,
                        outcome=JobRun.Outcome.SKIPPED,
                        finished_at=timezone.now(),
                    )
                return
            if dry_run:
                created, dropped = _maintain(dry_run=True)
            else:
                created, dropped = _maintain_recorded()
        self.stdout.write("\n".join(_report(created, dropped, dry_run=dry_run)))


def _maintain(*, dry_run: bool) -> tuple[list[str], list[str]]:
    retention = settings.LEARNER_VIEW_RETENTION_MONTHS
    dropped = pg.partitions_drop_older_than(retention_months=retention, dry_run=dry_run)
    created = pg.partitions_ensure(
        months_back=retention,
        months_ahead=settings.LEARNER_VIEW_PARTITIONS_AHEAD,
        dry_run=dry_run,
    )
    return created, dropped


def _maintain_recorded() -> tuple[list[str], list[str]]:
    run = JobRun.objects.create(job=JOB)
    try:
        created, dropped = _maintain(dry_run=False)
    except DatabaseError as exc:
        run.outcome = JobRun.Outcome.FAILED
        run.error = str(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "error", "finished_at"])
        raise CommandError(
            f"{exc}".strip() + "\nNothing was changed. Partitions can be created and "
            "dropped only by the log's owner role: see "
            "docs/runbooks/database-roles.md."
        ) from exc
    run.outcome = JobRun.Outcome.SUCCEEDED
    run.counts = {"created": len(created), "dropped": len(dropped)}
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "counts", "finished_at"])
    return created, dropped


def _report(created: list[str], dropped: list[str], *, dry_run: bool) -> list[str]:
    create, drop = ("Would create", "Would drop") if dry_run else ("Created", "Dropped")
    lines = [f"{create} {name}" for name in created]
    lines += [f"{drop} {name} (every row past retention)" for name in dropped]
    if not lines:
        lines.append("Nothing to do: every partition needed is there.")
    partitions = pg.partitions_list()
    if partitions:
        first, last = partitions[0], partitions[-1]
        lines.append(
            f"The log has {len(partitions)} monthly partitions, for rows from "
            f"{first[1]:%d %B %Y} to before {last[2]:%d %B %Y}."
        )
    return lines
