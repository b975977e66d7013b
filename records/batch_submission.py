"""A batch file submitted (decision 22): read whole, the member through the gate,
refused whole (BatchRefused) when its rows would take the member or their
organisation past a cap, else stored, one row per line, and queued for the
worker (records.batches.batch_run) once the transaction commits.

The task is enqueued by its name (lrs_portal.celery.task_named): records.tasks
imports the worker, so importing the tasks module here would make a loop.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from lrs_portal.celery import task_named
from lrs_portal.models import User
from records import pg
from records.batch_files import BatchFile, batch_file_read
from records.batch_moves import ROW_FIELDS
from records.caps import lookup_allowance
from records.models import Batch, BatchRow
from records.services import gate_membership
from registration.models import ApiClient, Membership

RUN_TASK = "records.tasks.batch_run_task"


class BatchRefused(Exception):
    """A batch refused whole before any row is searched, because its rows would
    take the member or their organisation past a cap (``code``: user_cap or
    organisation_cap): ``rows`` searchable, of which ``fits`` would fit."""

    def __init__(self, message: str, *, code: str, rows: int, fits: int) -> None:
        super().__init__(message)
        self.code = code
        self.rows = rows
        self.fits = fits


def _over_caps(searchable: int, membership: Membership) -> BatchRefused | None:
    allowance = lookup_allowance(membership)
    fits = allowance.searches
    if searchable <= fits:
        return None
    member = allowance.user_remaining <= allowance.organisation_remaining
    # In the language of the request: the portal's page shows it; the web
    # service's requests are always English (docs/decisions/0034).
    numbers = {"rows": f"{searchable:,}", "fits": f"{fits:,}"}
    if member and fits:
        text = gettext(
            "This file has %(rows)s learners to search, but you can make %(fits)s "
            "more searches this hour. Send a file of at most %(fits)s learners, or "
            "try again later"
        )
    elif member:
        text = gettext(
            "This file has %(rows)s learners to search, but you can make %(fits)s "
            "more searches this hour. Try again later"
        )
    elif fits:
        text = gettext(
            "This file has %(rows)s learners to search, but your organisation can "
            "make %(fits)s more searches today. Send a file of at most %(fits)s "
            "learners, or try again later"
        )
    else:
        text = gettext(
            "This file has %(rows)s learners to search, but your organisation can "
            "make %(fits)s more searches today. Try again later"
        )
    message = text % numbers
    return BatchRefused(
        message,
        code="user_cap" if member else "organisation_cap",
        rows=searchable,
        fits=fits,
    )


def batch_submit(
    *,
    user: User,
    data: bytes,
    filename: str,
    request_id: str,
    api_client: ApiClient | None = None,
) -> Batch:
    """Store a member's batch file and queue it; refused whole (BatchFileRefused,
    LookupRefused, BatchRefused) when it cannot be read, the gate refuses the
    member, or its rows would take them or their organisation past a cap. The
    portal's page and the web service (``api_client``) both send batches here."""
    parsed = batch_file_read(data)
    membership = gate_membership(user)
    over = _over_caps(parsed.searchable, membership)
    if over:
        raise over
    with transaction.atomic():
        batch = _create(
            parsed,
            membership,
            filename=filename,
            request_id=request_id,
            api_client=api_client,
        )
        transaction.on_commit(lambda: _enqueue(batch.pk))
    return batch


def _create(
    parsed: BatchFile,
    membership: Membership,
    *,
    filename: str,
    request_id: str,
    api_client: ApiClient | None,
) -> Batch:
    failed = len(parsed.lines) - parsed.searchable
    batch = Batch.objects.create(
        organisation_id=membership.organisation_id,
        submitted_by_id=membership.user_id,
        api_client=api_client,
        kind=parsed.kind,
        filename=filename[:100],
        rows_total=len(parsed.lines),
        rows_done=failed,
        rows_failed=failed,
        request_id=request_id[:64],
    )
    pg.rows_insert(
        BatchRow,
        [
            (
                batch.pk,
                line.line,
                line.reference,
                "",
                "",
                "",
                line.error,
                line.uln,
                line.given_name,
                line.family_name,
                line.date_of_birth,
                line.gender,
                line.postcode,
            )
            for line in parsed.lines
        ],
        fields=ROW_FIELDS,
    )
    return batch


def _enqueue(batch_id: int) -> None:
    task_named(RUN_TASK).apply_async(args=(batch_id,), queue=settings.BATCH_QUEUE)
