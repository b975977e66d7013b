"""Data share requests: the queue, the read-only case page and its workflow
pages, releases and destruction certificates."""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from approvals import permissions
from approvals.admin.base import (
    CaseInline,
    NotYoursIsNotFound,
    S,
    is_dsap_staff,
)
from approvals.admin.casefile import CASE_FILE_INLINES, CaseFileAdminMixin
from approvals.admin.dashboard import DashboardAdminMixin
from approvals.admin.forms import (
    AssessmentForm,
    ConflictForm,
    DecisionForm,
    EscalationForm,
    VoteForm,
    assign_form,
    condition_met_form,
    meeting_form,
    release_form,
)
from approvals.models import (
    FIVE_SAFES,
    ApprovalCondition,
    Assessment,
    DataShareRequest,
    Decision,
    DestructionCertificate,
    PanelVote,
    Release,
    RequestedDataset,
    Researcher,
    RiskSettings,
    SiroEscalation,
)
from approvals.services import (
    assessment_record,
    certificate_accept,
    condition_mark_met,
    conditions_unmet,
    decision_blockers,
    decision_record,
    escalation_refusals,
    meeting_day_refusal,
    panel_conflict_declare,
    panel_vote_cast,
    release_record,
    request_accept_for_assessment,
    request_assign_assessor,
    request_place_on_meeting,
    request_return_for_information,
    researchers_to_flag,
    risk_escalation_record,
    risk_score,
)
from approvals.services.assessment import RISK_FACTORS
from approvals.services.secretariat import overdue_requests
from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import number, when
from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from registration.admin.base import (
    ConfirmForm,
    ReadOnlyFormMixin,
    RegistrationAdmin,
    RequestInformationForm,
    _user,
)

# --- the request page's inlines ---------------------------------------------------


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


# --- requests ---------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    title = "needs"
    parameter_name = "needs"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (
            ("triage", "Triage"),
            ("assessor", "An assessor"),
            ("meeting", "A panel meeting"),
            ("release", "Release"),
            ("certificate", "Certificate overdue or to accept"),
            ("overdue", "Over its stage's time target"),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.value()
        today = timezone.localdate()
        filters = {
            "triage": Q(status=S.SUBMITTED),
            "assessor": Q(status=S.ASSESSMENT, assessor__isnull=True),
            "meeting": Q(status__in=[S.PANEL, S.DEFERRED], panel_meeting__isnull=True)
            | Q(status=S.DEFERRED),
            "release": Q(status__in=[S.APPROVED, S.APPROVED_WITH_CONDITIONS]),
            "certificate": Q(status=S.CLOSING)
            & (Q(certificate_due_on__lt=today) | Q(certificate__isnull=False)),
        }
        if value == "overdue":  # the time targets of decision 17
            return queryset.filter(pk__in=overdue_requests(today).values("pk"))
        return queryset.filter(filters[value]) if value in filters else queryset


@admin.register(DataShareRequest)
class DataShareRequestAdmin(
    ServiceLevelAdminMixin,
    DashboardAdminMixin,
    CaseFileAdminMixin,
    NotYoursIsNotFound,
    ReadOnlyFormMixin,
    RegistrationAdmin,
):
    list_display = (
        "reference",
        "project_title",
        "organisation",
        "status",
        "assessor",
        "panel_meeting",
        "end_date",
        "certificate_overdue",
        "days_in_stage",
    )
    list_filter = (QueueFilter, "status", "legal_gateway", "access_route")
    list_select_related = ("organisation", "assessor", "panel_meeting")
    # Waiting for the department: triage, assessment, the panel, release.
    service_level = ServiceLevelQueue(
        key="data_share_requests",
        label="Data share requests waiting in their stage",
        statuses=(
            S.SUBMITTED,
            S.ASSESSMENT,
            S.PANEL,
            S.DEFERRED,
            S.APPROVED,
            S.APPROVED_WITH_CONDITIONS,
        ),
        since="stage_entered_at",
    )
    search_fields = ("=reference", "project_title", "organisation__name")
    ordering = ("submitted_at", "pk")
    inlines = (
        DatasetInline,
        ResearcherInline,
        AssessmentInline,
        VoteInline,
        EscalationInline,
        DecisionInline,
        ConditionInline,
        ReleaseInline,
        CertificateInline,
        *CASE_FILE_INLINES,
    )
    exclude = ("history",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in DataShareRequest._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataShareRequest]:
        visible = permissions.requests_visible_to_staff(_user(request))
        return visible.select_related("organisation", "assessor", "panel_meeting")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or is_dsap_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request) or is_dsap_staff(request)

    @admin.display(description="Certificate overdue", boolean=True)
    def certificate_overdue(self, request: DataShareRequest) -> bool:
        due = request.certificate_due_on
        return (
            request.status == S.CLOSING
            and due is not None
            and due < timezone.localdate()
        )

    def change_page_context(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> dict[str, Any]:
        if self.has_view_permission(request, obj):
            return {"workflow_tools": self.tools(request, obj)}
        return {}

    def tools(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> list[dict[str, str]]:
        user = _user(request)
        offered = []
        if permissions.can_triage(user, obj):
            if obj.status == S.SUBMITTED:
                offered += [
                    ("Return for more information", "return_for_information"),
                    ("Triage complete: send to assessment", "accept"),
                ]
            if obj.status == S.ASSESSMENT:
                offered.append(("Assign an assessor", "assign_assessor"))
            if obj.status in (S.PANEL, S.DEFERRED):
                offered.append(("Place on a panel meeting", "place_on_meeting"))
        if obj.status == S.ASSESSMENT and permissions.can_assess(user, obj):
            offered.append(("Record the assessment", "assess"))
        if obj.status == S.PANEL and obj.panel_meeting_id:
            if permissions.can_declare_conflict(user, obj):
                offered.append(("Declare a conflict", "declare_conflict"))
            if permissions.can_vote(user, obj) and not permissions.has_voted(user, obj):
                offered.append(("Vote", "vote"))
            if permissions.can_accept_risk(user, obj):
                offered.append(("Answer the risk escalation", "escalation"))
            if permissions.can_decide(user, obj):
                offered.append(("Record the decision", "decide"))
        if permissions.can_release(user, obj):
            if obj.status == S.APPROVED_WITH_CONDITIONS and conditions_unmet(obj):
                offered.append(("Mark a condition met", "condition_met"))
            if obj.is_approved or obj.status == S.RELEASED:
                offered.append(("Release a dataset", "release"))
            if obj.status in (S.RELEASED, S.CLOSING) and hasattr(obj, "certificate"):
                offered.append(
                    ("Accept the destruction certificate", "accept_certificate")
                )
        offered += self.case_file_tools(request, obj)
        return [self.workflow_tool(label, name, obj) for label, name in offered]

    def get_urls(self) -> list[URLPattern]:
        views = (
            ("return_for_information", self.return_view),
            ("accept", self.accept_view),
            ("assign_assessor", self.assign_view),
            ("assess", self.assess_view),
            ("place_on_meeting", self.place_view),
            ("declare_conflict", self.conflict_view),
            ("vote", self.vote_view),
            ("escalation", self.escalation_view),
            ("decide", self.decide_view),
            ("condition_met", self.condition_met_view),
            ("release", self.release_view),
            ("accept_certificate", self.accept_certificate_view),
        )
        return [
            *self.dashboard_urls(),
            *(self.workflow_path(name, view) for name, view in views),
            *self.case_file_urls(),
            *self.default_urls(),
        ]

    # --- triage ---

    def return_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            request_return_for_information(
                request=obj,
                acting_user=_user(request),
                request_text=data["request_text"],
            )
            return "Returned to the requester for more information."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_triage(_user(request), obj),
            form_class=RequestInformationForm,
            title=f"Return for more information: {obj.reference}",
            submit_label="Return the request",
            intro="The requester sees this text, answers it and resubmits.",
            act=act,
        )

    def accept_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            request_accept_for_assessment(request=obj, acting_user=_user(request))
            return "Triage complete: the request is ready for an assessor."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_triage(_user(request), obj),
            form_class=ConfirmForm,
            title=f"Triage complete: {obj.reference}",
            submit_label="Send to assessment",
            act=act,
        )

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            request_assign_assessor(request=obj, acting_user=_user(request), **data)
            return f"Assigned {data['assessor']} as the assessor."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_triage(_user(request), obj),
            form_class=assign_form(obj),
            title=f"Assign an assessor: {obj.reference}",
            submit_label="Assign",
            intro=(
                "Only assessors from outside the requesting organisation are "
                "listed. They must have declared no conflict of interest."
            ),
            act=act,
        )

    # --- assessment ---

    def assess_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)
        score, breakdown = risk_score(obj)

        def act(data: dict[str, Any]) -> str:
            assessment = assessment_record(
                request=obj,
                acting_user=_user(request),
                ratings={key: data[key] for key, _ in FIVE_SAFES},
                reasons={key: data[f"{key}_reason"] for key, _ in FIVE_SAFES},
                recommendation=data["recommendation"],
                recommended_conditions=data["recommended_conditions"],
                no_conflict_declared=data["no_conflict"],
            )
            return f"Assessment recorded: risk score {assessment.risk_score}."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_assess(_user(request), obj),
            form_class=AssessmentForm,
            title=f"Assess {obj.reference} against the Five Safes",
            submit_label="Record the assessment",
            intro=risk_explained(obj, score, breakdown),
            act=act,
        )

    # --- the panel ---

    def place_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            request_place_on_meeting(
                request=obj, acting_user=_user(request), meeting=data["meeting"]
            )
            return f"Placed on the {data['meeting']}."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_triage(_user(request), obj),
            form_class=meeting_form(),
            title=f"Place {obj.reference} on a panel meeting",
            submit_label="Place on the meeting",
            act=act,
        )

    def conflict_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            panel_conflict_declare(
                request=obj, acting_user=_user(request), detail=data["detail"]
            )
            return "Conflict declared: you will not vote on this request."

        voted = permissions.has_voted(_user(request), obj)
        return self.workflow(
            request,
            obj,
            allowed=permissions.can_declare_conflict(_user(request), obj),
            form_class=ConflictForm,
            title=f"Declare a conflict of interest: {obj.reference}",
            submit_label="Declare the conflict",
            intro=(
                "You have voted on this request. Declaring a conflict now sets "
                "your vote aside: it stays on the record but no longer counts."
                if voted
                else "You will not vote on this request."
            ),
            act=act,
        )

    def vote_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            vote = panel_vote_cast(request=obj, acting_user=_user(request), **data)
            return f"Vote recorded: {vote.get_vote_display()}."

        meeting = obj.panel_meeting
        not_yet = meeting and meeting_day_refusal(meeting, "Votes")
        not_yet = f"{not_yet}." if not_yet else ""

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_vote(_user(request), obj),
            form_class=VoteForm,
            title=f"Vote on {obj.reference}",
            submit_label="Record my vote",
            intro=(
                not_yet or "You vote once. Declare a conflict instead if you have one."
            ),
            can_submit=not not_yet,
            act=act,
        )

    def escalation_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            escalation = risk_escalation_record(
                request=obj, acting_user=_user(request), **data
            )
            return f"Recorded: {escalation}."

        refusals = escalation_refusals(_user(request), obj)
        return self.workflow(
            request,
            obj,
            allowed=permissions.can_accept_risk(_user(request), obj),
            form_class=EscalationForm,
            title=f"Risk above appetite: {obj.reference}",
            submit_label="Record my answer",
            items=refusals,
            items_heading="You cannot answer this escalation:",
            can_submit=not refusals,
            act=act,
        )

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            decision = decision_record(request=obj, acting_user=_user(request), **data)
            return f"Decision recorded: {decision.get_outcome_display()}."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_decide(_user(request), obj),
            form_class=DecisionForm,
            title=f"Record the panel's decision: {obj.reference}",
            submit_label="Record the decision",
            items=decision_blockers(obj, Decision.Outcome.APPROVED),
            items_heading="The request cannot be approved yet:",
            act=act,
        )

    # --- after approval ---

    def condition_met_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            condition = condition_mark_met(
                condition=data["condition"],
                acting_user=_user(request),
                evidence=data["evidence"],
            )
            return f"Condition met: {condition.text}"

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_release(_user(request), obj),
            form_class=condition_met_form(obj),
            title=f"Mark a condition of approval met: {obj.reference}",
            submit_label="Mark it met",
            intro="No data is released until every condition is marked met.",
            act=act,
        )

    def release_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)
        flagged = researchers_to_flag(list(obj.researchers.all()), obj.end_date)

        def act(data: dict[str, Any]) -> str:
            release = release_record(
                request=obj,
                acting_user=_user(request),
                dataset=data["dataset"],
                srs_project_reference=data["srs_project_reference"],
                researchers=list(data["researchers"]),
                end_date=data["end_date"],
            )
            return f"Released {release.dataset}."

        return self.workflow(
            request,
            obj,
            allowed=permissions.can_release(_user(request), obj),
            form_class=release_form(obj),
            title=f"Release a dataset: {obj.reference}",
            submit_label="Record the release",
            items=[
                *(f"Condition not yet met: {c.text}" for c in conditions_unmet(obj)),
                *(
                    f"{r.full_name}: accreditation does not last until the end date"
                    for r in flagged
                ),
            ],
            items_heading="Check these before releasing:",
            act=act,
        )

    def accept_certificate_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        obj = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            certificate_accept(request=obj, acting_user=_user(request))
            return "Certificate accepted: the case is closed."

        certificate = getattr(obj, "certificate", None)
        intro = (
            f"{certificate.destroyed_by} destroyed {certificate.what_was_destroyed} "
            f"on {when(certificate.destroyed_on)} by {certificate.method}"
            if certificate
            else "No certificate has been submitted."
        )
        return self.workflow(
            request,
            obj,
            allowed=permissions.can_release(_user(request), obj),
            form_class=ConfirmForm,
            title=f"Accept the destruction certificate: {obj.reference}",
            submit_label="Accept and close the case",
            intro=intro,
            act=act,
        )


@admin.register(Release)
class ReleaseAdmin(ViewOnlyMixin, BaseAdmin):
    list_display = (
        "request",
        "dataset",
        "srs_project_reference",
        "access_route",
        "end_date",
        "flagged_researchers",
    )
    list_select_related = ("request", "dataset")

    @admin.display(description="Accreditation ends before the end date")
    def flagged_researchers(self, release: Release) -> SafeString | str:
        flagged = researchers_to_flag(list(release.researchers.all()), release.end_date)
        if not flagged:
            return "None"
        return format_html_join(", ", "{}", ((r.full_name,) for r in flagged))


@admin.register(DestructionCertificate)
class DestructionCertificateAdmin(ViewOnlyMixin, BaseAdmin):
    list_display = ("request", "destroyed_by", "destroyed_on", "accepted_at")
    list_select_related = ("request",)


def risk_breakdown_table(breakdown: dict[str, int], score: int) -> SafeString:
    """Each factor of the risk model and its points, then the total, as a table."""
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        (
            (RISK_FACTORS.get(key, key), number(points))
            for key, points in breakdown.items()
        ),
    )
    return format_html(
        '<table class="evidence"><thead><tr><th scope="col">Factor</th>'
        '<th scope="col">Points</th></tr></thead><tbody>{}</tbody>'
        '<tfoot><tr><th scope="row">Risk score</th><td>{}</td></tr></tfoot></table>',
        rows,
        number(score),
    )


def risk_explained(
    request: DataShareRequest, score: int, breakdown: dict[str, int]
) -> str:
    """The risk model's score in words: each factor, what the request says and its
    points (a tier is a dataset's sensitivity, never a number of points)."""
    tiers = list(request.datasets.values_list("tier", flat=True))
    tier = min(tiers) if tiers else 1
    records = request.records_expected or 0
    access = request.get_access_route_display() or "not given"
    rows = (
        ("Most sensitive dataset", RequestedDataset.Tier(tier).label, "tier"),
        ("Records expected", f"{records:,}", "volume"),
        ("Linkage", "linked to other data" if request.linkage else "none", "linkage"),
        ("Access route", access, "access_route"),
        ("Recipient", request.organisation.get_kind_display(), "recipient"),
    )

    def points(n: int) -> str:
        return f"{n} point" if n == 1 else f"{n} points"

    lines = [f"{name}: {what}: {points(breakdown[key])}" for name, what, key in rows]
    appetite = RiskSettings.current().risk_appetite
    return (
        f"The risk model scores this request {points(score)}:\n"
        + "\n".join(lines)
        + f"\nThe risk appetite is {points(appetite)}. It is kept with this "
        "assessment: a later change of appetite does not apply to it. Above the "
        "appetite, the panel can approve only once the senior information risk "
        "owner has accepted the risk."
    )
