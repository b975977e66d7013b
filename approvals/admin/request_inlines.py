"""The parts of a data share request's admin page, each read-only: its datasets
and researchers, the assessment, the panel's votes, the SIRO's escalation, the
decision, its conditions, releases and the destruction certificate."""

from django.contrib import admin
from django.utils.safestring import SafeString

from approvals.admin.base import CaseInline
from approvals.admin.risk import risk_breakdown_table
from approvals.models import (
    FIVE_SAFES,
    ApprovalCondition,
    Assessment,
    Decision,
    DestructionCertificate,
    PanelVote,
    Release,
    RequestedDataset,
    Researcher,
    SiroEscalation,
)


class DatasetInline(CaseInline):
    model = RequestedDataset
    fields = ("name", "academic_year", "tier")


class ResearcherInline(CaseInline):
    model = Researcher
    fields = (
        "full_name",
        "email",
        "accreditation",
        "accreditation_number",
        "accreditation_expires_on",
        "accredited_for_the_share",
    )
    readonly_fields = ("accredited_for_the_share",)

    @admin.display(description="Accredited until the end date", boolean=True)
    def accredited_for_the_share(self, researcher: Researcher) -> bool:
        return researcher.accredited_until(researcher.request.end_date)


class AssessmentInline(CaseInline):
    model = Assessment
    fields = (
        "assessor",
        *(name for key, _ in FIVE_SAFES for name in (key, f"{key}_reason")),
        "risk_score",
        "risk_table",
        "risk_appetite",
        "recommendation",
        "recommended_conditions",
        "completed_at",
    )
    readonly_fields = ("risk_table",)

    @admin.display(description="Risk breakdown")
    def risk_table(self, assessment: Assessment) -> SafeString:
        return risk_breakdown_table(assessment.risk_breakdown, assessment.risk_score)


class VoteInline(CaseInline):
    model = PanelVote
    fields = (
        "meeting",
        "member",
        "conflict_declared",
        "conflict_detail",
        "vote",
        "comments",
        "cast_at",
        "set_aside_at",
        "set_aside_reason",
    )


class EscalationInline(CaseInline):
    model = SiroEscalation
    fields = ("siro", "risk_score", "risk_appetite", "risk_accepted", "comments")


class DecisionInline(CaseInline):
    model = Decision
    fields = (
        "meeting",
        "outcome",
        "reasons",
        "conditions",
        "supports_aims",
        "votes_for",
        "votes_cast",
        "votes_set_aside",
        "risk_score",
        "risk_appetite",
        "above_risk_appetite",
        "escalation",
        "chair",
        "decided_at",
    )


class ConditionInline(CaseInline):
    model = ApprovalCondition
    fields = ("text", "met_by", "met_at", "evidence")


class ReleaseInline(CaseInline):
    model = Release
    fields = ("dataset", "srs_project_reference", "access_route", "end_date")


class CertificateInline(CaseInline):
    model = DestructionCertificate
    fields = (
        "destroyed_by",
        "destroyed_on",
        "what_was_destroyed",
        "method",
        "submitted_at",
        "accepted_by",
        "accepted_at",
    )


REQUEST_INLINES = (
    DatasetInline,
    ResearcherInline,
    AssessmentInline,
    VoteInline,
    EscalationInline,
    DecisionInline,
    ConditionInline,
    ReleaseInline,
    CertificateInline,
)
