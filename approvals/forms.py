"""Forms for the requester's pages. They only validate; views save through
approvals.services. Messages follow the GOV.UK pattern: say what is wrong and
how to put it right.

Every label and message is marked for translation (docs/decisions/0034): those
built when the module loads are lazy, and one that names its field's label is
worked out when it is shown (_said_later), in the language of the page."""

import re
from datetime import date
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

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
YES_NO = (("yes", _("Yes")), ("no", _("No")))
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
_DATE_PARTS = ("day", "month", "year")
# Which boxes of a date are empty, as the message says it (never built from
# pieces: Welsh words do not join as the English do).
_MISSING = {
    ("day",): _("%(label)s must include a day"),
    ("month",): _("%(label)s must include a month"),
    ("year",): _("%(label)s must include a year"),
    ("day", "month"): _("%(label)s must include a day and month"),
    ("day", "year"): _("%(label)s must include a day and year"),
    ("month", "year"): _("%(label)s must include a month and year"),
}
_REAL_DATE = _("%(label)s must be a real date")


def _said_later(message: StrOrPromise, **params: object) -> StrOrPromise:
    """``message`` with its placeholders filled, worked out when it is shown, so
    in the language of that page (params may be lazy labels)."""

    def text() -> str:
        return str(message) % {name: str(value) for name, value in params.items()}

    return lazy(text, str)()


def _text(
    label: StrOrPromise,
    *,
    required: StrOrPromise | None,
    max_length: int = 5000,
    rows: int = 0,
) -> forms.CharField:
    """A text field with a plain message for a missing, too long or NUL value."""
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required is not None,
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
        error_messages={
            "required": required or "",
            "max_length": _said_later(
                _("%(label)s must be %(max)s characters or fewer"),
                label=label,
                max=f"{max_length:,}",
            ),
        },
    )
    field.validators = [
        ProhibitNullCharactersValidator(
            message=_said_later(
                _("%(label)s must not include hidden control characters"), label=label
            )
        )
        if isinstance(v, ProhibitNullCharactersValidator)
        else v
        for v in field.validators
    ]
    return field


def _radios(
    label: StrOrPromise,
    choices: Any,
    *,
    required: StrOrPromise,
    help_text: StrOrPromise = "",
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

    def __init__(
        self, *, label: StrOrPromise, required: StrOrPromise, **kwargs: Any
    ) -> None:
        real = _said_later(_REAL_DATE, label=label)
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
                str(_MISSING[tuple(missing)]) % {"label": label}
            )
        if not all(v.isascii() and v.isdigit() for v in (day, month, year)):
            raise forms.ValidationError(str(_REAL_DATE) % {"label": label})
        if len(year) != 4:
            raise forms.ValidationError(_("Year must include 4 numbers"))
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(str(_REAL_DATE) % {"label": label}) from None
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(
                gettext("%(label)s must be between %(earliest)s and %(latest)s")
                % {"label": label, "earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
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
        _("Project title"), required=_("Enter the project title"), max_length=200
    )
    summary = _text(
        _("Summary and public benefit"),
        required=_("Enter a summary of the project and its public benefit"),
        rows=6,
    )
    research_interest = _text(
        _("How the project supports the department's areas of research interest"),
        required=_("Say how the project supports the department's research interests"),
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
        _("Legal gateway"),
        R.LegalGateway.choices,
        required=_("Select the legal gateway"),
    )
    lawful_basis = _radios(
        _("Lawful basis under UK GDPR Article 6"),
        R.LawfulBasis.choices,
        required=_("Select the lawful basis"),
    )
    special_category = _radios(
        _("Does the project involve special category data?"),
        YES_NO,
        required=_("Select yes if the project involves special category data"),
        help_text=_("For example ethnicity, health or special educational needs."),
    )
    special_category_condition = _radios(
        _("If yes, the condition under UK GDPR Article 9"),
        [("", _("Not applicable")), *R.SpecialCategoryCondition.choices],
        required=_("Select the Article 9 condition"),
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
                _("Select the Article 9 condition for special category data"),
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
        label=_("How many pupil records do you expect?"),
        min_value=1,
        max_value=RECORDS_MAX,
        error_messages={
            "required": _("Enter how many records you expect"),
            "invalid": _("Records expected must be a whole number, like 50000"),
            "min_value": _("Records expected must be 1 or more"),
            "max_value": _said_later(
                _("Records expected must be %(max)s or fewer"), max=f"{RECORDS_MAX:,}"
            ),
        },
    )
    linkage = _radios(
        _("Will you link the data to other data?"),
        YES_NO,
        required=_("Select yes if you will link the data to other data"),
    )
    linkage_detail = _text(
        _("If yes, what you will link it to, and how"), required=None, rows=4
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
            self.add_error("linkage_detail", _("Say what you will link the data to"))
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
        _("How will researchers access the data?"),
        R.AccessRoute.choices,
        required=_("Select how researchers will access the data"),
        help_text=_("The ONS Secure Research Service is the default route."),
    )
    direct_supply_reason = _text(
        _("If direct supply, why the Secure Research Service cannot be used"),
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
                "direct_supply_reason", _("Give the reason you need direct supply")
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
    start_date = DateField(label=_("Start date"), required=_("Enter the start date"))
    end_date = DateField(label=_("End date"), required=_("Enter the end date"))
    retention_plan = _text(
        _("Retention and destruction plan"),
        required=_("Enter how you will keep and then destroy the data"),
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
                self.add_error("end_date", _("End date must be after the start date"))
            elif end > _years_after(start, LONGEST_SHARE_YEARS):
                self.add_error(
                    "end_date",
                    gettext("End date must be within %(years)s years of the start date")
                    % {"years": LONGEST_SHARE_YEARS},
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
        _("Academic year"),
        required=_("Enter the academic year, like 2019/20"),
        max_length=7,
    )
    tier = _radios(
        "Tier",
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
        "Accreditation",
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
        if years and expires > _years_after(today, years):
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
