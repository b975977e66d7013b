"""The forms of the request workflow pages."""

from typing import Any

from django import forms
from django.utils import timezone

from approvals.admin.base import (
    text_field,
)
from approvals.models import (
    FIVE_SAFES,
    ApprovalCondition,
    DataShareRequest,
    Decision,
    PanelMeeting,
    PanelVote,
    Recommendation,
    SafeRating,
)
from lrs_portal import roles
from lrs_portal.models import User

# --- workflow forms ---------------------------------------------------------------


def assign_form(request: DataShareRequest) -> type[forms.Form]:
    eligible = User.objects.filter(
        is_active=True, is_staff=True, groups__name=roles.DSAP_ASSESSOR
    ).exclude(affiliation__organisation=request.organisation_id)

    class AssignAssessorForm(forms.Form):
        assessor = forms.ModelChoiceField(queryset=eligible)
        no_conflict_declared = forms.BooleanField(
            label="The assessor has declared no conflict of interest",
            required=False,
        )

    return AssignAssessorForm


class AssessmentForm(forms.Form):
    recommendation = forms.ChoiceField(choices=Recommendation.choices)
    recommended_conditions = text_field("Conditions recommended", required=False)
    no_conflict = forms.BooleanField(
        label="I declare that I have no conflict of interest with this request",
        help_text="If you have one, do not assess it: tell the caseworker, who will "
        "assign another assessor.",
        error_messages={"required": "Declare that you have no conflict of interest"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in FIVE_SAFES:
            self.fields[key] = forms.ChoiceField(
                label=label, choices=SafeRating.choices, widget=forms.RadioSelect
            )
            self.fields[f"{key}_reason"] = text_field(f"{label}: reason")
        self.order_fields([n for key, _ in FIVE_SAFES for n in (key, f"{key}_reason")])


def meeting_form() -> type[forms.Form]:
    upcoming = PanelMeeting.objects.filter(held_on__gte=timezone.localdate())

    class PlaceOnMeetingForm(forms.Form):
        meeting = forms.ModelChoiceField(queryset=upcoming)

    return PlaceOnMeetingForm


class ConflictForm(forms.Form):
    detail = text_field("Your conflict of interest", help_text="You will not vote.")


class VoteForm(forms.Form):
    vote = forms.ChoiceField(choices=PanelVote.Vote.choices, widget=forms.RadioSelect)
    comments = text_field("Comments", required=False)


class EscalationForm(forms.Form):
    risk_accepted = forms.TypedChoiceField(
        label="Do you accept the risk?",
        choices=(("yes", "Yes, the panel may approve it"), ("no", "No")),
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    comments = text_field("Reasons")


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Decision.Outcome.choices, widget=forms.RadioSelect
    )
    reasons = text_field("Reasons")
    supports_aims = text_field("How the request supports the department's aims")
    conditions = text_field(
        "Conditions of approval",
        required=False,
        help_text="One condition a line. No data is released until a caseworker "
        "has marked each one met, with the evidence.",
    )


def condition_met_form(request: DataShareRequest) -> type[forms.Form]:
    unmet = ApprovalCondition.objects.filter(request=request, met_at__isnull=True)

    class ConditionMetForm(forms.Form):
        condition = forms.ModelChoiceField(queryset=unmet)
        evidence = text_field(
            "Evidence that it is met",
            help_text="What shows it, and where it is kept (for example the "
            "signed data sharing agreement's reference).",
        )

    return ConditionMetForm


def release_form(request: DataShareRequest) -> type[forms.Form]:
    unreleased = request.datasets.filter(release__isnull=True)

    class ReleaseForm(forms.Form):
        dataset = forms.ModelChoiceField(queryset=unreleased)
        srs_project_reference = forms.CharField(
            label="ONS SRS project reference", max_length=40, required=False
        )
        researchers = forms.ModelMultipleChoiceField(
            queryset=request.researchers.all(), widget=forms.CheckboxSelectMultiple
        )
        end_date = forms.DateField(
            initial=request.end_date,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )

    return ReleaseForm
