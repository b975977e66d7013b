"""A suspension's table of moves and the one function that writes its status.

suspension_move checks the table, records who and why (simple-history) and the
decision's fields; registration.services.suspensions.suspension_transition
calls it and then does what the decision means for the subject's access. Closing
the cases of an organisation that leaves the register is only the move, so
registration.services.organisations calls it from here without importing the
suspensions module, which imports organisations.
"""

from django.db import transaction
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed, transition
from registration.models import Organisation, Suspension

St = Suspension.Status
SUSPENSION_TRANSITIONS: dict[str, set[str]] = {
    St.OPEN: {St.UPHELD, St.REINSTATED, St.ESCALATED, St.LIFTED, St.CLOSED},
    St.UPHELD: {St.REINSTATED, St.ESCALATED, St.LIFTED, St.CLOSED},
    St.REINSTATED: set(),
    St.ESCALATED: set(),
    St.LIFTED: set(),
    St.CLOSED: set(),
}
IN_FORCE = (St.OPEN, St.UPHELD)


def suspension_move(
    *, suspension: Suspension, to: str, acting_user: User, reason: str
) -> Suspension:
    """Move a suspension to a status its table allows, with who and why."""
    if not reason.strip():
        raise TransitionNotAllowed("Give a reason for the decision")
    with transaction.atomic():
        return transition(
            instance=suspension,
            to=to,
            allowed=SUSPENSION_TRANSITIONS,
            acting_user=acting_user,
            reason=reason,
            changes={
                "decided_at": timezone.now(),
                "decided_by": acting_user if acting_user.is_active else None,
                "decision_reason": reason,
            },
        )


def suspensions_close(
    *, organisation: Organisation, acting_user: User, reason: str
) -> int:
    """Close the organisation's own cases still in force when it leaves the
    register (revoked or deregistered): they are about a registration that has
    ended. Left open they would sit in the queue, and stop the nightly jobs
    suspending a later registration afresh. Cases about single users stay as
    they are: a caseworker decides those. Return how many were closed."""
    cases = Suspension.objects.filter(
        organisation=organisation,
        subject_type=Suspension.Subject.ORGANISATION,
        status__in=IN_FORCE,
    )
    closed = 0
    for case in cases:
        suspension_move(
            suspension=case, to=St.CLOSED, acting_user=acting_user, reason=reason
        )
        closed += 1
    return closed
