"""The records app's scheduled jobs, as plain functions run through
lrs_portal.jobs.job_run by a Celery task and by a management command alike."""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun
from records import audit, log_partitions

MAINTAIN_PARTITIONS = "maintain_partitions"


@dataclass
class PartitionChanges:
    created: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def partitions_maintain(*, dry_run: bool = False) -> PartitionChanges:
    """Create the log's partitions ahead; archive, verify, then drop whole months
    past retention."""
    changes = PartitionChanges()

    def work(progress: JobProgress) -> None:
        retention = settings.LEARNER_VIEW_RETENTION_MONTHS
        retired = log_partitions.partitions_drop_older_than(
            retention_months=retention,
            archive_dir=settings.LEARNER_VIEW_ARCHIVE_DIR,
            dry_run=dry_run,
        )
        changes.archived, changes.dropped = retired.archived, retired.dropped
        changes.created = log_partitions.partitions_ensure(
            months_back=retention,
            months_ahead=settings.LEARNER_VIEW_PARTITIONS_AHEAD,
            dry_run=dry_run,
        )
        progress.add("created", len(changes.created))
        progress.add("archived", len(changes.archived))
        progress.add("dropped", len(changes.dropped))

    job_run(MAINTAIN_PARTITIONS, work, record=not dry_run)
    return changes


def audit_usage_run(*, day: date | None = None) -> JobRun | None:
    """Run the nightly usage audit for one day, or for every day due."""

    def work(progress: JobProgress) -> None:
        audit.audit_usage(progress, day=day)

    return job_run(audit.JOB, work)
