"""The casework dashboard (issue 5), a page of the Suspension admin: the week's
job runs, open usage alerts by rule, suspensions in force by source, and the
heaviest users of the last 30 days."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from lrs_portal.models import JobRun
from records.admin.base import _user
from records.audit import heaviest_users
from records.models import UsageAlert
from registration.models import Suspension

St = Suspension.Status


class CaseworkDashboardMixin:
    """The dashboard page on the Suspension admin (its URL is in get_urls there)."""

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
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": "Casework dashboard",
            "opts": self.model._meta,  # type: ignore[attr-defined]
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
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(
            request, "admin/registration/suspension/dashboard.html", context
        )
