"""Learners and their achievements in the admin, read-only, and a learner's
subject access report from the learner's page (the download the lookup log's
list offers too)."""

import logging
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.http import Http404, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from lrs_portal.admin_display import when
from lrs_portal.models import User
from records.admin.base import LargeTableAdmin, is_uln_shaped
from records.links import learner_linked_ulns, learner_master
from records.models import Achievement, Learner, LearnerLink, LearnerView
from records.reports import (
    access_report_csv,
    access_report_filename,
    learner_access_report,
)
from records.subject_access import report_download_log
from registration.admin.base import ViewOnlyInline

# The audit lines keep the logger name they had when the admin was one module
# (docs/operations.md, decision 8).
logger = logging.getLogger("records.admin")


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


def access_report_download(uln: str) -> StreamingHttpResponse:
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
        if is_uln_shaped(term):
            return queryset.filter(uln=term), False
        family = queryset.annotate(family_upper=Upper("family_name"))
        return family.filter(family_upper=term.upper()), False

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        # A family name's rows come from its index already in date of birth order.
        term = request.GET.get("q", "").strip()
        if term and not is_uln_shaped(term):
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
        return access_report_download(learner.uln)

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
