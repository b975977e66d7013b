"""A registered organisation's forms: inviting users, accepting an invitation, a
change of name or company number, and explaining a suspension."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lrs_portal.models import User
from registration.forms.application import OrganisationDetailsForm
from registration.forms.fields import (
    check_password,
    email_field,
    password_field,
    text_field,
)

# --- The organisation's users -------------------------------------------------------


class InviteUserForm(forms.Form):
    full_name = text_field(
        _("Full name"), max_length=200, required=_("Enter their full name")
    )
    email = email_field(
        _("Work email address"), required=_("Enter their work email address")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _(
            "Their own email address on your organisation's domain, not a shared "
            "mailbox."
        )


class AcceptInvitationForm(forms.Form):
    password = password_field(_("Create a password"))

    def __init__(self, *args: Any, email: str, full_name: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.person = User(email=email, full_name=full_name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_password(self, "password", self.person)
        return cleaned


# --- Once registered: changes of identity -----------------------------------------


class OrganisationIdentityForm(forms.Form):
    """A registered organisation's change of name or company number."""

    legal_name = OrganisationDetailsForm.base_fields["legal_name"]
    trading_names = OrganisationDetailsForm.base_fields["trading_names"]
    companies_house_number = OrganisationDetailsForm.base_fields[
        "companies_house_number"
    ]

    clean_trading_names = OrganisationDetailsForm.clean_trading_names
    clean_companies_house_number = OrganisationDetailsForm.clean_companies_house_number


# --- Suspensions ---------------------------------------------------------------


class SuspensionExplanationForm(forms.Form):
    """The super user's explanation of a suspension, for the caseworkers."""

    explanation = forms.CharField(
        label=_("Your explanation"),
        help_text=_(
            "Say why the usage happened and what your organisation has done "
            "about it. Do not include learners' names, dates of birth or ULNs."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": _("Enter your explanation"),
            "max_length": _("Your explanation must be 5,000 characters or fewer"),
        },
    )

    def clean_explanation(self) -> str:
        value: str = self.cleaned_data["explanation"].strip()
        if not value:
            raise forms.ValidationError(_("Enter your explanation"))
        if "\x00" in value:
            raise forms.ValidationError(
                _("Your explanation contains a character we cannot accept")
            )
        return value
