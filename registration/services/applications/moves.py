"""A registration application's status: the table of moves, the one function
that changes it, and the refusal every step of an application raises."""

from typing import Any

from lrs_portal.models import User
from lrs_portal.transitions import transition
from registration.models import RegistrationApplication

A = RegistrationApplication.Status
APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    A.DRAFT: {A.SUBMITTED, A.WITHDRAWN},
    A.SUBMITTED: {A.MORE_INFO_REQUESTED, A.APPROVED, A.REJECTED, A.WITHDRAWN},
    A.MORE_INFO_REQUESTED: {A.SUBMITTED, A.REJECTED, A.WITHDRAWN},
    A.APPROVED: set(),
    A.REJECTED: set(),
    A.WITHDRAWN: set(),
}


class ApprovalBlocked(Exception):
    """Approval refused; ``reasons`` says what is still missing."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def application_transition(
    *,
    application: RegistrationApplication,
    to: str,
    acting_user: User,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> RegistrationApplication:
    """The one function that changes an application's status."""
    return transition(
        instance=application,
        to=to,
        allowed=APPLICATION_TRANSITIONS,
        acting_user=acting_user,
        reason=reason,
        changes=changes,
    )
