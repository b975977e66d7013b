"""The forms of the secretariat's workflow pages (decision 17)."""

from typing import Any

from django import forms
from django.utils import timezone

from approvals.admin.base import text_field
from approvals.models import (
    AnnualReview,
    CaseAttachment,
    Correspondence,
    DataShareRequest,
    MeetingAttendance,
    PanelMeeting,
)
from approvals.services.meetings import meeting_agenda

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOT_RECORDED = ""


def attendance_form(meeting: PanelMeeting) -> type[forms.Form]:
    """One choice per member: attended, apologies, or not recorded yet."""
    recorded = dict(
        MeetingAttendance.objects.filter(meeting=meeting).values_list(
            "member_id", "status"
        )
    )
    choices = [(NOT_RECORDED, "Not recorded"), *MeetingAttendance.Status.choices]
    members = list(meeting.members.order_by("email"))
    fields: dict[str, Any] = {
        f"member_{m.pk}": forms.ChoiceField(
            label=f"{m}",
            choices=choices,
            required=False,
            initial=recorded.get(m.pk, NOT_RECORDED),
            widget=forms.RadioSelect,
        )
        for m in members
    }
    form_class = type("AttendanceForm", (forms.Form,), fields)
    form_class.members = {f"member_{m.pk}": m for m in members}  # type: ignore[attr-defined]
    return form_class


def minutes_form(initial: str) -> type[forms.Form]:
    class MinutesForm(forms.Form):
        discussion = text_field(
            "Summary of the discussion",
            help_text="Decisions, votes, conflicts and actions are added to the "
            "minutes from the records; write what was discussed.",
        )

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.fields["discussion"].initial = initial

    return MinutesForm


def action_form(meeting: PanelMeeting) -> type[forms.Form]:
    class ActionForm(forms.Form):
        description = text_field("The action")
        owner = forms.CharField(label="Who does it", max_length=200)
        due_on = forms.DateField(label="Due by", required=False, widget=_DATE)
        request = forms.ModelChoiceField(
            label="About the request (optional)",
            queryset=meeting_agenda(meeting),
            required=False,
        )

    return ActionForm


class NoteForm(forms.Form):
    text = text_field("Internal note", help_text="The requester never sees it.")


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label="What is it?", choices=CaseAttachment.Kind.choices)
    description = forms.CharField(max_length=200, required=False)
    document = forms.FileField(
        label="The document",
        help_text="A PDF file, smaller than the limit in the runbook (10MB by "
        "default).",
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={"required": "Select a file", "empty": "The file is empty"},
    )


class CorrespondenceForm(forms.Form):
    direction = forms.ChoiceField(
        choices=Correspondence.Direction.choices, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(choices=Correspondence.Channel.choices)
    subject = forms.CharField(max_length=200)
    summary = text_field("Summary", required=False)
    occurred_on = forms.DateField(
        label="Date", initial=timezone.localdate, widget=_DATE
    )


class PublicSummaryForm(forms.Form):
    text = text_field(
        "Summary for the public register",
        help_text="Plain words for the public: the project's aim and benefit. "
        "Another caseworker approves it before it is published.",
    )


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=AnnualReview.Outcome.choices, widget=forms.RadioSelect
    )
    findings = text_field("What the review found")


def review_choice(request: DataShareRequest) -> type[forms.Form]:
    class ReviewChoiceForm(ReviewForm):
        review = forms.ModelChoiceField(
            queryset=request.annual_reviews.filter(completed_at__isnull=True),
            empty_label=None,
        )

    return ReviewChoiceForm
