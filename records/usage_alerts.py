"""A usage alert's one status change: a caseworker closes it, saying why
(ALERT_TRANSITIONS, through lrs_portal.transitions). The alerts themselves are
raised by the real-time caps (records.caps) and the nightly audit
(records.audit)."""

from lrs_portal.models import User
from lrs_portal.transitions import transition
from records.models import UsageAlert

ALERT_TRANSITIONS: dict[str, set[str]] = {
    UsageAlert.Status.OPEN: {UsageAlert.Status.CLOSED},
    UsageAlert.Status.CLOSED: set(),
}


def usage_alert_close(
    *, alert: UsageAlert, acting_user: User, reason: str, false_positive: bool = False
) -> UsageAlert:
    """A caseworker closes an alert, saying why (the one way its status changes);
    a false positive's pattern is then accepted by the purpose rules until it
    moves (records.purpose)."""
    return transition(
        instance=alert,
        to=UsageAlert.Status.CLOSED,
        allowed=ALERT_TRANSITIONS,
        acting_user=acting_user,
        reason=f"False positive: {reason}" if false_positive else reason,
        changes={"false_positive": True} if false_positive else None,
    )
