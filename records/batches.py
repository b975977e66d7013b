"""Batch matching (issue 12): a file of learners searched by a worker, chunk by
chunk, through the same gate, caps, matching rule and log as the pages.

Each chunk is one transaction: the batch row locked (so two runs of the task
take turns), the gate asked again with the member's row locked, the caps counted
for the whole chunk, the rows matched in one query, one log row per row searched
and the results (input cleared) written in bulk. A worker killed mid-chunk rolls
the chunk back: nothing of it was logged or shown (docs/decisions/0022).
"""

from datetime import date
from typing import NamedTuple, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from lrs_portal.models import User, system_user
from lrs_portal.transitions import transition
from records import pg
from records.batch_files import BatchFile, batch_file_read
from records.links import learner_master
from records.models import Batch, BatchRow, Learner, LearnerView
from records.permissions import REFUSALS
from records.purpose import learner_stamp
from records.response_codes import lrs_response_code
from records.services import (
    CANDIDATE_LIMIT,
    LookupRefused,
    LookupResult,
    _cap_refusal,
    _gate,
    _log,
    lookup_allowance,
    match_among,
)
from registration.api_clients import CLIENT_REFUSALS
from registration.models import ApiClient, Membership
from registration.services import membership_record_lookup

OUTCOME = LearnerView.Outcome
STATUS = Batch.Status
ALLOWED_MOVES: dict[str, set[str]] = {
    STATUS.QUEUED: {STATUS.RUNNING, STATUS.FAILED},
    STATUS.RUNNING: {STATUS.COMPLETE, STATUS.FAILED},
    STATUS.COMPLETE: set(),
    STATUS.FAILED: set(),
}
_INPUT_CLEARED = {
    "uln": "",
    "given_name": "",
    "family_name": "",
    "date_of_birth": None,
    "gender": None,
    "postcode": "",
}

# What the worker writes: the log row's own fields (the time, the id and the
# channel's default come from the database) and a row's.
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
_ROW_FIELDS = (
    "batch_id",
    "line",
    "reference",
    "outcome",
    "code",
    "matched_ulns",
    "error",
    *_INPUT_CLEARED,
)


class Pending(NamedTuple):
    """A row not searched yet: what the worker reads of it."""

    pk: int
    line: int
    reference: str
    uln: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    gender: int | None
    postcode: str


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
    membership = _gate(user)
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
        fields=_ROW_FIELDS,
    )
    return batch


def _enqueue(batch_id: int) -> None:
    from records.tasks import batch_run_task

    batch_run_task.apply_async(args=(batch_id,), queue=settings.BATCH_QUEUE)


def _move(batch: Batch, to: str, reason: str, **changes: object) -> Batch:
    return transition(
        instance=batch,
        to=to,
        allowed=ALLOWED_MOVES,
        acting_user=system_user(),
        reason=reason,
        changes=changes,
    )


def batch_run(*, batch_id: int) -> Batch:
    """Search every row not searched yet, a chunk at a time; safe to run again
    (after a worker died, or twice at once): finished rows are never searched
    or logged again."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status == STATUS.QUEUED:
            batch = _move(batch, STATUS.RUNNING, "Started", started_at=timezone.now())
    if batch.status != STATUS.RUNNING:
        return batch
    while _run_chunk(batch_id):
        pass
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status == STATUS.RUNNING:
            batch = _move(
                batch, STATUS.COMPLETE, "Every row searched", finished_at=timezone.now()
            )
    return batch


def batch_fail(batch: Batch, reason: str) -> None:
    """Stop a batch, saying why; the lines it will now never search keep none
    of their input (decision 22)."""
    batch.rows.filter(outcome="", error="").update(**_INPUT_CLEARED)
    _move(
        batch, STATUS.FAILED, reason, failure_reason=reason, finished_at=timezone.now()
    )


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
            _match_ulns(rows)
            if batch.kind == Batch.Kind.ULN
            else _match_demographics(rows)
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
        membership = _gate(user, lock=True)
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
    refusal = _cap_refusal(membership, searches=min(pending, settings.BATCH_CHUNK_ROWS))
    if refusal is not None:
        # As a page's refused search is: logged, committed, then shown.
        _log(
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


def _match_ulns(rows: list[Pending]) -> list[LookupResult]:
    """Every row's ULN looked up in one query: an exact match, no match, or, for
    a merged ULN, its master's record (linked_learner_match, WSRC0022), as a
    single search answers (records.services.learner_search_by_uln)."""
    found: dict[str, LookupResult] = {}
    for learner in (
        Learner.objects.filter(uln__in={row.uln for row in rows})
        .select_related("link")
        .order_by()
    ):
        master = learner_master(learner)  # a query only for a merged learner
        found[learner.uln] = (
            LookupResult(OUTCOME.LINKED_LEARNER_MATCH, master)
            if master is not None
            else LookupResult(OUTCOME.EXACT_MATCH, learner)
        )
    return [found.get(row.uln) or LookupResult(OUTCOME.NO_MATCH) for row in rows]


def _match_demographics(rows: list[Pending]) -> list[LookupResult]:
    """Every row's candidates (same family name and date of birth, as a single
    search reads them) in one query, then each row decided by the pages' own
    rule (match_among)."""

    def key(row: Pending) -> tuple[str, date]:
        # A demographic row not yet searched always has its date of birth.
        return (row.family_name.strip().upper(), cast(date, row.date_of_birth))

    candidates = pg.learners_by_family_and_birth(
        {key(row) for row in rows}, limit=CANDIDATE_LIMIT
    )
    return [
        match_among(
            candidates[key(row)],
            given_name=row.given_name,
            gender=row.gender if row.gender is not None else -1,
            postcode=row.postcode,
        )
        for row in rows
    ]


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


def _matched_ulns(result: LookupResult) -> str:
    if result.learner is not None:
        return result.learner.uln
    return " ".join(learner.uln for learner in result.candidates)


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
                _matched_ulns(result),
                "",
                *_INPUT_CLEARED.values(),
            )
            for row, result in zip(rows, results, strict=True)
        ],
        fields=_ROW_FIELDS,
    )


def batch_results(batch: Batch) -> list[BatchRow]:
    """The batch's rows in input order, with their results (none once deleted)."""
    return list(
        batch.rows.order_by("line").only(
            "line", "reference", "outcome", "code", "matched_ulns", "error"
        )
    )
