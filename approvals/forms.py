"""Forms for the requester's pages. They only validate; views save through
approvals.services. Messages follow the GOV.UK pattern: say what is wrong and
how to put it right."""

import re
from datetime import date
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone

from approvals.models import DataShareRequest, RequestedDataset, Researcher
from lrs_portal.dates import month_number

R = DataShareRequest
ACADEMIC_YEAR = re.compile(r"^(?P<start>[0-9]{4})/(?P<end>[0-9]{2})$")
FIRST_NPD_YEAR = 2002  # the NPD starts with 2002/03
RECORDS_MAX = 50_000_000
LONGEST_SHARE_YEARS = 5
# How long each accreditation lasts (domain.md 5.4): full five years, provisional
# three; an expiry date further away is a mistake.
ACCREDITATION_YEARS: dict[str, int] = {
    Researcher.Accreditation.FULL: 5,
    Researcher.Accreditation.PROVISIONAL: 3,
}
YES_NO = (("yes", "Yes"), ("no", "No"))
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
_DATE_PARTS = ("day", "month", "year")


def _text(
    label: str, *, required: str | None, max_length: int = 5000, rows: int = 0
) -> forms.CharField:
    """A text field with a plain message for a missing, too long or NUL value."""
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required is not None,
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
        error_messages={
            "required": required or "",
            "max_length": f"{label} must be {max_length:,} characters or fewer",
        },
    )
    field.validators = [
        ProhibitNullCharactersValidator(
            message=f"{label} must not include hidden control characters"
        )
        if isinstance(v, ProhibitNullCharactersValidator)
        else v
        for v in field.validators
    ]
    return field


def _radios(
    label: str, choices: Any, *, required: str, help_text: str = ""
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": required, "invalid_choice": required},
    )


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


# --- GOV.UK date input ------------------------------------------------------------


class DateInputWidget(forms.MultiWidget):
    """Day, month and year boxes (templates/approvals/_date_input.html)."""

    def __init__(self) -> None:
        super().__init__({part: forms.TextInput() for part in _DATE_PARTS})

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""


class DateField(forms.MultiValueField):
    """Three boxes that must make a real date."""

    widget = DateInputWidget

    def __init__(self, *, label: str, required: str, **kwargs: Any) -> None:
        real = f"{label} must be a real date"
        parts = [
            forms.CharField(
                required=False, max_length=10, error_messages={"max_length": real}
            )
            for _ in _DATE_PARTS
        ]
        self.missing_message = required
        super().__init__(
            parts, label=label, required=False, require_all_fields=False, **kwargs
        )

    def compress(self, data_list: list[str]) -> date | None:
        day, month, year = (p.strip() for p in (data_list or ["", "", ""]))
        month = month_number(month)  # "May", "march", "Sept" (GOV.UK date input)
        label = str(self.label)
        if not (day or month or year):
            raise forms.ValidationError(self.missing_message, code="required")
        missing = [
            n for n, v in zip(_DATE_PARTS, (day, month, year), strict=True) if not v
        ]
        if missing:
            raise forms.ValidationError(
                f"{label} must include a {' and '.join(missing)}"
            )
        if not all(v.isascii() and v.isdigit() for v in (day, month, year)):
            raise forms.ValidationError(f"{label} must be a real date")
        if len(year) != 4:
            raise forms.ValidationError("Year must include 4 numbers")
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(f"{label} must be a real date") from None
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(
                f"{label} must be between {EARLIEST_YEAR} and {LATEST_YEAR}"
            )
        return value


def _years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February, in a year that is not a leap year
        return start.replace(year=start.year + years, day=28)


# --- the request's sections -------------------------------------------------------


class ProjectForm(forms.Form):
    project_title = _text(
        "Project title", required="Enter the project title", max_length=200
    )
    summary = _text(
        "Summary and public benefit",
        required="Enter a summary of the project and its public benefit",
        rows=6,
    )
    research_interest = _text(
        "How the project supports the department's areas of research interest",
        required="Say how the project supports the department's research interests",
        rows=6,
    )

    @staticmethod
    def initial_from(request: DataShareRequest) -> dict[str, Any]:
        return {
            "project_title": request.project_title,
            "summary": request.summary,
            "research_interest": request.research_interest,
        }

    def answers(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class LegalForm(forms.Form):
    legal_gateway = _radios(
        "Legal gateway", R.LegalGateway.choices, required="Select the legal gateway"
    )
    lawful_basis = _radios(
        "Lawful basis under UK GDPR Article 6",
        R.LawfulBasis.choices,
        required="Select the lawful basis",
    )
    special_category = _radios(
        "Does the project involve special category data?",
        YES_NO,
        required="Select yes if the project involves special category data",
        help_text="For example ethnicity, health or special educational needs.",
    )
    special_category_condition = _radios(
        "If yes, the condition under UK GDPR Article 9",
        [("", "Not applicable"), *R.SpecialCategoryCondition.choices],
        required="Select the Article 9 condition",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["special_category_condition"].required = False

    @staticmethod
    def initial_from(request: DataShareRequest) -> dict[str, Any]:
        return {
            "legal_gateway": request.legal_gateway,
            "lawful_basis": request.lawful_basis,
            "special_category": _yes_no(request.special_category),
            "special_category_condition": request.special_category_condition,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        special = cleaned.get("special_category") == "yes"
        if special and not cleaned.get("special_category_condition"):
            self.add_error(
                "special_category_condition",
                "Select the Article 9 condition for special category data",
            )
        return cleaned

    def answers(self) -> dict[str, Any]:
        special = self.cleaned_data["special_category"] == "yes"
        return {
            "legal_gateway": self.cleaned_data["legal_gateway"],
            "lawful_basis": self.cleaned_data["lawful_basis"],
            "special_category": special,
            "special_category_condition": (
                self.cleaned_data["special_category_condition"] if special else ""
            ),
        }


class DataForm(forms.Form):
    records_expected = forms.IntegerField(
        label="How many pupil records do you expect?",
        min_value=1,
        max_value=RECORDS_MAX,
        error_messages={
            "required": "Enter how many records you expect",
            "invalid": "Records expected must be a whole number, like 50000",
            "min_value": "Records expected must be 1 or more",
            "max_value": f"Records expected must be {RECORDS_MAX:,} or fewer",
        },
    )
    linkage = _radios(
        "Will you link the data to other data?",
        YES_NO,
        required="Select yes if you will link the data to other data",
    )
    linkage_detail = _text(
        "If yes, what you will link it to, and how", required=None, rows=4
    )

    @staticmethod
    def initial_from(request: DataShareRequest) -> dict[str, Any]:
        return {
            "records_expected": request.records_expected,
            "linkage": _yes_no(request.linkage),
            "linkage_detail": request.linkage_detail,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("linkage") == "yes" and not cleaned.get("linkage_detail"):
            self.add_error("linkage_detail", "Say what you will link the data to")
        return cleaned

    def answers(self) -> dict[str, Any]:
        linked = self.cleaned_data["linkage"] == "yes"
        return {
            "records_expected": self.cleaned_data["records_expected"],
            "linkage": linked,
            "linkage_detail": self.cleaned_data["linkage_detail"] if linked else "",
        }


class AccessForm(forms.Form):
    access_route = _radios(
        "How will researchers access the data?",
        R.AccessRoute.choices,
        required="Select how researchers will access the data",
        help_text="The ONS Secure Research Service is the default route.",
    )
    direct_supply_reason = _text(
        "If direct supply, why the Secure Research Service cannot be used",
        required=None,
        rows=4,
    )

    @staticmethod
    def initial_from(request: DataShareRequest) -> dict[str, Any]:
        return {
            "access_route": request.access_route,
            "direct_supply_reason": request.direct_supply_reason,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        direct = cleaned.get("access_route") == R.AccessRoute.DIRECT_SUPPLY
        if direct and not cleaned.get("direct_supply_reason"):
            self.add_error(
                "direct_supply_reason", "Give the reason you need direct supply"
            )
        return cleaned

    def answers(self) -> dict[str, Any]:
        direct = self.cleaned_data["access_route"] == R.AccessRoute.DIRECT_SUPPLY
        return {
            "access_route": self.cleaned_data["access_route"],
            "direct_supply_reason": (
                self.cleaned_data["direct_supply_reason"] if direct else ""
            ),
        }


class DatesForm(forms.Form):
    start_date = DateField(label="Start date", required="Enter the start date")
    end_date = DateField(label="End date", required="Enter the end date")
    retention_plan = _text(
        "Retention and destruction plan",
        required="Enter how you will keep and then destroy the data",
        rows=6,
    )

    @staticmethod
    def initial_from(request: DataShareRequest) -> dict[str, Any]:
        return {
            "start_date": request.start_date,
            "end_date": request.end_date,
            "retention_plan": request.retention_plan,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end:
            if end <= start:
                self.add_error("end_date", "End date must be after the start date")
            elif end > _years_after(start, LONGEST_SHARE_YEARS):
                self.add_error(
                    "end_date",
                    f"End date must be within {LONGEST_SHARE_YEARS} years of the "
                    "start date",
                )
        return cleaned

    def answers(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


SECTION_FORMS: dict[str, type[forms.Form]] = {
    "project": ProjectForm,
    "legal": LegalForm,
    "data": DataForm,
    "access": AccessForm,
    "dates": DatesForm,
}


class DatasetForm(forms.Form):
    academic_year = _text(
        "Academic year", required="Enter the academic year, like 2019/20", max_length=7
    )
    tier = _radios(
        "Tier",
        RequestedDataset.Tier.choices,
        required="Select the tier of the extract",
    )

    def clean_academic_year(self) -> str:
        value: str = self.cleaned_data["academic_year"].strip()
        match = ACADEMIC_YEAR.match(value)
        if match is None or not value.isascii():
            raise forms.ValidationError("Enter the academic year in the format 2019/20")
        start = int(match["start"])
        if (start + 1) % 100 != int(match["end"]):
            raise forms.ValidationError(
                "The academic year must be two years in a row, like 2019/20"
            )
        if not FIRST_NPD_YEAR <= start < timezone.localdate().year:
            raise forms.ValidationError(
                f"The academic year must be between {FIRST_NPD_YEAR}/"
                f"{(FIRST_NPD_YEAR + 1) % 100:02d} and last year"
            )
        return value

    def clean_tier(self) -> int:
        return int(self.cleaned_data["tier"])


class ResearcherForm(forms.Form):
    full_name = _text(
        "Full name", required="Enter the researcher's full name", max_length=200
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the researcher's email address",
            "invalid": "Enter an email address in the correct format, like "
            "name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    accreditation = _radios(
        "Accreditation",
        Researcher.Accreditation.choices,
        required="Select the researcher's accreditation",
    )
    accreditation_number = _text("Accreditation number", required=None, max_length=40)
    accreditation_expires_on = DateField(
        label="Accreditation expiry date",
        required="Enter the date the accreditation expires",
        help_text="Every accreditation has one: a full accreditation lasts 5 "
        "years, a provisional one 3.",
    )

    def clean(self) -> dict[str, Any]:
        # The expiry date is not needed for someone without accreditation.
        cleaned = super().clean() or {}
        accredited = cleaned.get("accreditation") not in (
            None,
            Researcher.Accreditation.NONE,
        )
        if accredited and not cleaned.get("accreditation_number"):
            self.add_error("accreditation_number", "Enter the accreditation number")
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
                "The accreditation has expired: the accreditation expiry date must "
                "be today or in the future",
            )
            return
        years = ACCREDITATION_YEARS.get(accreditation)
        if years and expires > _years_after(today, years):
            self.add_error(
                "accreditation_expires_on",
                f"A {Researcher.Accreditation(accreditation).label.lower()} "
                f"accreditation lasts {years} years: the expiry date must be within "
                f"{years} years of today",
            )


class SubmitForm(forms.Form):
    response = _text(
        "Your answer to our request for information", required=None, rows=6
    )
    confirmed = forms.BooleanField(
        label="I confirm the information is true and complete, and that my "
        "organisation will use the data only for this project",
        error_messages={"required": "Confirm the declaration to submit the request"},
    )

    def __init__(self, *args: Any, returned: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if returned:
            self.fields["response"].required = True
            self.fields["response"].error_messages["required"] = (
                "Answer our request for information"
            )
        else:
            del self.fields["response"]


class CertificateForm(forms.Form):
    destroyed_by = _text(
        "Who destroyed the data",
        required="Enter who destroyed the data",
        max_length=200,
    )
    destroyed_on = DateField(
        label="Date destroyed", required="Enter the date the data was destroyed"
    )
    what_was_destroyed = _text(
        "What was destroyed",
        required="Enter what was destroyed, including copies and derived files",
        rows=4,
    )
    method = _text(
        "How it was destroyed", required="Enter how the data was destroyed", rows=4
    )

    def clean_destroyed_on(self) -> date:
        value: date = self.cleaned_data["destroyed_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("Date destroyed must be today or in the past")
        return value


class ChangeForm(forms.Form):
    """Ask to amend or extend a live share (decision 17)."""

    kind = _radios(
        "What do you need to change?",
        DataShareRequest.ChangeKind.choices,
        required="Select whether you need an amendment or an extension",
        help_text="We copy your approved request. Change what you need, then "
        "submit it: it is assessed and decided like a new request.",
    )
