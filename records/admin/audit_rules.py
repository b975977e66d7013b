"""The nightly audit in the admin: its rules, whose thresholds caseworkers tune
(with history), and the counts a day it keeps of each user (UsageDay, read-only)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import number
from lrs_portal.transitions import save_with_history
from records.admin.base import _user
from records.models import AuditRule, UsageDay


@admin.register(AuditRule)
class AuditRuleAdmin(BaseAdmin):
    """The nightly audit's rules: caseworkers tune thresholds; none is deleted
    (untick "enabled" instead), and every change keeps its history."""

    list_display = ("name", "enabled", "limit", "minimum", "suspends")
    list_editable = ()
    fields = (
        "code",
        "description",
        "enabled",
        "threshold",
        "minimum_volume",
        "suspends",
    )
    readonly_fields = ("code", "description")

    @admin.display(description="Rule", ordering="code")
    def name(self, rule: AuditRule) -> str:
        return rule.get_code_display()

    @admin.display(description="Threshold", ordering="threshold")
    def limit(self, rule: AuditRule) -> str:
        return number(rule.threshold)

    @admin.display(description="Minimum searches a day", ordering="minimum_volume")
    def minimum(self, rule: AuditRule) -> str:
        return number(rule.minimum_volume)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AuditRule, form: Any, change: bool
    ) -> None:
        save_with_history(
            obj,
            acting_user=_user(request),
            reason=f"Audit rule changed: {', '.join(form.changed_data) or 'nothing'}",
        )


@admin.register(UsageDay)
class UsageDayAdmin(ViewOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Each user's lookups a day as the audit counted them (read-only)."""

    list_display = (
        "day",
        "user",
        "organisation",
        "searches",
        "views",
        "detail_searches",
        "detail_no_matches",
        "night_lookups",
        "longest_uln_run",
    )
    list_filter = ("day",)
    list_select_related = ("user", "organisation")
    search_fields = ("=organisation__ukprn", "=user__email")
    search_help_text = "Exact UKPRN or user email address"
    date_hierarchy = "day"
    sortable_by = ("day", "searches")
    ordering = ("-day", "-searches")
    raw_id_fields = ("user", "organisation")
