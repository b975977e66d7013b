"""The application's forms: the account to apply with, the organisation's details,
its accreditation, its latest accounts and the declaration."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from lrs_portal.models import User
from registration import validators
from registration.forms.fields import (
    ACCOUNTS_MAX_BYTES,
    LEARNERS_MAX,
    WholeNumberField,
    check_password,
    email_field,
    password_field,
    text_field,
)
from registration.models import (
    RegistrationApplication,
)

# --- Creating an account to apply ---------------------------------------------------


class CreateAccountForm(forms.Form):
    full_name = text_field(
        _("Full name"), max_length=200, required=_("Enter your full name")
    )
    email = email_field(_("Email address"), required=_("Enter your email address"))
    password = password_field()

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
        check_password(self, "password", user)
        return cleaned


# --- Organisation details -----------------------------------------------------------


class OrganisationDetailsForm(forms.ModelForm[RegistrationApplication]):
    legal_name = text_field(
        _("Legal name"),
        max_length=160,
        required=_("Enter your organisation's legal name"),
        help_text=_("As it appears at Companies House."),
    )
    trading_names = text_field(
        _("Trading names (optional)"),
        max_length=2000,
        textarea=True,
        help_text=_(
            "Any other names your organisation uses. Put each on its own line."
        ),
    )
    ukprn = text_field(
        _("UK Provider Reference Number (UKPRN)"),
        max_length=40,
        required=_("Enter a UKPRN"),
        help_text=_(
            "8 digits, like 10012345. It is on the UK Register of Learning Providers."
        ),
    )
    companies_house_number = text_field(
        _("Companies House number"),
        max_length=40,
        required=_("Enter a company registration number"),
        help_text=_("8 digits, or 2 letters and 6 digits, like 01234567 or SC123456."),
    )
    ico_number = text_field(
        _("ICO registration number"),
        max_length=40,
        required=_("Enter an ICO registration number"),
        help_text=_("Like Z1234567. It is on your data protection fee certificate."),
    )
    registered_address = text_field(
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


class AccreditationForm(forms.Form):
    """Add an awarding organisation ("add"), or save the section ("save").

    Saving needs the number of learners and at least one awarding organisation;
    one typed in but not yet added is added on save.
    """

    ADD = "add"
    SAVE = "save"

    awarding_organisation = text_field(_("Awarding organisation"), max_length=160)
    reference = text_field(
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


# --- Check answers ------------------------------------------------------------------


class DeclarationForm(forms.Form):
    confirmed = forms.BooleanField(
        label=_("I confirm the declaration"),
        error_messages={
            "required": _("Confirm the declaration to submit the application")
        },
    )
