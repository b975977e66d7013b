"""Changing the risk appetite: a recorded decision that applies to assessments
recorded afterwards (each assessment keeps the appetite it was made under)."""

from django.db import transaction

from approvals import permissions
from approvals.models import RiskAppetiteChange, RiskSettings
from approvals.services.requests import Refused
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

APPETITE_MAX = 100


def risk_appetite_change(
    *, acting_user: User, risk_appetite: int, reason: str
) -> RiskAppetiteChange:
    """The SIRO changes the risk appetite, saying why; requests already assessed
    keep the appetite they were assessed under."""
    if not permissions.can_set_risk_appetite(acting_user):
        raise PermissionError("Only the senior information risk owner sets it")
    problems = []
    if not reason.strip():
        problems.append("Give the reason for changing the risk appetite")
    if not 0 <= risk_appetite <= APPETITE_MAX:
        problems.append(f"The risk appetite must be between 0 and {APPETITE_MAX}")
    RiskSettings.current()  # the row exists before it is locked
    with transaction.atomic():
        settings = RiskSettings.objects.select_for_update().get(singleton=True)
        before = settings.risk_appetite
        if risk_appetite == before:
            problems.append(f"The risk appetite is already {before}")
        if problems:
            raise Refused(problems)
        settings.risk_appetite = risk_appetite
        save_with_history(
            settings,
            acting_user=acting_user,
            reason=f"Risk appetite {before} to {risk_appetite}: {reason.strip()}",
            fields=["risk_appetite"],
        )
        return save_with_history(
            RiskAppetiteChange(
                risk_appetite_before=before,
                risk_appetite=risk_appetite,
                reason=reason.strip(),
                decided_by=acting_user,
            ),
            acting_user=acting_user,
            reason="Risk appetite changed",
        )
