"""Data share requests: the queue and the read-only case page, releases and
destruction certificates.

The page's inlines are in approvals.admin.request_inlines, its workflow pages in
approvals.admin.request_workflow (the risk model's score in words and as a table
in approvals.admin.risk), the case file's in approvals.admin.casefile and the
dashboard in approvals.admin.dashboard.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from approvals import permissions
from approvals.admin.base import NotYoursIsNotFound, S, is_dsap_staff
from approvals.admin.casefile import CASE_FILE_INLINES, CaseFileAdminMixin
from approvals.admin.dashboard import DashboardAdminMixin
from approvals.admin.request_inlines import REQUEST_INLINES
from approvals.admin.request_workflow import RequestWorkflowAdmin
from approvals.models import DataShareRequest, DestructionCertificate, Release
from approvals.services import researchers_to_flag
from approvals.services.secretariat import overdue_requests
from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from registration.admin.base import ReadOnlyFormMixin, _user

# --- requests ---------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    title = "needs"
    parameter_name = "needs"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (
            ("triage", "Triage"),
            ("assessor", "An assessor"),
            ("meeting", "A panel meeting"),
            ("release", "Release"),
            ("certificate", "Certificate overdue or to accept"),
            ("overdue", "Over its stage's time target"),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.value()
        today = timezone.localdate()
        filters = {
            "triage": Q(status=S.SUBMITTED),
            "assessor": Q(status=S.ASSESSMENT, assessor__isnull=True),
            "meeting": Q(status__in=[S.PANEL, S.DEFERRED], panel_meeting__isnull=True)
            | Q(status=S.DEFERRED),
            "release": Q(status__in=[S.APPROVED, S.APPROVED_WITH_CONDITIONS]),
            "certificate": Q(status=S.CLOSING)
            & (Q(certificate_due_on__lt=today) | Q(certificate__isnull=False)),
        }
        if value == "overdue":  # the time targets of decision 17
            return queryset.filter(pk__in=overdue_requests(today).values("pk"))
        return queryset.filter(filters[value]) if value in filters else queryset


@admin.register(DataShareRequest)
class DataShareRequestAdmin(
    ServiceLevelAdminMixin,
    DashboardAdminMixin,
    CaseFileAdminMixin,
    NotYoursIsNotFound,
    ReadOnlyFormMixin,
    RequestWorkflowAdmin,
):
    list_display = (
        "reference",
        "project_title",
        "organisation",
        "status",
        "assessor",
        "panel_meeting",
        "end_date",
        "certificate_overdue",
        "days_in_stage",
    )
    list_filter = (QueueFilter, "status", "legal_gateway", "access_route")
    list_select_related = ("organisation", "assessor", "panel_meeting")
    # Waiting for the department: triage, assessment, the panel, release.
    service_level = ServiceLevelQueue(
        key="data_share_requests",
        label="Data share requests waiting in their stage",
        statuses=(
            S.SUBMITTED,
            S.ASSESSMENT,
            S.PANEL,
            S.DEFERRED,
            S.APPROVED,
            S.APPROVED_WITH_CONDITIONS,
        ),
        since="stage_entered_at",
    )
    search_fields = ("=reference", "project_title", "organisation__name")
    ordering = ("submitted_at", "pk")
    inlines = (*REQUEST_INLINES, *CASE_FILE_INLINES)
    exclude = ("history",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in DataShareRequest._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataShareRequest]:
        visible = permissions.requests_visible_to_staff(_user(request))
        return visible.select_related("organisation", "assessor", "panel_meeting")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or is_dsap_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request) or is_dsap_staff(request)

    @admin.display(description="Certificate overdue", boolean=True)
    def certificate_overdue(self, request: DataShareRequest) -> bool:
        due = request.certificate_due_on
        return (
            request.status == S.CLOSING
            and due is not None
            and due < timezone.localdate()
        )

    def change_page_context(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> dict[str, Any]:
        if self.has_view_permission(request, obj):
            return {"workflow_tools": self.tools(request, obj)}
        return {}

    def tools(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> list[dict[str, str]]:
        offered = [
            *self.request_tools(request, obj),
            *self.case_file_tools(request, obj),
        ]
        return [self.workflow_tool(label, name, obj) for label, name in offered]

    def get_urls(self) -> list[URLPattern]:
        return [
            *self.dashboard_urls(),
            *self.request_urls(),
            *self.case_file_urls(),
            *self.default_urls(),
        ]


@admin.register(Release)
class ReleaseAdmin(ViewOnlyMixin, BaseAdmin):
    list_display = (
        "request",
        "dataset",
        "srs_project_reference",
        "access_route",
        "end_date",
        "flagged_researchers",
    )
    list_select_related = ("request", "dataset")

    @admin.display(description="Accreditation ends before the end date")
    def flagged_researchers(self, release: Release) -> SafeString | str:
        flagged = researchers_to_flag(list(release.researchers.all()), release.end_date)
        if not flagged:
            return "None"
        return format_html_join(", ", "{}", ((r.full_name,) for r in flagged))


@admin.register(DestructionCertificate)
class DestructionCertificateAdmin(ViewOnlyMixin, BaseAdmin):
    list_display = ("request", "destroyed_by", "destroyed_on", "accepted_at")
    list_select_related = ("request",)
