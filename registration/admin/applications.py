"""Registration applications: the vetting queue and the application's page.

Its inlines are in registration.admin.application_inlines and its workflow pages
in registration.admin.application_workflow.
"""

from pathlib import PurePosixPath
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from lrs_portal.admin_display import number
from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from registration.admin.application_inlines import (
    AccreditationInline,
    ApplicationCheckInline,
    FollowUpDiscussionInline,
)
from registration.admin.application_workflow import ApplicationWorkflowAdmin
from registration.admin.base import (
    OPEN_STATUSES,
    A,
    Groups,
    _fieldsets,
    _user,
    _when,
    field_names,
)
from registration.admin.csv_export import csv_response
from registration.admin.filters import QueueFilter
from registration.models import ApplicationCheck, RegistrationApplication
from registration.services import (
    ApprovalBlocked,
    approval_blockers,
    check_record_outcome,
)

# --- applications ------------------------------------------------------------------


_APPLICATION_FIELDSETS: Groups = (
    (
        "Application",
        (
            "reference",
            "status",
            "kind",
            "applicant",
            "organisation",
            "created_at",
            "submitted_at",
            "information_requested",
            "decided_at",
            "decision_reason",
        ),
    ),
    (
        "Organisation details",
        (
            "legal_name",
            "trading_names",
            "ukprn",
            "companies_house_number",
            "ico_number",
            "registered_address",
            "website",
        ),
    ),
    ("Super user", ("super_user_name", "super_user_email")),
    ("Accreditation and volume", ("learners_a_year",)),
    ("Going concern", ("accounts_document_link",)),
    ("Purpose", ("purpose", "exception", "purpose_detail")),
    (
        "Learners served (declared)",
        ("learner_ages_display", "learner_reach_display"),
    ),
    (
        "Signing director",
        (
            "signing_director_name",
            "signing_director_appointment",
            "signing_director_email",
            "signing_status",
        ),
    ),
    ("Declaration", ("declaration_accepted_at",)),
)


@admin.register(RegistrationApplication)
class RegistrationApplicationAdmin(ServiceLevelAdminMixin, ApplicationWorkflowAdmin):
    service_level = ServiceLevelQueue(
        key="applications",
        label="Registration applications waiting for vetting",
        statuses=(A.SUBMITTED,),
        since="submitted_at",
        changelist_query="queue=submitted",
    )
    list_display = (
        "reference",
        "legal_name",
        "ukprn",
        "kind",
        "status",
        "exception",
        "submitted_at",
    )
    list_filter = (QueueFilter, "status", "kind", "purpose")
    list_select_related = ("applicant", "organisation")
    raw_id_fields = ("applicant", "organisation")
    search_fields = (
        "=reference",
        "=ukprn",
        "=companies_house_number",
        "legal_name",
    )
    search_help_text = (
        "Exact reference, UKPRN or Companies House number, or part of the legal name"
    )
    ordering = ("submitted_at", "pk")
    actions = ("export_csv",)
    fieldsets = _fieldsets(_APPLICATION_FIELDSETS)
    readonly_fields = field_names(_APPLICATION_FIELDSETS)
    inlines = (AccreditationInline, ApplicationCheckInline, FollowUpDiscussionInline)

    CSV_COLUMNS = (
        ("Reference", "reference"),
        ("Legal name", "legal_name"),
        ("UKPRN", "ukprn"),
        ("Companies House number", "companies_house_number"),
        ("Kind", "get_kind_display"),
        ("Status", "get_status_display"),
        ("Purpose", "get_purpose_display"),
        ("Submitted at", "submitted_at"),
        ("Decided at", "decided_at"),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # providers apply on the public site

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only the check outcomes are edited here, and only while being vetted.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status in OPEN_STATUSES)

    @admin.display(description="Exception", boolean=True)
    def exception(self, application: RegistrationApplication) -> bool:
        return application.is_exception

    @admin.display(description="Learners a year (estimated)")
    def learners_a_year(self, application: RegistrationApplication) -> str:
        return number(application.estimated_learners_per_year)

    @admin.display(description="Ages of learners served")
    def learner_ages_display(self, application: RegistrationApplication) -> str:
        return application.learner_ages_display or "Not answered"

    @admin.display(description="Where learners come from")
    def learner_reach_display(self, application: RegistrationApplication) -> str:
        return application.learner_reach_display or "Not answered"

    @admin.display(description="Accounts")
    def accounts_document_link(self, application: RegistrationApplication) -> str:
        if not application.accounts_document:
            return "None uploaded"
        return format_html(
            '<a href="{}">Download {}</a>',
            self.workflow_url("accounts_document", application),
            PurePosixPath(application.accounts_document.name or "").name,
        )

    @admin.display(description="Signing links and signatures")
    def signing_status(self, application: RegistrationApplication) -> str:
        lines = [
            f"Version {s.agreement_version.number} signed {_when(s.signed_at)} by "
            f"{s.director_name_at_companies_house} (typed “{s.typed_name}”)"
            for s in application.signatures.select_related("agreement_version")
        ]
        latest = application.signing_requests.order_by("-created_at").first()
        if latest is not None:
            state = (
                f"used {_when(latest.used_at)}"
                if latest.used_at
                else f"cancelled {_when(latest.cancelled_at)}"
                if latest.cancelled_at
                else f"unused, expires {_when(latest.expires_at)}"
            )
            sent = _when(latest.created_at)
            lines.append(f"Latest link sent to {latest.email} {sent}: {state}")
        if not lines:
            return "No signing link sent yet"
        items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
        return format_html('<ul style="margin-left: 0">{}</ul>', items)

    # --- export ---

    @admin.action(description="Export selected to CSV", permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[RegistrationApplication]
    ) -> HttpResponse:
        def value(application: RegistrationApplication, attr: str) -> object:
            found = getattr(application, attr)
            return found() if callable(found) else found

        stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
        return csv_response(
            f"registration-applications-{stamp}.csv",
            [title for title, _ in self.CSV_COLUMNS],
            (
                [value(application, attr) for _, attr in self.CSV_COLUMNS]
                for application in queryset.order_by("submitted_at", "pk")
            ),
        )

    # --- saving: only check outcomes, each through the service ---

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: Any
    ) -> None:
        """The application's own fields are read-only here: nothing to save."""

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: Any
    ) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        if formset.model is not ApplicationCheck:
            return  # the other inlines are view-only
        for check_form in formset.initial_forms:
            if not check_form.has_changed():
                continue
            try:
                check = check_record_outcome(
                    check=check_form.instance,
                    acting_user=_user(request),
                    outcome=check_form.cleaned_data["outcome"],
                    notes=check_form.cleaned_data["notes"],
                )
            except (PermissionError, ApprovalBlocked) as exc:
                raise PermissionDenied from exc
            formset.changed_objects.append((check, check_form.changed_data))

    # --- the change page ---

    def change_page_context(
        self, request: HttpRequest, obj: RegistrationApplication
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"workflow_tools": self.tools(request, obj)}
        if obj.status in OPEN_STATUSES:
            context["approval_blockers"] = approval_blockers(obj)
        return context
