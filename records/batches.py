"""Batch matching (issue 12): a file of learners searched by a worker, chunk by
chunk, through the same gate, caps, matching rule and log as the pages.

Each chunk is one transaction: the batch row locked (so two runs of the task
take turns), the gate asked again with the member's row locked, the caps counted
for the whole chunk, the rows matched in one query, one log row per row searched
and the results (input cleared) written in bulk. A worker killed mid-chunk rolls
the chunk back: nothing of it was logged or shown (docs/decisions/0022).

Here: the worker (batch_run, a chunk at a time) and a batch's results. A file is
submitted and queued by records.batch_submission, a chunk's rows matched by
records.batch_matching, and a batch's status moved by records.batch_moves (each
still importable from here).
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lrs_portal.models import User
from records import pg
from records.batch_matching import (
    Pending,
    match_demographics,
    match_ulns,
    ulns_matched,
)
from records.batch_moves import (
    ALLOWED_MOVES,
    INPUT_CLEARED,
    ROW_FIELDS,
    STATUS,
    batch_fail,
    move,
)
from records.batch_submission import BatchRefused, batch_submit
from records.caps import cap_refusal
from records.matching import LookupResult
from records.models import Batch, BatchRow, LearnerView
from records.permissions import REFUSALS
from records.purpose_profile import learner_stamp
from records.response_codes import lrs_response_code
from records.services import LookupRefused, gate_membership, learner_view_log
from registration.api_clients import CLIENT_REFUSALS
from registration.models import ApiClient, Membership
from registration.services import membership_record_lookup

# Moved to records.batch_submission and records.batch_moves (issue 18) and still
# importable from here.
__all__ = [
    "ALLOWED_MOVES",
    "BatchRefused",
    "batch_fail",
    "batch_submit",
]

OUTCOME = LearnerView.Outcome
# What the worker writes of a log row: its own fields (the time, the id and the
# channel's default come from the database).
_LOG_FIELDS = (
    "user_id",
    "organisation_id",
    "action",
    "outcome",
    "learner_uln",
    "match_count",
    "request_id",
    "channel",
    "api_client_id",
    "learner_age_band",
    "learner_area",
)


def batch_run(*, batch_id: int) -> Batch:
    """Search every row not searched yet, a chunk at a time; safe to run again
    (after a worker died, or twice at once): finished rows are never searched
    or logged again."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status == STATUS.QUEUED:
            batch = move(batch, STATUS.RUNNING, "Started", started_at=timezone.now())
    if batch.status != STATUS.RUNNING:
        return batch
    while _run_chunk(batch_id):
        pass
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status == STATUS.RUNNING:
            batch = move(
                batch, STATUS.COMPLETE, "Every row searched", finished_at=timezone.now()
            )
    return batch


def _run_chunk(batch_id: int) -> bool:
    """Search the next chunk of rows; False when none is left or the batch stopped."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status != STATUS.RUNNING:
            return False
        rows = [
            Pending(*values)
            for values in BatchRow.objects.filter(batch=batch, outcome="", error="")
            .order_by("line")
            .values_list(*Pending._fields)[: settings.BATCH_CHUNK_ROWS]
        ]
        if not rows:
            return False
        membership = _chunk_membership(batch)
        if membership is None:
            return False
        results = (
            match_ulns(rows)
            if batch.kind == Batch.Kind.ULN
            else match_demographics(rows)
        )
        _log_chunk(batch, membership, rows, results)
        _save_results(batch.pk, rows, results)
        batch.rows_done += len(rows)
        batch.save(update_fields=["rows_done"])
    return True


def _chunk_membership(batch: Batch) -> Membership | None:
    """The submitter's membership if the gate and the caps let this chunk
    through (their row locked); else the batch fails, saying why, and None."""
    user = User.objects.get(pk=batch.submitted_by_id)
    try:
        membership = gate_membership(user, lock=True)
    except LookupRefused as refused:
        batch_fail(batch, refused.refusal.message)
        return None
    if membership.organisation_id != batch.organisation_id:
        batch_fail(batch, REFUSALS["not_a_member"].message)
        return None
    lapsed = _client_lapsed(batch)
    if lapsed is not None:
        batch_fail(batch, CLIENT_REFUSALS[lapsed])
        return None
    # The organisation's caps lock, as a single lookup takes it (decision 26), so
    # a chunk and its colleagues' searches count against the caps one at a time.
    pg.organisation_caps_lock(membership.organisation_id)
    pending = batch.rows_total - batch.rows_done
    refusal = cap_refusal(membership, searches=min(pending, settings.BATCH_CHUNK_ROWS))
    if refusal is not None:
        # As a page's refused search is: logged, committed, then shown.
        learner_view_log(
            membership=membership,
            action=_action(batch),
            outcome=OUTCOME.REFUSED,
            request_id=_request_id(batch),
            channel=LearnerView.Channel.BATCH,
            api_client=batch.api_client,
        )
        batch_fail(batch, f"{refusal.message} {batch.rows_done:,} rows were done.")
        return None
    membership_record_lookup(membership=membership)
    return membership


def _client_lapsed(batch: Batch) -> str | None:
    """Why the API client a batch came through may no longer be used (revoked,
    expired), as its next call would be refused; None for the page's batches."""
    if batch.api_client_id is None:
        return None
    return ApiClient.objects.get(pk=batch.api_client_id).lapsed_code()


def _action(batch: Batch) -> str:
    if batch.kind == Batch.Kind.ULN:
        return LearnerView.Action.SEARCH_ULN
    return LearnerView.Action.SEARCH_DEMOGRAPHICS


def _request_id(batch: Batch) -> str:
    return batch.request_id or f"batch {batch.public_id}"


def _log_chunk(
    batch: Batch,
    membership: Membership,
    rows: list[Pending],
    results: list[LookupResult],
) -> None:
    """One log row per row searched, as _logged_search writes it, in one INSERT."""
    action, request_id = _action(batch), _request_id(batch)[:64]
    channel = LearnerView.Channel.BATCH
    user_id, organisation_id = membership.user_id, membership.organisation_id
    api_client_id = batch.api_client_id
    today = timezone.now().date()
    stamps = [
        learner_stamp(result.learner, today)
        if result.learner and result.outcome == OUTCOME.EXACT_MATCH
        else (None, "")
        for result in results
    ]
    pg.rows_insert(
        LearnerView,
        [
            (
                user_id,
                organisation_id,
                action,
                result.outcome,
                result.learner.uln if result.learner else row.uln,
                len(result.candidates) or (1 if result.learner else 0),
                request_id,
                channel,
                api_client_id,
                *stamp,
            )
            for row, result, stamp in zip(rows, results, stamps, strict=True)
        ],
        fields=_LOG_FIELDS,
    )


def _save_results(
    batch_id: int, rows: list[Pending], results: list[LookupResult]
) -> None:
    """Each row's result, its input cleared now it is searched (decision 22).

    Written as a delete and one INSERT of the chunk's rows: nothing refers to a
    row, and bulk_update's CASE per row and field cost seconds a chunk.
    """
    BatchRow.objects.filter(pk__in=[row.pk for row in rows]).delete()
    pg.rows_insert(
        BatchRow,
        [
            (
                batch_id,
                row.line,
                row.reference,
                result.outcome,
                lrs_response_code(result.outcome),
                ulns_matched(result),
                "",
                *INPUT_CLEARED.values(),
            )
            for row, result in zip(rows, results, strict=True)
        ],
        fields=ROW_FIELDS,
    )


def batch_results(batch: Batch) -> list[BatchRow]:
    """The batch's rows in input order, with their results (none once deleted)."""
    return list(
        batch.rows.order_by("line").only(
            "line", "reference", "outcome", "code", "matched_ulns", "error"
        )
    )
