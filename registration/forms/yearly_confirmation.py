"""The super user's yearly confirmation of the registration (decision 0031)."""

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from registration.forms.application import AccreditationForm
from registration.forms.fields import (
    LEARNERS_MAX,
    WholeNumberField,
)

# --- The yearly confirmation ----------------------------------------------------

YES_NO = (("yes", _("Yes")), ("no", _("No")))
CHANGE_MAX_LENGTH = 2000


def _yes_no(
    label: StrOrPromise, required: StrOrPromise, hint: StrOrPromise = ""
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=hint,
        error_messages={"required": required, "invalid_choice": required},
    )


def _what_changed(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=CHANGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "max_length": format_lazy(
                _("What changed must be {max} characters or fewer"),
                max=f"{CHANGE_MAX_LENGTH:,}",
            )
        },
    )


class YearlyConfirmationForm(forms.Form):
    """The super user's answers to the yearly confirmation (decision 0031)."""

    purpose_unchanged = _yes_no(
        _("Is this still what your organisation uses the LRS for?"),
        _("Select yes if your organisation still uses the LRS for this"),
    )
    purpose_change = _what_changed(_("What has changed about how you use the LRS?"))
    learners_per_year = WholeNumberField(
        label=_("How many learners do you enrol each year?"),
        min_value=1,
        max_value=LEARNERS_MAX,
        help_text=_("An estimate is fine, like 1,500."),
        error_messages=AccreditationForm.base_fields[
            "estimated_learners_per_year"
        ].error_messages,
    )
    awarding_organisations_unchanged = _yes_no(
        _("Are these still your awarding organisations?"),
        _("Select yes if these are still your awarding organisations"),
    )
    awarding_organisations_change = _what_changed(
        _("Which awarding organisations have you joined or left?")
    )
    director_in_office = _yes_no(
        _("Is the director who signed the LRS agreement still in office?"),
        _("Select yes if the director who signed the agreement is still in office"),
    )

    def _clean_change(self, field: str) -> str:
        value: str = self.cleaned_data.get(field, "").strip()
        if "\x00" in value:
            raise forms.ValidationError(
                _("What changed contains a character we cannot accept")
            )
        return value

    def clean_purpose_change(self) -> str:
        return self._clean_change("purpose_change")

    def clean_awarding_organisations_change(self) -> str:
        return self._clean_change("awarding_organisations_change")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose_unchanged") == "no" and not data.get("purpose_change"):
            self.add_error(
                "purpose_change",
                _("Describe what has changed about how you use the LRS"),
            )
        if data.get("awarding_organisations_unchanged") == "no" and not data.get(
            "awarding_organisations_change"
        ):
            self.add_error(
                "awarding_organisations_change",
                _("Say which awarding organisations you have joined or left"),
            )
        return data

    def answers(self) -> dict[str, Any]:
        """The answers, as registration.services.yearly_confirmation.Answers."""
        data = self.cleaned_data
        return {
            "purpose_change": data["purpose_change"]
            if data["purpose_unchanged"] == "no"
            else None,
            "learners_per_year": data["learners_per_year"],
            "awarding_organisations_change": data["awarding_organisations_change"]
            if data["awarding_organisations_unchanged"] == "no"
            else None,
            "director_in_office": data["director_in_office"] == "yes",
        }
