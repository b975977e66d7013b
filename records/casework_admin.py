"""Casework on usage: the suspension queue and case page with the usage that
caused it, and the casework dashboard (issue 5).

Suspension is a registration model, but its case page shows learner view usage,
which only records may read (imports go records -> registration), so its admin
lives here.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import number
from lrs_portal.models import JobRun, User
from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from lrs_portal.transitions import save_with_history
from records.audit import heaviest_users
from records.models import AuditRule, UsageAlert, UsageDay
from registration.admin.base import DefaultChoiceFilter, RegistrationAdmin
from registration.models import Suspension
from registration.services import (
    SUSPENSION_TRANSITIONS,
    suspension_escalate,
    suspension_reinstate,
    suspension_uphold,
)

St = Suspension.Status
CHART_DAYS_BEFORE = 27
CHART_DAYS_AFTER = 3


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason (the provider is told)",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )

    def clean_reason(self) -> str:
        value: str = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError("Give a reason for the decision.")
        return value


class SuspensionQueueFilter(DefaultChoiceFilter):
    title = "queue"
    parameter_name = "queue"
    default = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (
            ("in_force", "In force"),
            ("explained", "Explanation received, not decided"),
            ("all", "All"),
        )

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        in_force = Q(status__in=[St.OPEN, St.UPHELD])
        if value == "in_force":
            return queryset.filter(in_force)
        if value == "explained":
            return queryset.filter(in_force, explained_at__isnull=False)
        return queryset


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def usage_chart(suspension: Suspension) -> dict[str, Any]:
    """Daily searches of the suspended subject around the day, against the
    threshold of the rule it hit (for an SVG bar chart and its table)."""
    first = suspension.day - timedelta(days=CHART_DAYS_BEFORE)
    last = min(
        suspension.day + timedelta(days=CHART_DAYS_AFTER),
        timezone.now().date() - timedelta(days=1),
    )
    rows = UsageDay.objects.filter(day__gte=first, day__lte=last)
    if suspension.subject_type == Suspension.Subject.USER:
        rows = rows.filter(user=suspension.user)
    else:
        rows = rows.filter(organisation=suspension.organisation)
    per_day: dict[date, int] = {}
    for day, searches in rows.values_list("day", "searches"):
        per_day[day] = per_day.get(day, 0) + searches
    threshold = _threshold(suspension)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    top = max([*per_day.values(), int(threshold or 0), 1])
    bars = []
    width = 18
    for index, day in enumerate(days):
        value = per_day.get(day, 0)
        height = round(160 * value / top)
        bars.append(
            {
                "day": day,
                "value": value,
                "x": 40 + index * width,
                "y": 180 - height,
                "height": height,
                "over": threshold is not None and value > threshold,
                "is_case_day": day == suspension.day,
            }
        )
    line_y = None if threshold is None else 180 - round(160 * float(threshold) / top)
    return {
        "bars": bars,
        "threshold": threshold,
        "line_y": line_y,
        "width": 40 + len(days) * width + 10,
        "bar_width": width - 4,
        "top": top,
    }


_VOLUME_RULES = (AuditRule.Code.ORG_VOLUME, AuditRule.Code.USER_VOLUME)


def _threshold(suspension: Suspension) -> Decimal | None:
    """The volume limit the subject was held to when the case opened (recorded
    with the rules hit), or None when no volume rule was hit: a line at today's
    threshold, or another rule's, would mislead."""
    for hit in suspension.rules:
        if isinstance(hit, dict) and hit.get("rule") in _VOLUME_RULES:
            try:
                return Decimal(str(hit["threshold"]))
            except (KeyError, ArithmeticError, ValueError):
                return None
    return None


@admin.register(Suspension)
class SuspensionAdmin(ServiceLevelAdminMixin, RegistrationAdmin):
    service_level = ServiceLevelQueue(
        key="suspensions",
        label="Suspension cases waiting for a decision",
        statuses=(St.OPEN,),
        since="opened_at",
    )
    list_display = (
        "subject",
        "organisation",
        "source",
        "day",
        "status",
        "explained",
        "opened_at",
    )
    list_filter = (SuspensionQueueFilter, "source", "subject_type", "status")
    list_select_related = ("organisation", "user")
    search_fields = ("=organisation__ukprn", "organisation__legal_name", "=user__email")
    search_help_text = "UKPRN (exact), organisation name, or user email (exact)"
    ordering = ("-opened_at",)
    change_form_template = "admin/registration/suspension/change_form.html"  # type: ignore[misc]
    fields = (
        "status",
        "subject_type",
        "organisation",
        "user",
        "source",
        "cause",
        "day",
        "reason",
        "opened_at",
        "explanation",
        "explained_at",
        "explained_by",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Subject")
    def subject(self, suspension: Suspension) -> str:
        return suspension.subject_label

    @admin.display(description="Explained", boolean=True)
    def explained(self, suspension: Suspension) -> bool:
        return suspension.explained_at is not None

    def _can_decide(self, request: HttpRequest) -> bool:
        return _user(request).has_perm("registration.decide_suspension")

    def change_page_context(
        self, request: HttpRequest, obj: Suspension
    ) -> dict[str, Any]:
        return {
            "chart": usage_chart(obj),
            "rules_hit": obj.rules,
            "alerts": self._alerts(obj),
            "workflow_tools": self.tools(request, obj),
        }

    def _alerts(self, suspension: Suspension) -> QuerySet[UsageAlert]:
        alerts = UsageAlert.objects.filter(
            organisation=suspension.organisation, day=suspension.day
        )
        if suspension.subject_type == Suspension.Subject.USER:
            alerts = alerts.filter(user=suspension.user)
        return alerts.order_by("rule")

    def tools(
        self, request: HttpRequest, suspension: Suspension
    ) -> list[dict[str, str]]:
        if not self._can_decide(request):
            return []
        allowed = SUSPENSION_TRANSITIONS.get(suspension.status, set())
        tools = []
        if St.REINSTATED in allowed:
            tools.append(
                self.workflow_tool(
                    "Reinstate (false positive)", "reinstate", suspension
                )
            )
        if St.UPHELD in allowed:
            tools.append(self.workflow_tool("Uphold", "uphold", suspension))
        if St.ESCALATED in allowed:
            tools.append(
                self.workflow_tool("Escalate to revocation", "escalate", suspension)
            )
        return tools

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="registration_suspension_dashboard",
            ),
            self.workflow_path("reinstate", self.reinstate_view),
            self.workflow_path("uphold", self.uphold_view),
            self.workflow_path("escalate", self.escalate_view),
            *self.default_urls(),
        ]

    def _decide(
        self,
        request: HttpRequest,
        object_id: str,
        *,
        to: str,
        verb: str,
        intro: str,
        done: str,
        service: Any,
    ) -> HttpResponse:
        suspension = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            service(
                suspension=suspension, acting_user=_user(request), reason=data["reason"]
            )
            return done

        return self.workflow(
            request,
            suspension,
            allowed=self._can_decide(request)
            and to in SUSPENSION_TRANSITIONS.get(suspension.status, set()),
            form_class=DecisionForm,
            title=f"{verb}: {suspension}",
            submit_label=verb,
            intro=intro,
            act=act,
        )

    def reinstate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decide(
            request,
            object_id,
            to=St.REINSTATED,
            verb="Reinstate",
            intro=(
                "A false positive: access comes back now, no later run suspends again "
                "for the same day, and the day is left out of later baselines."
            ),
            done="Reinstated; the provider has been told.",
            service=suspension_reinstate,
        )

    def uphold_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decide(
            request,
            object_id,
            to=St.UPHELD,
            verb="Uphold",
            intro="The suspension stays in force; the provider is told why.",
            done="Upheld; the provider has been told.",
            service=suspension_uphold,
        )

    def escalate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decide(
            request,
            object_id,
            to=St.ESCALATED,
            verb="Escalate to revocation",
            intro=(
                "The organisation's access is revoked (a user suspension closes that "
                "user's account). It returns only through a new, vetted registration."
            ),
            done="Escalated: access revoked; the provider has been told.",
            service=suspension_escalate,
        )

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        user = _user(request)
        if not (
            user.has_perm("registration.view_suspension")
            and user.has_perm("records.view_usagealert")
        ):
            raise PermissionDenied
        since = timezone.now() - timedelta(days=7)
        runs = JobRun.objects.filter(started_at__gte=since).order_by("-started_at")[
            :100
        ]
        in_force = Suspension.objects.filter(status__in=[St.OPEN, St.UPHELD])
        context = {
            **self.admin_site.each_context(request),
            "title": "Casework dashboard",
            "opts": self.model._meta,
            "runs": runs,
            "open_alerts": UsageAlert.objects.filter(
                status=UsageAlert.Status.OPEN
            ).count(),
            "open_alerts_by_rule": UsageAlert.objects.filter(
                status=UsageAlert.Status.OPEN
            )
            .values("rule")
            .annotate(total=Count("pk"))
            .order_by("-total", "rule"),
            "suspensions_by_source": in_force.values("source")
            .annotate(total=Count("pk"))
            .order_by("source"),
            "source_labels": dict(Suspension.Source.choices),
            "awaiting_decision": in_force.filter(status=St.OPEN).count(),
            "heaviest": heaviest_users(days=30, limit=10),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/registration/suspension/dashboard.html", context
        )


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
