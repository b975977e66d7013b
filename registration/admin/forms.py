"""The forms of registration's workflow pages: a confirmation, a reason or note
for the record, a request for information, a follow-up discussion, a new agreement
version's re-sign deadline, a case's resolution."""

from typing import Any

from django import forms
from django.utils import timezone

# Reasons and notes go to TextFields (and simple-history's text change reason);
# 5,000 characters, as for every other free text a person types here.
TEXT_MAX = 5000


def _text(label: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=TEXT_MAX,
        error_messages={
            "max_length": f"{label} must be {TEXT_MAX:,} characters or fewer"
        },
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


class ConfirmForm(forms.Form):
    """A POST with nothing to fill in: the button is the confirmation."""


class RequestInformationForm(forms.Form):
    request_text = _text(
        "What the provider must send or change",
        "The provider sees this text on their application.",
    )


class FollowUpForm(forms.Form):
    held_on = forms.DateField(
        label="Held on", widget=forms.DateInput(attrs={"type": "date"})
    )
    attendees = _text("Attendees")
    summary = _text("Summary of the discussion")
    purpose_acceptable = forms.TypedChoiceField(
        label="Is the purpose acceptable?",
        choices=(("yes", "Yes"), ("no", "No")),
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class ApproveForm(forms.Form):
    reason = _text("Note for the record (optional)", required=False)


class ReasonForm(forms.Form):
    reason = _text("Reason", "Recorded in the history, with your name.")


class RejectForm(forms.Form):
    reason = _text("Reason", "The provider sees this reason.")


class PublishForm(forms.Form):
    """When organisations must sign a new version by: a date, or at once for a
    stated reason; never left out by omission."""

    resign_deadline = forms.DateField(
        label="Re-sign deadline",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Organisations that have not signed by the end of this day are "
        "suspended by the next housekeeping run.",
    )
    immediately = forms.BooleanField(
        label="No deadline: they must sign immediately", required=False
    )
    immediately_reason = _text(
        "Why they must sign immediately",
        "Recorded with the version and sent in each suspension.",
        required=False,
    )
    confirmed = forms.BooleanField(
        label="I have checked how many organisations this affects",
        error_messages={"required": "Confirm that you have checked who it affects"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        deadline, immediately = data.get("resign_deadline"), data.get("immediately")
        reason = (data.get("immediately_reason") or "").strip()
        if immediately and deadline:
            raise forms.ValidationError("Choose a deadline or immediately, not both")
        if immediately and not reason:
            self.add_error(
                "immediately_reason", "Say why organisations must sign immediately"
            )
        if not immediately and deadline is None:
            self.add_error(
                "resign_deadline",
                "Enter the date by which organisations must sign, or choose "
                "immediately",
            )
        if deadline is not None and deadline <= timezone.localdate():
            self.add_error("resign_deadline", "The deadline must be in the future")
        data["immediately_reason"] = reason if immediately else ""
        return data


class ResolveForm(forms.Form):
    resolution = _text("Resolution", "What was checked, and what was found.")
