"""The public register of approved data shares, as a page and a CSV, in the
spirit of the department's "external data shares" transparency publication."""

from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from approvals.models import DataShareRequest, RequestedDataset
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
CSV_HEADER = (
    "Reference",
    "Requesting organisation",
    "Project title",
    "Purpose",
    "Datasets and academic years",
    "Legal gateway",
    "Access route",
    "Decision date",
    "End date",
)


def published_shares() -> QuerySet[DataShareRequest]:
    """Approved shares, newest decision first; nothing from before a decision."""
    datasets = RequestedDataset.objects.order_by("academic_year")
    return (
        DataShareRequest.objects.filter(status__in=PUBLISHED_STATUSES)
        .select_related("organisation")
        .prefetch_related(Prefetch("datasets", queryset=datasets))
        .order_by("-decided_at", "reference")
    )


def datasets_text(share: DataShareRequest) -> str:
    return "; ".join(
        f"{d.name} {d.academic_year} (tier {d.tier})" for d in share.datasets.all()
    )


@require_GET
def published(request: HttpRequest) -> HttpResponse:
    page = Paginator(published_shares(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "approvals/published.html", {"page": page})


def _rows() -> Iterator[list[object]]:
    for share in published_shares().iterator(chunk_size=500):
        yield [
            share.reference,
            share.organisation.name,
            share.project_title,
            share.summary,
            datasets_text(share),
            share.get_legal_gateway_display(),
            share.get_access_route_display(),
            timezone.localdate(share.decided_at) if share.decided_at else "",
            share.end_date,
        ]


@require_GET
def published_csv(request: HttpRequest) -> HttpResponse:
    return csv_response("dfe-approved-data-shares.csv", CSV_HEADER, _rows())
