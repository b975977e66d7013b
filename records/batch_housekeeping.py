"""Housekeeping for batch files, run as part of the nightly housekeeping job
(registration.services.housekeeping, through settings.HOUSEKEEPING_PLANS).

A finished batch's rows, and so its results, are deleted BATCH_RESULTS_DAYS after
it finished; the batch itself stays as the record of who sent what and when. A
batch that has not finished a day after it was sent (its worker lost and never
redelivered) is stopped, so that its unsearched lines lose their input too.
Each step is keyed on what the database says when it is done, so a second run
the same night, or a dry run, changes nothing.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lrs_portal.models import User
from records.batches import batch_fail
from records.models import Batch
from registration.services.housekeeping import Action

STALE_AFTER = timedelta(days=1)
STALE_REASON = (
    "The batch did not finish within a day of being sent, so it was stopped. "
    "Send the lines it did not search again."
)


def batch_housekeeping_plan(*, now: datetime) -> Iterator[Action]:
    """Every batch step due now: stop stuck batches, delete old results."""
    stuck = Batch.objects.filter(
        status__in=(Batch.Status.QUEUED, Batch.Status.RUNNING),
        created_at__lt=now - STALE_AFTER,
    )
    for batch in stuck.order_by("pk"):
        yield _stop(batch)
    old = Batch.objects.filter(
        finished_at__lt=now - timedelta(days=settings.BATCH_RESULTS_DAYS),
        rows_deleted_at__isnull=True,
    )
    for batch in old.order_by("pk"):
        yield _delete_rows(batch)


def _stop(batch: Batch) -> Action:
    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = Batch.objects.select_for_update().get(pk=batch.pk)
            if locked.is_finished:
                return False
            batch_fail(locked, STALE_REASON)
        return True

    return Action(
        "batches_stopped",
        f"Stop batch {batch.pk} of organisation {batch.organisation_id}: sent "
        f"{batch.created_at:%Y-%m-%d %H:%M} and not finished",
        apply,
    )


def _delete_rows(batch: Batch) -> Action:
    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = Batch.objects.select_for_update().get(pk=batch.pk)
            if locked.rows_deleted_at is not None:
                return False
            locked.rows.all().delete()
            locked.rows_deleted_at = timezone.now()
            locked.save(update_fields=["rows_deleted_at"])
        return True

    return Action(
        "batch_results_deleted",
        f"Delete the {batch.rows_total} rows and results of batch {batch.pk} of "
        f"organisation {batch.organisation_id}: finished "
        f"{batch.finished_at:%Y-%m-%d}",
        apply,
    )
