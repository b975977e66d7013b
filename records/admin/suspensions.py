"""Casework on usage: the suspension queue and case page with the usage that
caused it, and the casework dashboard (issue 5): the page's chart is drawn in
suspension_chart, the dashboard's view is casework_dashboard's.

Suspension is a registration model, but its case page shows learner view usage,
which only records may read (imports go records -> registration), so its admin
lives here.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from records.admin.base import _user
from records.admin.casework_dashboard import CaseworkDashboardMixin
from records.admin.suspension_chart import usage_chart
from records.models import UsageAlert
from registration.admin.base import DefaultChoiceFilter, RegistrationAdmin
from registration.models import Suspension
from registration.services import (
    SUSPENSION_TRANSITIONS,
    suspension_escalate,
    suspension_reinstate,
    suspension_uphold,
)

St = Suspension.Status


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


@admin.register(Suspension)
class SuspensionAdmin(
    CaseworkDashboardMixin, ServiceLevelAdminMixin, RegistrationAdmin
):
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
