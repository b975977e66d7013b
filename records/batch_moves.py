"""A batch's status and its rows' fields (decision 22): the table of the moves
a batch's status may make (ALLOWED_MOVES) and the one way it makes them
(move, through lrs_portal.transitions), stopping a batch (batch_fail), and the
fields a batch's rows are written with, whose input is cleared once a line is
searched or will never be. Below the submission (records.batch_submission) and
the worker (records.batches), which both write them."""

from django.utils import timezone

from lrs_portal.models import system_user
from lrs_portal.transitions import transition
from records.models import Batch

STATUS = Batch.Status
ALLOWED_MOVES: dict[str, set[str]] = {
    STATUS.QUEUED: {STATUS.RUNNING, STATUS.FAILED},
    STATUS.RUNNING: {STATUS.COMPLETE, STATUS.FAILED},
    STATUS.COMPLETE: set(),
    STATUS.FAILED: set(),
}
INPUT_CLEARED = {
    "uln": "",
    "given_name": "",
    "family_name": "",
    "date_of_birth": None,
    "gender": None,
    "postcode": "",
}
# What a batch's rows are written with, in this order.
ROW_FIELDS = (
    "batch_id",
    "line",
    "reference",
    "outcome",
    "code",
    "matched_ulns",
    "error",
    *INPUT_CLEARED,
)


def move(batch: Batch, to: str, reason: str, **changes: object) -> Batch:
    return transition(
        instance=batch,
        to=to,
        allowed=ALLOWED_MOVES,
        acting_user=system_user(),
        reason=reason,
        changes=changes,
    )


def batch_fail(batch: Batch, reason: str) -> None:
    """Stop a batch, saying why; the lines it will now never search keep none
    of their input (decision 22)."""
    batch.rows.filter(outcome="", error="").update(**INPUT_CLEARED)
    move(
        batch, STATUS.FAILED, reason, failure_reason=reason, finished_at=timezone.now()
    )
