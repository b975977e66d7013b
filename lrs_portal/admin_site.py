from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from two_factor.admin import AdminSiteOTPRequiredMixin


class LrsAdminSite(AdminSiteOTPRequiredMixin, admin.AdminSite):  # type: ignore[misc]
    """Django admin for the department: staff only, and only after MFA."""

    site_header = "LRS Portal administration"
    site_title = "LRS Portal admin"
    index_title = "Department for Education casework"
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, after MFA, and not stopped by the department's quarterly
        recertification (decision 0029): a caseworker, assessor or panel member
        no superuser confirmed by the deadline is refused until one does."""
        if not super().has_permission(request):
            return False
        from registration.services.recertification import (
            staff_recertification_lapsed,
        )

        cached: bool | None = getattr(request, "_staff_recertification_lapsed", None)
        if cached is None:
            cached = staff_recertification_lapsed(request.user)  # type: ignore[arg-type]
            request._staff_recertification_lapsed = cached  # type: ignore[attr-defined]
            if cached:
                messages.warning(
                    request,
                    "You cannot use the admin site until a superuser confirms you "
                    "still need department access (this quarter's recertification).",
                    fail_silently=True,
                )
        return not cached

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The admin home, warning of nightly jobs not done by the deadline and of
        changes made outside the portal in the last 7 days, and counting the
        overdue items of each casework queue the user sees (decision 32)."""
        from lrs_portal.jobs import jobs_late
        from lrs_portal.models import ServiceAlert
        from lrs_portal.service_levels import service_level_summary

        context = dict(extra_context or {})
        context["service_levels"] = service_level_summary(request, self._registry)
        if request.user.has_perm("lrs_portal.view_servicealert"):
            week = timezone.now() - timedelta(days=7)
            # Without a broker (the demo) nothing runs jobs on a schedule.
            context["late_jobs"] = jobs_late() if settings.BROKER_CONFIGURED else []
            context["job_deadline"] = f"{settings.JOB_DEADLINE:%H:%M} (UK time)"
            context["outside_changes"] = ServiceAlert.objects.filter(
                kind=ServiceAlert.Kind.CHANGE_OUTSIDE_APPLICATION, raised_at__gte=week
            ).count()
        return super().index(request, context)
