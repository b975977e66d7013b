"""The parts of a registration application's admin page: one block per vetting
check (what the portal found, the guidance, the caseworker's call), the awarding
organisations' accreditations and the follow-up discussions."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lrs_portal.admin_display import evidence
from registration import permissions
from registration.admin.base import OPEN_STATUSES, ViewOnlyInline, _user
from registration.models import (
    ApplicationCheck,
    AwardingOrganisationAccreditation,
    CheckGuidance,
    CheckKind,
    FollowUpDiscussion,
)

# What each check records (registration/services/applications/vetting.py,
# registration/ico/), in words; a key not listed here is shown with its own name
# made readable.
EVIDENCE_LABELS = {
    "company_number": "Company number",
    "company_name": "Name at Companies House",
    "company_status": "Company status",
    "company_status_detail": "Status detail",
    "fetched_at": "Read from Companies House",
    "findings": "Findings",
    "severity": "Severity",
    "message": "What was found",
    "accounts_uploaded": "Accounts uploaded",
    "ukprn": "UKPRN",
    "returning_organisation": "Returning organisation (its number here)",
    "director": "Nominated director",
    "appointment": "Companies House appointment",
    "signed_at": "Signed",
    "agreement_version": "Agreement version",
    "code": "Result code",
    "registration_number": "ICO registration number",
    "organisation_name": "Name on the ICO register",
    "trading_names": "Trading names on the register",
    "start_date": "Registered from",
    "end_date": "Registered until",
    "payment_tier": "Fee tier",
    "imported_at": "Register copy imported",
}

_RESULT_COLOURS = {
    ApplicationCheck.Result.PASS: "#00703c",
    ApplicationCheck.Result.NEEDS_REVIEW: "#a35200",
    ApplicationCheck.Result.FAIL: "#d4351c",
    ApplicationCheck.Result.NOT_RUN: "#505a5f",
}
_KIND_ORDER = Case(
    *(When(kind=kind, then=Value(i)) for i, kind in enumerate(CheckKind)),
    output_field=IntegerField(),
)


class ApplicationCheckInline(admin.StackedInline):  # type: ignore[type-arg]
    """One block per check: what the portal found, the guidance, the caseworker's call.

    Saved through check_record_outcome (RegistrationApplicationAdmin.save_formset).
    """

    model = ApplicationCheck
    extra = 0
    can_delete = False
    fields = (
        ("kind", "result", "checked_at"),
        "automatic_summary",
        "evidence_rows",
        "guidance",
        ("outcome", "notes"),
        ("decided_by", "decided_at"),
    )
    readonly_fields = (
        "kind",
        "result",
        "checked_at",
        "automatic_summary",
        "evidence_rows",
        "guidance",
        "decided_by",
        "decided_at",
    )
    raw_id_fields = ("decided_by",)
    formfield_overrides = {
        TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 80})}
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApplicationCheck]:
        guidance = CheckGuidance.objects.filter(kind=OuterRef("kind")).values("text")
        checks: QuerySet[ApplicationCheck] = super().get_queryset(request)
        return (
            checks.select_related("decided_by")
            .annotate(guidance_text=Subquery(guidance[:1]), kind_order=_KIND_ORDER)
            .order_by("kind_order")
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_change_permission(request, obj)
            and obj is not None
            and obj.status in OPEN_STATUSES
            and permissions.can_vet(_user(request))
        )

    @admin.display(description="Automatic result")
    def result(self, check: ApplicationCheck) -> SafeString:
        result = ApplicationCheck.Result(check.automatic_result)
        colour = _RESULT_COLOURS.get(result, "#0b0c0c")
        return format_html(
            '<strong style="color: {}">{}</strong>',
            colour,
            check.get_automatic_result_display(),
        )

    @admin.display(description="Evidence")
    def evidence_rows(self, check: ApplicationCheck) -> SafeString:
        return evidence(check.evidence, EVIDENCE_LABELS)

    @admin.display(description="Guidance")
    def guidance(self, check: ApplicationCheck) -> str:
        return getattr(check, "guidance_text", None) or "No guidance written yet."


class AccreditationInline(ViewOnlyInline):
    model = AwardingOrganisationAccreditation
    fields = ("awarding_organisation", "reference")


class FollowUpDiscussionInline(ViewOnlyInline):
    model = FollowUpDiscussion
    fields = (
        "held_on",
        "attendees",
        "summary",
        "purpose_acceptable",
        "recorded_by",
        "recorded_at",
    )
    raw_id_fields = ("recorded_by",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUpDiscussion]:
        return super().get_queryset(request).select_related("recorded_by")
