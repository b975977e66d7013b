"""The forms of a data share request's sections (the task list's question
pages). They only validate; views save through approvals.services. Messages
follow the GOV.UK pattern: say what is wrong and how to put it right; they are
marked for translation (approvals.form_fields).

The other forms of the requester's pages are approvals.request_forms."""

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals.form_fields import (
    YES_NO,
    DateField,
    _radios,
    _text,
    said_later,
    years_after,
    yes_no,
)
from approvals.models import DataShareRequest

R = DataShareRequest
RECORDS_MAX = 50_000_000
LONGEST_SHARE_YEARS = 5

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
            "special_category": yes_no(request.special_category),
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
            "max_value": said_later(
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
            "linkage": yes_no(request.linkage),
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
            elif end > years_after(start, LONGEST_SHARE_YEARS):
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
