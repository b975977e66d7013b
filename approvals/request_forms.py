"""The requester's other forms: a dataset, a researcher, the declaration on
submitting, the destruction certificate, and asking to change a live share.
They only validate; views save through approvals.services. Messages are marked
for translation (approvals.form_fields)."""

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals.form_fields import (
    DateField,
    _radios,
    _text,
    years_after,
)
from approvals.models import DataShareRequest, RequestedDataset, Researcher

ACADEMIC_YEAR = re.compile(r"^(?P<start>[0-9]{4})/(?P<end>[0-9]{2})$")
FIRST_NPD_YEAR = 2002  # the NPD starts with 2002/03
# How long each accreditation lasts (domain.md 5.4): full five years, provisional
# three; an expiry date further away is a mistake.
ACCREDITATION_YEARS: dict[str, int] = {
    Researcher.Accreditation.FULL: 5,
    Researcher.Accreditation.PROVISIONAL: 3,
}


class DatasetForm(forms.Form):
    academic_year = _text(
        _("Academic year"),
        required=_("Enter the academic year, like 2019/20"),
        max_length=7,
    )
    tier = _radios(
        _("Tier"),
        RequestedDataset.Tier.choices,
        required=_("Select the tier of the extract"),
    )

    def clean_academic_year(self) -> str:
        value: str = self.cleaned_data["academic_year"].strip()
        match = ACADEMIC_YEAR.match(value)
        if match is None or not value.isascii():
            raise forms.ValidationError(
                _("Enter the academic year in the format 2019/20")
            )
        start = int(match["start"])
        if (start + 1) % 100 != int(match["end"]):
            raise forms.ValidationError(
                _("The academic year must be two years in a row, like 2019/20")
            )
        if not FIRST_NPD_YEAR <= start < timezone.localdate().year:
            raise forms.ValidationError(
                gettext("The academic year must be between %(first)s and last year")
                % {"first": f"{FIRST_NPD_YEAR}/{(FIRST_NPD_YEAR + 1) % 100:02d}"}
            )
        return value

    def clean_tier(self) -> int:
        return int(self.cleaned_data["tier"])


class ResearcherForm(forms.Form):
    full_name = _text(
        _("Full name"), required=_("Enter the researcher's full name"), max_length=200
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter the researcher's email address"),
            "invalid": _(
                "Enter an email address in the correct format, like name@example.com"
            ),
            "max_length": _("Email address must be 254 characters or fewer"),
        },
    )
    accreditation = _radios(
        _("Accreditation"),
        Researcher.Accreditation.choices,
        required=_("Select the researcher's accreditation"),
    )
    accreditation_number = _text(
        _("Accreditation number"), required=None, max_length=40
    )
    accreditation_expires_on = DateField(
        label=_("Accreditation expiry date"),
        required=_("Enter the date the accreditation expires"),
        help_text=_(
            "Every accreditation has one: a full accreditation lasts 5 "
            "years, a provisional one 3."
        ),
    )

    def clean(self) -> dict[str, Any]:
        # The expiry date is not needed for someone without accreditation.
        cleaned = super().clean() or {}
        accredited = cleaned.get("accreditation") not in (
            None,
            Researcher.Accreditation.NONE,
        )
        if accredited and not cleaned.get("accreditation_number"):
            self.add_error("accreditation_number", _("Enter the accreditation number"))
        expires = cleaned.get("accreditation_expires_on")
        if accredited and expires is not None:
            self._check_expiry(cleaned["accreditation"], expires)
        if not accredited:
            self.errors.pop("accreditation_expires_on", None)
            cleaned["accreditation_expires_on"] = None
        return cleaned

    def _check_expiry(self, accreditation: str, expires: date) -> None:
        today = timezone.localdate()
        if expires < today:
            self.add_error(
                "accreditation_expires_on",
                _(
                    "The accreditation has expired: the accreditation expiry date must "
                    "be today or in the future"
                ),
            )
            return
        years = ACCREDITATION_YEARS.get(accreditation)
        if years and expires > years_after(today, years):
            self.add_error(
                "accreditation_expires_on",
                gettext(
                    "A %(kind)s accreditation lasts %(years)s years: the expiry date "
                    "must be within %(years)s years of today"
                )
                % {
                    "kind": str(Researcher.Accreditation(accreditation).label).lower(),
                    "years": years,
                },
            )


class SubmitForm(forms.Form):
    response = _text(
        _("Your answer to our request for information"), required=None, rows=6
    )
    confirmed = forms.BooleanField(
        label=_(
            "I confirm the information is true and complete, and that my "
            "organisation will use the data only for this project"
        ),
        error_messages={"required": _("Confirm the declaration to submit the request")},
    )

    def __init__(self, *args: Any, returned: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if returned:
            self.fields["response"].required = True
            self.fields["response"].error_messages["required"] = _(
                "Answer our request for information"
            )
        else:
            del self.fields["response"]


class CertificateForm(forms.Form):
    destroyed_by = _text(
        _("Who destroyed the data"),
        required=_("Enter who destroyed the data"),
        max_length=200,
    )
    destroyed_on = DateField(
        label=_("Date destroyed"), required=_("Enter the date the data was destroyed")
    )
    what_was_destroyed = _text(
        _("What was destroyed"),
        required=_("Enter what was destroyed, including copies and derived files"),
        rows=4,
    )
    method = _text(
        _("How it was destroyed"),
        required=_("Enter how the data was destroyed"),
        rows=4,
    )

    def clean_destroyed_on(self) -> date:
        value: date = self.cleaned_data["destroyed_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(
                _("Date destroyed must be today or in the past")
            )
        return value


class ChangeForm(forms.Form):
    """Ask to amend or extend a live share (decision 17)."""

    kind = _radios(
        _("What do you need to change?"),
        DataShareRequest.ChangeKind.choices,
        required=_("Select whether you need an amendment or an extension"),
        help_text=_(
            "We copy your approved request. Change what you need, then "
            "submit it: it is assessed and decided like a new request."
        ),
    )
