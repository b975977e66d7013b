"""The lookup log (LearnerView) in the admin: its list's filters, each through an
index, and the subject access report asked for by ULN from the list."""

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from lrs_portal.models import User
from records.admin.base import LargeTableAdmin, LogPaginator, is_uln_shaped
from records.admin.learners import access_report_download
from records.models import Learner, LearnerView
from records.subject_access import report_download_log
from records.uln import validate_uln
from registration.models import ApiClient, Organisation

# The audit lines keep the logger name they had when the admin was one module
# (docs/operations.md, decision 8).
logger = logging.getLogger("records.admin")


# --- filters -----------------------------------------------------------------------


class ExactValueFilter(admin.SimpleListFilter):
    """A text box for one exact value, instead of choices read from the table.

    The value (a UKPRN, an email address) names one row of a small table; it is
    looked up there first and the log filtered by that row's id, so the log's
    (id, time) index gives the page in order. Filtering through a join instead
    leaves the planner to walk the log by time and test each row's join.
    """

    template = "admin/records/exact_value_filter.html"
    lookup = ""  # the log's column holding the id
    related: Any = None  # the small table's model
    related_field = ""  # the value's column there

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return ()

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Iterator[Any]:
        kept = (
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        )
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "kept_params": list(kept),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        found = (
            self.related._default_manager.filter(**{self.related_field: value})
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            return queryset.none()
        return queryset.filter(**{self.lookup: found})


class OrganisationUkprnFilter(ExactValueFilter):
    title = "organisation (UKPRN)"
    parameter_name = "organisation_ukprn"
    lookup = "organisation_id"
    related = Organisation
    related_field = "ukprn"


class UserEmailFilter(ExactValueFilter):
    title = "user (email address)"
    parameter_name = "user_email"
    lookup = "user_id"
    related = User
    related_field = "email"


class ApiClientFilter(ExactValueFilter):
    """One API client's calls (the client's admin page links here)."""

    title = "API client (client ID)"
    parameter_name = "api_client"
    lookup = "api_client_id"
    related = ApiClient
    related_field = "application__client_id"


PERIODS = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
REQUEST_ID_PERIOD = "24h"


class ViewedWithinFilter(admin.SimpleListFilter):
    """Recent rows through the viewed_at index (date_hierarchy would scan for years)."""

    title = "time"
    parameter_name = "within"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return tuple((key, label) for key, (label, _) in PERIODS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        period = PERIODS.get(self.value() or "")
        if period is None:
            return queryset
        return queryset.filter(viewed_at__gte=timezone.now() - period[1])


# --- the lookup log ----------------------------------------------------------------


class AccessReportForm(forms.Form):
    uln = forms.CharField(
        label="ULN",
        max_length=20,
        validators=[validate_uln],
        help_text="The learner's Unique Learner Number, 10 digits.",
    )


@admin.register(LearnerView)
class LearnerViewAdmin(LargeTableAdmin):
    paginator = LogPaginator
    list_display = (
        "viewed_at",
        "user",
        "organisation",
        "action",
        "outcome",
        "match_count",
        "learner_uln",
        "request_id",
    )
    list_filter = (
        ViewedWithinFilter,
        OrganisationUkprnFilter,
        UserEmailFilter,
        ApiClientFilter,
        "action",
        "outcome",
    )
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user", "organisation")
    ordering = ("-viewed_at",)
    sortable_by = ("viewed_at",)
    search_fields = ("=learner_uln", "=request_id")  # see get_search_results
    search_help_text = (
        "Exact ULN (10 digits), or exact request id (within the chosen time; "
        "without one, the last 24 hours)"
    )
    fields = (*list_display, "channel", "api_client")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LearnerView], search_term: str
    ) -> tuple[QuerySet[LearnerView], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if is_uln_shaped(term):
            return queryset.filter(learner_uln=term), False
        # request_id has no index: a time window keeps the search to recent rows.
        window = PERIODS.get(request.GET.get("within", ""), PERIODS[REQUEST_ID_PERIOD])
        since = timezone.now() - window[1]
        return queryset.filter(request_id=term, viewed_at__gte=since), False

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "access-report/",
            self.admin_site.admin_view(self.access_report_view),
            name="records_learnerview_access_report",
        )
        return [report, *super().get_urls()]

    def access_report_view(self, request: HttpRequest) -> HttpResponseBase:
        """Subject access. The ULN is posted, so it stays out of URLs and the web
        server's logs; the audit event below records who asked for which ULN."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = AccessReportForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            uln = form.cleaned_data["uln"].strip()
            # Which learner is in the trail (report_download_log), never in a log line.
            logger.info(
                "learner access report downloaded", extra={"user_id": request.user.pk}
            )
            learner = Learner.objects.filter(uln=uln).first()
            report_download_log(
                user=cast(User, request.user),
                obj=learner or Learner(uln=uln),
                file_format="csv",
                label="" if learner else f"Learner {uln} (not in the LRS)",
            )
            return access_report_download(uln)
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": "Learner access report",
            "opts": self.model._meta,
            "has_view_permission": True,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/records/learnerview/access_report.html", context
        )
