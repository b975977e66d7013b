"""Usage alerts in the admin: the open alerts by rule, and closing them (as false
positives or not) with a reason, through records.services.usage_alert_close."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from lrs_portal.admin import BaseAdmin
from lrs_portal.admin_display import number
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from records.admin.base import RecordsPaginator
from records.models import UsageAlert
from records.services import usage_alert_close
from registration.admin.base import DefaultChoiceFilter, ReadOnlyFormMixin


class AlertStatusFilter(DefaultChoiceFilter):
    title = "status"
    parameter_name = "status"
    default = UsageAlert.Status.OPEN

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (*UsageAlert.Status.choices, (self.ALL, "All"))

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return queryset.filter(status=value)


class AlertRuleFilter(admin.SimpleListFilter):
    """Alerts by their rule's name, not its code."""

    title = "rule"
    parameter_name = "rule"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return UsageAlert.rule_choices()

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[UsageAlert]
    ) -> QuerySet[UsageAlert]:
        value = self.value()
        return queryset.filter(rule=value) if value else queryset


class CloseAlertsForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        help_text="What was checked and found. Recorded in each alert's history.",
        max_length=5000,
        error_messages={"max_length": "Reason must be 5,000 characters or fewer"},
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


@admin.register(UsageAlert)
class UsageAlertAdmin(ReadOnlyFormMixin, BaseAdmin):
    list_display = (
        "day",
        "rule_name",
        "subject_type",
        "organisation",
        "user",
        "measured",
        "limit",
        "status",
        "created_at",
    )
    list_filter = (AlertStatusFilter, AlertRuleFilter, "subject_type", "day")
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user", "organisation")
    search_fields = ("=organisation__ukprn", "=user__email")
    search_help_text = "Exact UKPRN or user email address"
    paginator = RecordsPaginator
    list_per_page = 50  # each row's links and checkbox cost more than its query
    show_full_result_count = False
    actions = ("close_alerts", "close_as_false_positives")
    fields = (
        "status",
        "false_positive",
        "closed_because",
        "subject_type",
        "organisation",
        "user",
        "day",
        "rule_name",
        "measured",
        "limit",
        "details",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Rule", ordering="rule")
    def rule_name(self, alert: UsageAlert) -> str:
        return alert.rule_name

    @admin.display(description="Measured", ordering="value")
    def measured(self, alert: UsageAlert) -> str:
        return number(alert.value)

    @admin.display(description="Limit", ordering="threshold")
    def limit(self, alert: UsageAlert) -> str:
        return number(alert.threshold)

    @admin.display(description="Closed because")
    def closed_because(self, alert: UsageAlert) -> str:
        if alert.status != UsageAlert.Status.CLOSED:
            return "-"
        closing = (
            alert.history.filter(status=UsageAlert.Status.CLOSED)
            .order_by("history_date", "history_id")
            .first()
        )
        return str(closing.history_change_reason or "-") if closing else "-"

    @admin.action(description="Close selected alerts", permissions=["change"])
    def close_alerts(
        self, request: HttpRequest, queryset: QuerySet[UsageAlert]
    ) -> TemplateResponse | None:
        """Asks for a reason, then closes each open alert through the transition."""
        return self._close(request, queryset, false_positive=False)

    @admin.action(
        description="Close selected alerts as false positives", permissions=["change"]
    )
    def close_as_false_positives(
        self, request: HttpRequest, queryset: QuerySet[UsageAlert]
    ) -> TemplateResponse | None:
        """Closes them saying why they were false positives: a purpose rule then
        accepts the organisation's pattern until it moves (decision 25)."""
        return self._close(request, queryset, false_positive=True)

    def _close(
        self,
        request: HttpRequest,
        queryset: QuerySet[UsageAlert],
        *,
        false_positive: bool,
    ) -> TemplateResponse | None:
        form = CloseAlertsForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._close_alerts_page(request, queryset, form, false_positive)
        closed = 0
        for alert in queryset.filter(status=UsageAlert.Status.OPEN):
            try:
                usage_alert_close(
                    alert=alert,
                    acting_user=cast(User, request.user),
                    reason=form.cleaned_data["reason"],
                    false_positive=false_positive,
                )
            except TransitionNotAllowed:  # closed by someone else meanwhile
                continue
            closed += 1
        noun = "alert" if closed == 1 else "alerts"
        kind = " as false positives" if false_positive else ""
        self.message_user(request, f"Closed {closed} {noun}{kind}.", messages.SUCCESS)
        return None

    def _close_alerts_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[UsageAlert],
        form: forms.Form,
        false_positive: bool = False,
    ) -> TemplateResponse:
        alerts = list(queryset.select_related("user", "organisation")[:500])
        context = {
            **self.admin_site.each_context(request),
            "title": "Close usage alerts as false positives"
            if false_positive
            else "Close usage alerts",
            "action_name": "close_as_false_positives"
            if false_positive
            else "close_alerts",
            "false_positive": false_positive,
            "opts": self.model._meta,
            "form": form,
            "alerts": alerts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/records/usagealert/close_alerts.html", context
        )
