"""Conditions of an approval, one row each, tracked until a caseworker marks each
met with its evidence; no data is released before then."""

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import ApprovalCondition, DataShareRequest, Decision
from approvals.services.requests import Refused
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status


def condition_lines(text: str) -> list[str]:
    """The chair's conditions, one a line (blank lines and bullets dropped)."""
    lines = (line.strip().lstrip("-*•").strip() for line in text.splitlines())
    return [line for line in lines if line]


def conditions_record(
    *, decision: Decision, acting_user: User
) -> list[ApprovalCondition]:
    """One row per condition of an approval with conditions."""
    return [
        save_with_history(
            ApprovalCondition(request=decision.request, decision=decision, text=line),
            acting_user=acting_user,
            reason="Condition of approval set by the panel",
        )
        for line in condition_lines(decision.conditions)
    ]


def conditions_unmet(request: DataShareRequest) -> list[ApprovalCondition]:
    """The request's conditions of approval not yet marked met."""
    return list(ApprovalCondition.objects.filter(request=request, met_at__isnull=True))


def condition_mark_met(
    *, condition: ApprovalCondition, acting_user: User, evidence: str
) -> ApprovalCondition:
    """A caseworker marks one condition met, saying what shows it."""
    request = condition.request
    if not permissions.can_release(acting_user, request):
        raise PermissionError("You cannot mark this request's conditions met")
    if not evidence.strip():
        raise Refused(["Give the evidence that the condition is met"])
    with transaction.atomic():
        locked = ApprovalCondition.objects.select_for_update().get(pk=condition.pk)
        status = DataShareRequest.objects.values_list("status", flat=True).get(
            pk=locked.request_id
        )
        if status != S.APPROVED_WITH_CONDITIONS:
            raise Refused(["Conditions are marked met only before data is released"])
        if locked.met_at is not None:
            raise Refused(["The condition has already been marked met"])
        locked.met_by = acting_user
        locked.met_at = timezone.now()
        locked.evidence = evidence.strip()
        return save_with_history(
            locked,
            acting_user=acting_user,
            reason=f"Condition met: {locked.evidence}",
            fields=["met_by", "met_at", "evidence"],
        )
