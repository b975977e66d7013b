"""Batch matching on the portal, for providers without an MIS (issue 12): upload a
CSV, watch it run, download the results, see past batches.

Every page is behind the lookup gate, like the lookup pages; a batch is found by
its random id among the batches the member may see (records.permissions), so
anyone else's is a 404. No learner data goes in a URL: the file is posted, and
results are downloaded, never linked to by what they hold.
"""

import csv
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from lrs_portal.csv_cells import Echo, csv_cell
from records.batch_files import (
    DEMOGRAPHIC_COLUMNS,
    MAX_ROWS,
    REFERENCE,
    ULN_COLUMNS,
    BatchFileRefused,
)
from records.batches import BatchRefused, batch_results, batch_submit
from records.forms import BatchUploadForm
from records.models import Batch, BatchRow
from records.permissions import batches_visible_to, lookup_membership
from records.services import LookupRefused
from records.views import (
    _refused,
    _request_id,
    _user,
    gate_refusal,
    lookup_gate,
)

PER_PAGE = 20
RESULT_HEADER = ("line", "reference", "outcome", "code", "matched_ulns", "error")
TEMPLATES: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {
    "uln": (
        (*ULN_COLUMNS, REFERENCE),
        [("9276308686", "STU-0001")],
    ),
    "demographics": (
        (*DEMOGRAPHIC_COLUMNS, REFERENCE),
        [("Amelia", "Hughes", "2007-05-14", "2", "LS2 9JT", "STU-0001")],
    ),
}


def _batches(request: HttpRequest) -> QuerySet[Batch]:
    user = _user(request)
    return batches_visible_to(user, lookup_membership(user))


def _batch(request: HttpRequest, public_id: UUID) -> Batch:
    batch = _batches(request).filter(public_id=public_id).first()
    if batch is None:
        raise Http404
    return batch


@never_cache
@require_GET
@login_required
@lookup_gate
def batch_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(_batches(request), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "records/batch_list.html", {"page": page})


def _upload_page(
    request: HttpRequest, form: BatchUploadForm, status: int = HTTPStatus.OK
) -> HttpResponse:
    return render(
        request,
        "records/batch_new.html",
        {"form": form, "max_rows": f"{MAX_ROWS:,}"},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
@lookup_gate
def batch_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _upload_page(request, BatchUploadForm())
    form = BatchUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, HTTPStatus.BAD_REQUEST)
    upload = form.cleaned_data["file"]
    try:
        batch = batch_submit(
            user=_user(request),
            data=upload.read(),
            filename=upload.name or "",
            request_id=_request_id(request),
        )
    except LookupRefused as refused:
        return _refused(request, refused.refusal)
    except (BatchFileRefused, BatchRefused) as refused:
        form.add_error("file", str(refused))
        return _upload_page(request, form, HTTPStatus.BAD_REQUEST)
    return redirect("records:batch", public_id=batch.public_id)


@require_GET
@login_required
@lookup_gate
def batch_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in TEMPLATES:
        raise Http404
    header, example = TEMPLATES[kind]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lrs-batch-{kind}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(example)
    return response


@never_cache
@require_GET
@login_required
@lookup_gate
def batch_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    batch = _batch(request, public_id)
    return render(
        request,
        "records/batch.html",
        {
            "batch": batch,
            "status_url": reverse("records:batch-status", args=[batch.public_id]),
        },
    )


def batch_status_json(batch: Batch) -> dict[str, object]:
    """What the page's progress bar polls for (and what the API's status says)."""
    return {
        "status": batch.status,
        "rows": batch.rows_total,
        "rows_done": batch.rows_done,
        "percent_done": batch.percent_done,
        "failure_reason": batch.failure_reason,
    }


@never_cache
@require_GET
@login_required
@lookup_gate
def batch_status(request: HttpRequest, public_id: UUID) -> JsonResponse:
    return JsonResponse(batch_status_json(_batch(request, public_id)))


def result_lines(rows: Iterable[BatchRow]) -> Iterator[str]:
    """The results file, a line at a time, header first: formula-safe cells
    (the page's download and the web service's text/csv answer alike)."""
    writer = csv.writer(Echo())
    yield writer.writerow(RESULT_HEADER)
    for row in rows:
        cells = (
            row.line,
            row.reference,
            row.outcome,
            row.code,
            row.matched_ulns,
            row.error,
        )
        yield writer.writerow([csv_cell(cell) for cell in cells])


def results_filename(batch: Batch) -> str:
    return f"lrs-batch-results-{batch.created_at:%Y-%m-%d}.csv"


@never_cache
@require_GET
@login_required
def batch_results_csv(
    request: HttpRequest, public_id: UUID
) -> HttpResponse | StreamingHttpResponse:
    refusal = gate_refusal(request)  # as lookup_gate, for a streamed answer
    if refusal is not None:
        return _refused(request, refusal)
    batch = _batch(request, public_id)
    if not batch.is_finished or batch.rows_deleted_at is not None:
        raise Http404
    response = StreamingHttpResponse(
        result_lines(batch_results(batch)), content_type="text/csv; charset=utf-8"
    )
    filename = results_filename(batch)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
