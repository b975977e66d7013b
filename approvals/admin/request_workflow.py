"""A data share request's workflow pages in the admin: the buttons each person
is offered by the request's stage and their role, and the pages behind them
(triage, the assessment, the panel, the SIRO, the decision, conditions, releases
and the destruction certificate). DataShareRequestAdmin is built on it; the case
file's pages are approvals.admin.casefile's."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from approvals import permissions
from approvals.admin.base import S
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
from approvals.admin.risk import risk_explained
from approvals.models import FIVE_SAFES, DataShareRequest, Decision
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
from lrs_portal.admin_display import when
from registration.admin.base import RegistrationAdmin, _user
from registration.admin.forms import ConfirmForm, RequestInformationForm


class RequestWorkflowAdmin(RegistrationAdmin):
    """The buttons and workflow pages of a request's admin page. Not registered
    itself: DataShareRequestAdmin is built on it."""

    def request_tools(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> list[tuple[str, str]]:
        """The workflow pages offered on the request's page: (label, page name)."""
        user = _user(request)
        offered: list[tuple[str, str]] = []
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
        return offered

    def request_urls(self) -> list[URLPattern]:
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
        return [self.workflow_path(name, view) for name, view in views]

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
