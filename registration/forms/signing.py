"""The signing director: naming one from Companies House's current directors, and
the director's own form to sign the agreement."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from registration import validators
from registration.companies_house import Director
from registration.forms.fields import (
    email_field,
    text_field,
)
from registration.models import (
    Organisation,
    RegistrationApplication,
)

# --- Signing director ---------------------------------------------------------------


def director_label(director: Director) -> str:
    """The director's name and, when known, since when ("5 March 2025", the month
    in the page's language)."""
    if not director.appointed_on:
        return director.name
    return _("%(name)s (director since %(since)s)") % {
        "name": director.name,
        "since": date_format(director.appointed_on, "j F Y"),
    }


class SigningDirectorForm(forms.Form):
    director = forms.ChoiceField(
        label=_("Which director will sign the LRS agreement?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Select the director who will sign the agreement"),
            "invalid_choice": _("Select the director who will sign the agreement"),
        },
    )
    email = email_field(
        _("The director's work email address"),
        required=_("Enter the director's work email address"),
    )

    def __init__(
        self,
        *args: Any,
        directors: list[Director],
        subject: RegistrationApplication | Organisation,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.directors = {d.appointment: d for d in directors if d.appointment}
        director_field = self.fields["director"]
        assert isinstance(director_field, forms.ChoiceField)  # noqa: S101
        director_field.choices = [
            (d.appointment, director_label(d)) for d in self.directors.values()
        ]
        self.fields["email"].help_text = _(
            "Their own work email address on your organisation's domain, not a "
            "shared mailbox like info@ or a personal address like gmail.com."
        )

    def clean_email(self) -> str:
        from registration.services.signing import (
            director_email_check,
            director_email_excepted,
        )

        email: str = self.cleaned_data["email"].strip().lower()
        try:
            validators.validate_personal_mailbox(email)
        except ValidationError as exc:
            if exc.code != "shared_mailbox":
                raise
            raise ValidationError(
                _(
                    "Enter the director's own email address, not a shared mailbox "
                    "like info@: the signing link must reach only them"
                ),
                code="shared_mailbox",
            ) from exc
        if not director_email_excepted(subject=self.subject, email=email):
            validators.validate_work_email(email, director=True)
        director_email_check(subject=self.subject, email=email)
        return email

    @property
    def chosen(self) -> Director:
        return self.directors[self.cleaned_data["director"]]


# --- Signing the agreement ----------------------------------------------------------


class SignAgreementForm(forms.Form):
    typed_name = text_field(
        _("Your full name"),
        max_length=200,
        required=_("Enter your full name"),
        help_text=_("As it appears at Companies House."),
    )
    code = text_field(
        _("The code from your letter"),
        max_length=20,
        required=_("Enter the code from the letter we posted to you"),
        help_text=_(
            "We posted it to your correspondence address at Companies House. "
            "It is 8 letters and numbers, like ABCD-2345."
        ),
    )
    confirmed = forms.BooleanField(
        label=_(
            "I have read the agreement and I agree to it on behalf of the organisation"
        ),
        error_messages={
            "required": _("Confirm that you have read and agree to the agreement")
        },
    )
