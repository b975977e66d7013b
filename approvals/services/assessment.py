"""The independent assessment: the risk model's score and the assessor's Five
Safes ratings and recommendation.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    FIVE_SAFES,
    Assessment,
    DataShareRequest,
    Recommendation,
    RiskSettings,
)
from approvals.services.requests import Refused, request_transition
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status

# --- assessment -----------------------------------------------------------------------


# The risk model's factors, in the order and the words the pages show them.
RISK_FACTORS = {
    "tier": "Most sensitive dataset",
    "volume": "Records expected",
    "linkage": "Linkage",
    "access_route": "Access route",
    "recipient": "Recipient",
}


def risk_score(
    request: DataShareRequest, settings: RiskSettings | None = None
) -> tuple[int, dict[str, int]]:
    """The request's risk score under the configured model, and each factor's points."""
    model = settings or RiskSettings.current()
    tiers = list(request.datasets.values_list("tier", flat=True))
    most_sensitive = min(tiers) if tiers else 1
    records = request.records_expected or 0
    if records >= model.volume_high_from:
        volume = model.volume_high_points
    elif records >= model.volume_medium_from:
        volume = model.volume_medium_points
    else:
        volume = model.volume_low_points
    breakdown = {
        "tier": getattr(model, f"tier_{most_sensitive}_points"),
        "volume": volume,
        "linkage": model.linkage_points if request.linkage else 0,
        "access_route": getattr(model, f"{request.access_route}_points", 0),
        "recipient": getattr(model, f"{request.organisation.kind}_points", 0),
    }
    return sum(breakdown.values()), breakdown


def assessment_record(
    *,
    request: DataShareRequest,
    acting_user: User,
    ratings: dict[str, str],
    reasons: dict[str, str],
    recommendation: str,
    recommended_conditions: str = "",
    no_conflict_declared: bool = False,
) -> Assessment:
    """The assessor's Five Safes ratings with reasons, the risk score and advice;
    the request then waits for the panel. The assessor declares, themselves, that
    they have no conflict of interest; one who has must tell the caseworker, who
    assigns someone else."""
    if not permissions.can_assess(acting_user, request):
        raise PermissionError("You are not this request's assessor")
    if request.status != S.ASSESSMENT:
        raise Refused(["Only a request being assessed can be assessed"])
    problems = [
        f"Give a rating and a reason for {label}"
        for key, label in FIVE_SAFES
        if not ratings.get(key) or not reasons.get(key, "").strip()
    ]
    if recommendation not in Recommendation.values:
        problems.append("Choose a recommendation")
    if not no_conflict_declared:
        problems.append(
            "Declare that you have no conflict of interest with this request. If "
            "you have one, do not assess it: tell the caseworker, who will assign "
            "another assessor"
        )
    conditional = recommendation == Recommendation.APPROVE_WITH_CONDITIONS
    if conditional and not recommended_conditions.strip():
        problems.append("Say which conditions you recommend")
    if problems:
        raise Refused(problems)
    # The appetite in force now is the one that applies to this request, kept on
    # the assessment: a later change applies to later assessments only.
    model = RiskSettings.current()
    score, breakdown = risk_score(request, model)
    fields: dict[str, Any] = {}
    for key, _ in FIVE_SAFES:
        fields[key] = ratings[key]
        fields[f"{key}_reason"] = reasons[key]
    # A request back from a return is assessed again: the row is updated and
    # its history keeps the earlier assessment.
    assessment = Assessment.objects.filter(request=request).first() or Assessment(
        request=request
    )
    values = {
        "assessor": acting_user,
        "risk_score": score,
        "risk_breakdown": breakdown,
        "risk_appetite": model.risk_appetite,
        "recommendation": recommendation,
        "recommended_conditions": recommended_conditions,
        "no_conflict_declared": True,
        "completed_at": timezone.now(),
        **fields,
    }
    for field, value in values.items():
        setattr(assessment, field, value)
    with transaction.atomic():
        save_with_history(
            assessment,
            acting_user=acting_user,
            reason="Assessment recorded" if assessment.pk is None else "Reassessed",
        )
        request_transition(
            request=request,
            to=S.PANEL,
            acting_user=acting_user,
            reason=f"Assessed: risk score {score}, recommends {recommendation}",
        )
    return assessment
