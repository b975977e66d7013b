"""Each organisation's yearly confirmation of its registration, for
caseworkers: read-only, with history and the year's progress (decision 0031).
Super users give the answers; a change is a re-verification case."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from registration.admin.base import ViewOnlyRegistrationAdmin
from registration.models import YearlyConfirmation
from registration.services.yearly_confirmation import suspension_day

STATUS = YearlyConfirmation.Status


class OverdueFilter(admin.SimpleListFilter):
    title = "progress"
    parameter_name = "progress"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("waiting", "Waiting, not yet due"),
            ("overdue", "Waiting, past due"),
            ("answered", "Answered"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[YearlyConfirmation]
    ) -> QuerySet[YearlyConfirmation]:
        today = timezone.localdate()
        if self.value() == "waiting":
            return queryset.filter(status=STATUS.PENDING, due_on__gte=today)
        if self.value() == "overdue":
            return queryset.filter(status=STATUS.PENDING, due_on__lt=today)
        if self.value() == "answered":
            return queryset.exclude(status=STATUS.PENDING)
        return queryset


@admin.register(YearlyConfirmation)
class YearlyConfirmationAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "organisation",
        "due_on",
        "status",
        "suspended_from",
        "answered_at",
        "answered_by",
        "reverification_case",
    )
    list_filter = (OverdueFilter, "status", "due_on")
    list_select_related = ("organisation", "answered_by", "reverification_case")
    search_fields = ("organisation__legal_name", "=organisation__ukprn")
    date_hierarchy = "due_on"
    fields = (
        "organisation",
        "anniversary",
        "opened_at",
        "due_on",
        "status",
        "answered_at",
        "answered_by",
        "changes",
        "on_record",
        "answers",
        "reverification_case",
    )
    readonly_fields = fields

    @admin.display(description="Suspended if not answered by")
    def suspended_from(self, obj: YearlyConfirmation) -> str:
        if obj.status != STATUS.PENDING:
            return "-"
        return f"{suspension_day(obj):%d %b %Y}"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The progress of the confirmations opened in the last year, above the
        list: answered, changed, waiting, past due and soon suspended."""
        today = timezone.localdate()
        grace = settings.YEARLY_CONFIRMATION_GRACE_DAYS
        counts = YearlyConfirmation.objects.filter(
            opened_at__gte=timezone.now() - timedelta(days=365)
        ).aggregate(
            confirmed=Count("pk", filter=Q(status=STATUS.CONFIRMED)),
            changed=Count("pk", filter=Q(status=STATUS.CHANGED)),
            waiting=Count("pk", filter=Q(status=STATUS.PENDING, due_on__gte=today)),
            overdue=Count("pk", filter=Q(status=STATUS.PENDING, due_on__lt=today)),
            suspension_due=Count(
                "pk",
                filter=Q(
                    status=STATUS.PENDING, due_on__lte=today - timedelta(days=grace)
                ),
            ),
        )
        progress = (
            f"In the last year: {counts['confirmed']} confirmed with nothing "
            f"changed, {counts['changed']} with changes sent to re-verification, "
            f"{counts['waiting']} waiting and not yet due, {counts['overdue']} past "
            f"due ({counts['suspension_due']} of them {grace} days or more, which "
            "housekeeping suspends)."
        )
        return super().changelist_view(
            request, {**(extra_context or {}), "progress": progress}
        )
