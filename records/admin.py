"""Learners, the lookup log, usage alerts and job runs in the department's admin.

Learner and LearnerView are large (28M learners, 10M+ log rows), so their pages
must stay under 300 ms (architecture.md):

- counts come from the planner's estimate or stop at 10,000 rows
  (RecordsPaginator; 1,000 for the log, LogPaginator), and pages stop there;
- every search is an indexed equality: a ULN, a family name through the
  UPPER(family_name) expression index, a request id inside a time window;
- filters are text boxes or fixed choices, never a list built from the table,
  and facet counts are off;
- columns sort only where an index gives the order.

Nothing here adds, changes or deletes a learner, achievement or log row: import
commands load learners and the lookup services write the log.
"""

import logging
from collections.abc import Iterator
from datetime import timedelta
from math import ceil
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.http import Http404, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import number, when
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from records.links import learner_linked_ulns, learner_master
from records.models import Achievement, Learner, LearnerLink, LearnerView, UsageAlert
from records.pg import estimated_count
from records.reports import (
    access_report_csv,
    access_report_filename,
    learner_access_report,
)
from records.services import usage_alert_close
from records.subject_access import report_download_log
from records.uln import validate_uln
from registration.admin.base import (
    CappedCountPaginator,
    DefaultChoiceFilter,
    ReadOnlyFormMixin,
    ViewOnlyInline,
)
from registration.models import ApiClient, Organisation

logger = logging.getLogger(__name__)


def _is_uln_shaped(term: str) -> bool:
    return len(term) == 10 and term.isascii() and term.isdigit()


# --- counting and paging without reading the whole table ---------------------------


class RecordsPaginator(CappedCountPaginator):
    """Never a COUNT(*) of a whole large table, and no page past the 10,000th row.

    Unfiltered, the count is the planner's estimate (records.pg.estimated_count);
    below LIMIT it is counted instead (capped), which is cheap and exact, so a
    never-analysed table's estimate of 0 cannot make the changelist think one
    page holds everything and load every row. Filtered, it counts at most LIMIT.
    """

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        if not queryset.query.where:
            estimate = estimated_count(queryset.model)
            if estimate >= self.LIMIT:
                self.count_is_estimate = True
                return estimate
        # In no order: the first LIMIT rows in any order count the same, and
        # without the page's ORDER BY the planner may use any index.
        return cast(int, queryset.order_by()[: self.LIMIT].count())

    @cached_property
    def num_pages(self) -> int:
        # Deep pages are slow OFFSETs; past the LIMIT, filter instead.
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, min(self.count, self.LIMIT) - self.orphans)
        return ceil(hits / self.per_page)

    @property
    def count_label(self) -> str:
        if self.count_is_estimate:
            return f"About {self.count:,}"
        if self.count >= self.LIMIT:
            return f"{self.LIMIT:,} or more"
        return f"{self.count:,}"


class LogPaginator(RecordsPaginator):
    """The log's lists count, and page, to its 1,000th row.

    A filter on an organisation or user and an action has to read each
    candidate row itself (the action is not in the index): at 10M rows,
    counting 10,000 of them reads some 16,000 table pages, 1,000 about 2,000.
    Past the 1,000th row, a narrower time or a ULN finds the rest.
    """

    LIMIT = 1_000


class SortableOnlyChangeList(ChangeList):
    """Ignores ?o= for columns outside sortable_by (an unindexed sort reads it all)."""

    def get_ordering_field(self, field_name: Any) -> Any:
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class LargeTableAdmin(ViewOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only for everyone, superusers too: rows are written only by code."""

    paginator = RecordsPaginator
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by: ClassVar[tuple[str, ...] | None] = ()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SortableOnlyChangeList


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


# --- learners and achievements -----------------------------------------------------


class AchievementInline(ViewOnlyInline):
    model = Achievement
    fields = (
        "qualification_title",
        "qualification_type",
        "level",
        "subject",
        "grade",
        "award_date",
        "awarding_organisation",
        "awarding_provider_ukprn",
    )
    ordering = ("-award_date",)


def _access_report_download(uln: str) -> StreamingHttpResponse:
    lines = access_report_csv(uln=uln, rows=learner_access_report(uln=uln))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = access_report_filename(uln)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Learner)
class LearnerAdmin(LargeTableAdmin):
    """Learners, read-only: caseworkers (records.view_learner) may look, nobody edits.

    Learners are loaded by import commands. Opening a learner here is not a
    LearnerView row (that needs an organisation, and feeds providers' caps and
    the usage audit) and Django's LogEntry records changes, not views, so each
    opening is an audit event on this module's logger: user id, learner id and
    the request id. The subject access report is on the learner's page and on
    the lookup log's list, for holders of records.view_learnerview.
    """

    list_display = ("uln", "family_name", "given_name", "date_of_birth")
    sortable_by = ("uln",)
    search_fields = ("=uln",)  # shows the box; get_search_results does the work
    search_help_text = "Exact ULN (10 digits), or exact family name"
    inlines = (AchievementInline,)
    fieldsets = (
        (
            "Learner",
            {
                "fields": (
                    "uln",
                    "given_name",
                    "middle_names",
                    "family_name",
                    "previous_family_name",
                    "date_of_birth",
                    "gender",
                )
            },
        ),
        ("Contact", {"fields": ("postcode", "email")}),
        ("Sharing", {"fields": ("ability_to_share", "updated_at")}),
        ("Merged records", {"fields": ("merged_into", "linked_ulns")}),
    )
    readonly_fields = ("merged_into", "linked_ulns")

    @admin.display(description="merged into")
    def merged_into(self, learner: Learner) -> str:
        link = LearnerLink.objects.filter(learner=learner).select_related("master")
        found = link.first()
        if found is None:
            return "Not merged: this is the learner's own record"
        master = learner_master(learner)
        url = reverse("admin:records_learner_change", args=[found.master_id])
        through = (
            ""
            if master is None or master.pk == found.master_id
            else f" (which was merged in turn: searches now answer {master.uln})"
        )
        return format_html(
            '<a href="{}">{}</a>, on {}{}',
            url,
            found.master.uln,
            when(timezone.localdate(found.linked_at)),
            through,
        )

    @admin.display(description="linked ULNs (merged into this record)")
    def linked_ulns(self, learner: Learner) -> str:
        ulns = learner_linked_ulns(learner)
        return ", ".join(ulns) if ulns else "None"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Learner], search_term: str
    ) -> tuple[QuerySet[Learner], bool]:
        # Equality only, each through an index: uln's unique index, or the
        # (UPPER(family_name), date_of_birth) expression index.
        term = search_term.strip()
        if not term:
            return queryset, False
        if _is_uln_shaped(term):
            return queryset.filter(uln=term), False
        family = queryset.annotate(family_upper=Upper("family_name"))
        return family.filter(family_upper=term.upper()), False

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        # A family name's rows come from its index already in date of birth order.
        term = request.GET.get("q", "").strip()
        if term and not _is_uln_shaped(term):
            return ("date_of_birth", "uln")
        return ("uln",)

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "<path:object_id>/access-report/",
            self.admin_site.admin_view(self.access_report_view),
            name="records_learner_access_report",
        )
        return [report, *super().get_urls()]

    def _may_download_access_report(self, request: HttpRequest) -> bool:
        log_admin = self.admin_site.get_model_admin(LearnerView)
        return bool(log_admin.has_view_permission(request))

    def access_report_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponseBase:
        learner = self.get_object(request, unquote(object_id))
        if learner is None or not self.has_view_permission(request, learner):
            raise Http404
        if not self._may_download_access_report(request):
            raise PermissionDenied
        logger.info(
            "learner access report downloaded",
            extra={"user_id": request.user.pk, "learner_id": learner.pk},
        )
        report_download_log(
            user=cast(User, request.user), obj=learner, file_format="csv"
        )
        return _access_report_download(learner.uln)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Learner | None = None,
    ) -> Any:
        if obj is not None:
            logger.info(
                "learner viewed in admin",
                extra={"user_id": request.user.pk, "learner_id": obj.pk},
            )
            if self._may_download_access_report(request):
                context["access_report_url"] = reverse(
                    "admin:records_learner_access_report", args=[obj.pk]
                )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Achievement)
class AchievementAdmin(LargeTableAdmin):
    list_display = (
        "learner",
        "qualification_title",
        "level",
        "grade",
        "award_date",
        "awarding_organisation",
    )
    list_select_related = ("learner",)
    raw_id_fields = ("learner",)
    # By column, not by "learner" (which would sort the table by the learners' ULNs).
    ordering = ("learner_id", "-award_date", "-pk")
    search_fields = ("=learner__uln",)
    search_help_text = "Exact ULN of the learner (10 digits)"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Achievement], search_term: str
    ) -> tuple[QuerySet[Achievement], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(learner__uln=term), False


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
        if _is_uln_shaped(term):
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
            return _access_report_download(uln)
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


# --- usage alerts and job runs -----------------------------------------------------


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


# Registered with the admin on import: Suspension's casework, subject access
# requests and the purpose profile panels.
from records import (  # noqa: E402  (each registers its model's admin)
    casework_admin,  # noqa: F401
    purpose_admin,  # noqa: F401
    subject_access_admin,  # noqa: F401
)
