"""The public register of approved data shares, as a page and a CSV, in the
spirit of the department's "external data shares" transparency publication.

It publishes the summary a caseworker wrote and another approved (never the
requester's own text as written), and the academic years actually released
(decision 17)."""

from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET

from approvals.models import DataShareRequest, PublicSummary, RequestedDataset
from registration.admin.base import csv_response

S = DataShareRequest.Status
# Every status a request reaches only after the panel approved it.
PUBLISHED_STATUSES = (
    S.APPROVED,
    S.APPROVED_WITH_CONDITIONS,
    S.RELEASED,
    S.CLOSING,
    S.CLOSED,
)
PAGE_SIZE = 50
# English in the CSV (data); the page says them in its language.
NO_SUMMARY = gettext_noop(
    "A summary will be published once the department has approved it."
)
NONE_RELEASED = gettext_noop("None released yet")
CSV_HEADER = (
    "Reference",
    "Requesting organisation",
    "Project title",
    "Purpose",
    "Datasets and academic years released",
    "Legal gateway",
    "Access route",
    "Decision date",
    "End date",
)


def published_shares() -> QuerySet[DataShareRequest]:
    """Approved shares, newest decision first; nothing from before a decision.
    A change to a share (amendment, extension) is not a share of its own."""
    released = RequestedDataset.objects.filter(release__isnull=False).order_by(
        "academic_year"
    )
    summaries = PublicSummary.objects.filter(approved_at__isnull=False)
    return (
        DataShareRequest.objects.filter(
            status__in=PUBLISHED_STATUSES, change_of__isnull=True
        )
        .select_related("organisation")
        .prefetch_related(
            Prefetch("datasets", queryset=released, to_attr="released_datasets"),
            Prefetch("public_summary", queryset=summaries),
        )
        .order_by("-decided_at", "reference")
    )


def summary_text(share: DataShareRequest) -> str:
    """The approved public summary, or a line saying one is to come."""
    summary = getattr(share, "public_summary", None)
    return summary.text if summary is not None else NO_SUMMARY


def datasets_text(share: DataShareRequest) -> str:
    released = getattr(share, "released_datasets", [])
    if not released:
        return NONE_RELEASED
    return "; ".join(f"{d.name} {d.academic_year} (tier {d.tier})" for d in released)


@require_GET
def published(request: HttpRequest) -> HttpResponse:
    page = Paginator(published_shares(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "no_summary": gettext(NO_SUMMARY),
        "none_released": gettext(NONE_RELEASED),
    }
    return render(request, "approvals/published.html", context)


def register_rows() -> Iterator[list[object]]:
    for share in published_shares().iterator(chunk_size=500):
        yield [
            share.reference,
            share.organisation.name,
            share.project_title,
            summary_text(share),
            datasets_text(share),
            share.get_legal_gateway_display(),
            share.get_access_route_display(),
            timezone.localdate(share.decided_at) if share.decided_at else "",
            share.end_date,
        ]


@require_GET
def published_csv(request: HttpRequest) -> HttpResponse:
    return csv_response("dfe-approved-data-shares.csv", CSV_HEADER, register_rows())
