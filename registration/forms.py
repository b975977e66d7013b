"""Forms for the provider's pages: applying, signing, and the organisation's users.

Every message follows the GOV.UK pattern (say what is wrong and how to put it
right). Forms only validate; the views save through registration.services.
"""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from lrs_portal.models import User
from lrs_portal.passwords import password_error
from registration import validators
from registration.companies_house import Director, govuk_date
from registration.models import (
    LEARNER_REACH_KM_MAX,
    LearnerAge,
    LearnerReach,
    Organisation,
    RegistrationApplication,
)
from registration.services.applications import PURPOSE_MIN_LENGTH

PURPOSE_MAX_LENGTH = 5000
LEARNERS_MAX = 1_000_000
ACCOUNTS_MAX_BYTES = 10 * 1024 * 1024
PASSWORD_MAX_LENGTH = 256
HINT_FOR_PASSWORDS = _(
    "Your password must be at least 12 characters long, not entirely numbers, not "
    "a commonly used password and not too similar to your name or email address."
)
EMAIL_INVALID = _("Enter an email address in the correct format, like name@example.com")


def _text(
    label: StrOrPromise,
    *,
    max_length: int,
    required: StrOrPromise | None = None,
    textarea: bool = False,
    **kwargs: Any,
) -> forms.CharField:
    """A GOV.UK text field: a plain message for a missing, too long or NUL value."""
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required is not None,
        widget=forms.Textarea(attrs={"rows": 4}) if textarea else forms.TextInput,
        error_messages={
            "required": required or "",
            "max_length": format_lazy(
                _("{label} must be {max_length} characters or fewer"),
                label=label,
                max_length=f"{max_length:,}",
            ),
        },
        **kwargs,
    )
    field.validators = [
        ProhibitNullCharactersValidator(
            message=format_lazy(
                _("{label} must not include hidden control characters"), label=label
            )
        )
        if isinstance(v, ProhibitNullCharactersValidator)
        else v
        for v in field.validators
    ]
    return field


def _email(label: StrOrPromise, *, required: StrOrPromise) -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=254,
        error_messages={
            "required": required,
            "invalid": EMAIL_INVALID,
            "max_length": format_lazy(
                _("{label} must be {max_length} characters or fewer"),
                label=label,
                max_length="254",
            ),
        },
    )


PASSWORD_LABEL = _("Password")


def _password_field(label: StrOrPromise = PASSWORD_LABEL) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=HINT_FOR_PASSWORDS,
        error_messages={
            "required": _("Enter a password"),
            "max_length": format_lazy(
                _("Password must be {max_length} characters or fewer"),
                max_length=PASSWORD_MAX_LENGTH,
            ),
        },
    )


def _check_password(form: forms.Form, field: str, user: User) -> None:
    """One GOV.UK-worded error for the box, not one per rule in Django's words."""
    password = form.cleaned_data.get(field)
    if password:
        error = password_error(password, user=user)
        if error is not None:
            form.add_error(field, error)


# --- Creating an account to apply ---------------------------------------------------


class CreateAccountForm(forms.Form):
    full_name = _text(
        _("Full name"), max_length=200, required=_("Enter your full name")
    )
    email = _email(_("Email address"), required=_("Enter your email address"))
    password = _password_field()

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        validators.validate_personal_mailbox(email)
        validators.validate_work_email(email)
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _(
                    "An account with this email address already exists. Sign in to "
                    "continue your application"
                ),
                code="taken",
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = User(
            email=cleaned.get("email", ""), full_name=cleaned.get("full_name", "")
        )
        _check_password(self, "password", user)
        return cleaned


# --- Organisation details -----------------------------------------------------------


class OrganisationDetailsForm(forms.ModelForm[RegistrationApplication]):
    legal_name = _text(
        _("Legal name"),
        max_length=160,
        required=_("Enter your organisation's legal name"),
        help_text=_("As it appears at Companies House."),
    )
    trading_names = _text(
        _("Trading names (optional)"),
        max_length=2000,
        textarea=True,
        help_text=_(
            "Any other names your organisation uses. Put each on its own line."
        ),
    )
    ukprn = _text(
        _("UK Provider Reference Number (UKPRN)"),
        max_length=40,
        required=_("Enter a UKPRN"),
        help_text=_(
            "8 digits, like 10012345. It is on the UK Register of Learning Providers."
        ),
    )
    companies_house_number = _text(
        _("Companies House number"),
        max_length=40,
        required=_("Enter a company registration number"),
        help_text=_("8 digits, or 2 letters and 6 digits, like 01234567 or SC123456."),
    )
    ico_number = _text(
        _("ICO registration number"),
        max_length=40,
        required=_("Enter an ICO registration number"),
        help_text=_("Like Z1234567. It is on your data protection fee certificate."),
    )
    registered_address = _text(
        _("Registered address"),
        max_length=1000,
        textarea=True,
        required=_("Enter your organisation's registered address"),
    )
    website = forms.URLField(
        label=_("Website"),
        max_length=200,
        assume_scheme="https",
        help_text=_(
            "Like https://www.northfield-college.ac.uk. Your users' email "
            "addresses must be on this domain."
        ),
        error_messages={
            "required": _("Enter your organisation's website address"),
            "invalid": _(
                "Enter a website address in the correct format, like "
                "https://www.northfield-college.ac.uk"
            ),
            "max_length": _("Website must be 200 characters or fewer"),
        },
    )
    super_user_confirmed = forms.BooleanField(
        label=_("I will be my organisation's LRS super user"),
        error_messages={
            "required": _("Confirm that you will be your organisation's LRS super user")
        },
    )

    class Meta:
        model = RegistrationApplication
        fields = (
            "legal_name",
            "trading_names",
            "ukprn",
            "companies_house_number",
            "ico_number",
            "registered_address",
            "website",
        )

    def __init__(self, *args: Any, applicant: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applicant = applicant
        if self.instance.legal_name:
            self.fields["super_user_confirmed"].initial = True

    def clean_trading_names(self) -> str:
        names = self.cleaned_data["trading_names"].splitlines()
        return "\n".join(name.strip() for name in names if name.strip())

    def clean_ukprn(self) -> str:
        validators.validate_ukprn(self.cleaned_data["ukprn"])
        return validators.normalise_ukprn(self.cleaned_data["ukprn"])

    def clean_companies_house_number(self) -> str:
        number = self.cleaned_data["companies_house_number"]
        validators.validate_company_number(number)
        return validators.normalise_company_number(number)

    def clean_ico_number(self) -> str:
        validators.validate_ico_number(self.cleaned_data["ico_number"])
        return validators.normalise_ico_number(self.cleaned_data["ico_number"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        website = cleaned.get("website")
        if website and cleaned.get("super_user_confirmed"):
            self._check_super_user_email(website)
        return cleaned

    def _check_super_user_email(self, website: str) -> None:
        email = self.applicant.email
        try:
            validators.validate_email_on_organisation_domain(email, website)
        except ValidationError as exc:
            if exc.code == "no_website":
                self.add_error("website", exc)
                return
            self._super_user_error(exc)
            return
        try:
            validators.validate_personal_mailbox(email)
        except ValidationError as exc:
            self._super_user_error(exc)

    def _super_user_error(self, exc: ValidationError) -> None:
        reason = " ".join(exc.messages)
        self.add_error(
            "super_user_confirmed",
            ValidationError(
                _(
                    "Your account's email address (%(email)s) cannot be the super "
                    "user's. %(reason)s. The super user must create their account "
                    "with their own work email address on your organisation's domain"
                )
                % {"email": self.applicant.email, "reason": reason},
                code="super_user_email",
            ),
        )


# --- Accreditation and learners -----------------------------------------------------


class WholeNumberField(forms.IntegerField):
    """A whole number typed with or without commas ("1,500"), digits 0 to 9 only."""

    def to_python(self, value: Any) -> int | None:
        text = re.sub(r"[,\s]", "", str(value or ""))
        if not text:
            return None
        if not re.fullmatch(r"[0-9]{1,12}", text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class AccreditationForm(forms.Form):
    """Add an awarding organisation ("add"), or save the section ("save").

    Saving needs the number of learners and at least one awarding organisation;
    one typed in but not yet added is added on save.
    """

    ADD = "add"
    SAVE = "save"

    awarding_organisation = _text(_("Awarding organisation"), max_length=160)
    reference = _text(
        _("Your centre number or reference with them"),
        max_length=60,
        help_text=_("Like PEA-1234."),
    )
    estimated_learners_per_year = WholeNumberField(
        label=_("How many learners do you expect to enrol each year?"),
        min_value=1,
        max_value=LEARNERS_MAX,
        help_text=_("An estimate is fine, like 1,500."),
        error_messages={
            "required": _("Enter how many learners you expect to enrol each year"),
            "invalid": _("Enter the number of learners as a whole number, like 1500"),
            "min_value": _("The number of learners must be 1 or more"),
            "max_value": _(
                "The number of learners must be 1,000,000 or fewer. "
                "Contact the department if you expect more"
            ),
        },
    )

    def __init__(
        self, *args: Any, application: RegistrationApplication, action: str, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.application = application
        self.action = action if action in (self.ADD, self.SAVE) else self.SAVE
        if self.action == self.ADD and self._only_learners_typed():
            self.action = self.SAVE  # Enter in the last box presses the first button
        self.fields["estimated_learners_per_year"].required = self.action == self.SAVE

    def _only_learners_typed(self) -> bool:
        def typed(name: str) -> bool:
            return bool(str(self.data.get(self.add_prefix(name), "")).strip())

        return typed("estimated_learners_per_year") and not (
            typed("awarding_organisation") or typed("reference")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name = cleaned.get("awarding_organisation", "")
        reference = cleaned.get("reference", "")
        typed = bool(name or reference)
        if self.action == self.ADD or typed:
            self._check_new_accreditation(name, reference)
        elif not self.application.accreditations.exists():
            self.add_error(
                "awarding_organisation",
                _("Add at least one awarding organisation you are accredited with"),
            )
        return cleaned

    def _check_new_accreditation(self, name: str, reference: str) -> None:
        if "awarding_organisation" in self.errors or "reference" in self.errors:
            return
        if not name:
            self.add_error(
                "awarding_organisation", _("Enter the awarding organisation")
            )
        if not reference:
            self.add_error("reference", _("Enter your centre number or reference"))
        existing = self.application.accreditations.filter(
            awarding_organisation__iexact=name
        )
        if name and existing.exists():
            self.add_error(
                "awarding_organisation",
                _("You have already added %(name)s") % {"name": name},
            )

    @property
    def new_accreditation(self) -> tuple[str, str] | None:
        name = self.cleaned_data.get("awarding_organisation", "")
        return (name, self.cleaned_data["reference"]) if name else None


# --- Going concern ------------------------------------------------------------------


class AccountsUploadForm(forms.Form):
    accounts_document = forms.FileField(
        label=_("Upload your latest accounts (optional)"),
        required=False,
        help_text=_("A PDF file, smaller than 10MB."),
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={
            "invalid": _("The selected file could not be uploaded. Try again"),
            "missing": _("Select a file"),
            "empty": _("The selected file is empty"),
            "contradiction": _("Select a file"),
        },
    )

    def clean_accounts_document(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("accounts_document")
        if not upload:
            return None
        if (upload.size or 0) > ACCOUNTS_MAX_BYTES:
            raise ValidationError(
                _("The selected file must be smaller than 10MB"), code="too_big"
            )
        upload.seek(0)
        header = upload.read(5)
        upload.seek(0)
        if header != b"%PDF-":  # the content decides, not the name or the browser
            raise ValidationError(_("The selected file must be a PDF"), code="not_pdf")
        return upload


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


# --- Signing director ---------------------------------------------------------------


def director_label(director: Director) -> str:
    since = (
        govuk_date(director.appointed_on.isoformat()) if director.appointed_on else ""
    )
    if not since:
        return director.name
    return _("%(name)s (director since %(since)s)") % {
        "name": director.name,
        "since": since,
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
    email = _email(
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


# --- Check answers ------------------------------------------------------------------


class DeclarationForm(forms.Form):
    confirmed = forms.BooleanField(
        label=_("I confirm the declaration"),
        error_messages={
            "required": _("Confirm the declaration to submit the application")
        },
    )


# --- Signing the agreement ----------------------------------------------------------


class SignAgreementForm(forms.Form):
    typed_name = _text(
        _("Your full name"),
        max_length=200,
        required=_("Enter your full name"),
        help_text=_("As it appears at Companies House."),
    )
    code = _text(
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


# --- The organisation's users -------------------------------------------------------


class InviteUserForm(forms.Form):
    full_name = _text(
        _("Full name"), max_length=200, required=_("Enter their full name")
    )
    email = _email(
        _("Work email address"), required=_("Enter their work email address")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _(
            "Their own email address on your organisation's domain, not a shared "
            "mailbox."
        )


class AcceptInvitationForm(forms.Form):
    password = _password_field(_("Create a password"))

    def __init__(self, *args: Any, email: str, full_name: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.person = User(email=email, full_name=full_name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_password(self, "password", self.person)
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
