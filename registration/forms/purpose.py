"""What the organisation will use the LRS for, and the learners it serves: the
application's two questions the nightly audit compares lookups with."""

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registration.forms.fields import (
    PURPOSE_MAX_LENGTH,
    WholeNumberField,
)
from registration.models import (
    LEARNER_REACH_KM_MAX,
    LearnerAge,
    LearnerReach,
    RegistrationApplication,
)
from registration.services.applications import PURPOSE_MIN_LENGTH

# --- Purpose ------------------------------------------------------------------------


class PurposeForm(forms.ModelForm[RegistrationApplication]):
    purpose = forms.ChoiceField(
        label=_("What will your organisation use the LRS for?"),
        choices=RegistrationApplication.Purpose.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Select what your organisation will use the LRS for"),
            "invalid_choice": _("Select what your organisation will use the LRS for"),
        },
    )
    purpose_detail = forms.CharField(
        label=_("Describe in detail how you will use the LRS"),
        min_length=PURPOSE_MIN_LENGTH,
        max_length=PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=format_lazy(
            _(
                "Say who you will look up, when and why. Write at least {min} "
                "characters."
            ),
            min=PURPOSE_MIN_LENGTH,
        ),
        error_messages={
            "required": _("Describe in detail how you will use the LRS"),
            "min_length": format_lazy(
                _("Your description must be at least {min} characters"),
                min=PURPOSE_MIN_LENGTH,
            ),
            "max_length": format_lazy(
                _("Your description must be {max} characters or fewer"),
                max=f"{PURPOSE_MAX_LENGTH:,}",
            ),
        },
    )

    class Meta:
        model = RegistrationApplication
        fields = ("purpose", "purpose_detail")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose_detail"].validators = [
            ProhibitNullCharactersValidator(
                message=_("Your description must not include hidden control characters")
            )
            if isinstance(v, ProhibitNullCharactersValidator)
            else v
            for v in self.fields["purpose_detail"].validators
        ]


# --- The learners you serve ----------------------------------------------------------


class LearnersServedForm(forms.Form):
    """The ages of the learners the provider serves and where they come from.

    The nightly audit compares them with the learners the organisation finds
    (decision 25), so the distance is asked for only with "mostly within".
    """

    learner_ages = forms.MultipleChoiceField(
        label=_("How old are the learners you will look up?"),
        choices=LearnerAge.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their age when you enrol them. Select all that apply."),
        error_messages={
            "required": _("Select the ages of the learners you will look up"),
            "invalid_choice": _("Select the ages of the learners you will look up"),
            "invalid_list": _("Select the ages of the learners you will look up"),
        },
    )
    learner_reach = forms.ChoiceField(
        label=_("Where do most of your learners come from?"),
        choices=LearnerReach.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Select where most of your learners come from"),
            "invalid_choice": _("Select where most of your learners come from"),
        },
    )
    learner_reach_km = WholeNumberField(
        label=_("Distance in kilometres"),
        required=False,
        min_value=1,
        max_value=LEARNER_REACH_KM_MAX,
        help_text=_("For example, 30. One mile is about 1.6 kilometres."),
        error_messages={
            "invalid": _("Enter the distance as a whole number of kilometres, like 30"),
            "min_value": _("The distance must be 1 kilometre or more"),
            "max_value": format_lazy(
                _(
                    "The distance must be {max} kilometres or fewer. If your learners "
                    "come from further, choose From across England"
                ),
                max=LEARNER_REACH_KM_MAX,
            ),
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("learner_reach") == LearnerReach.LOCAL:
            if cleaned.get("learner_reach_km") is None and not self.has_error(
                "learner_reach_km"
            ):
                self.add_error(
                    "learner_reach_km",
                    _("Enter the distance most of your learners live within"),
                )
        else:
            cleaned["learner_reach_km"] = None
        return cleaned
