"""Batch matching through the web service (issue 12): POST /api/v1/batches, a
batch's status, and its results as JSON or CSV.

The same service functions as the portal's batch pages (records.batches,
records.batch_views): one gate, the caps checked for the whole file before a row
is searched, one log row per row written by the worker (channel batch, with the
API client on it). A batch is found among those its member may see
(records.permissions.batches_visible_to), so another organisation's is a 404.
"""

from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from records.api import schema
from records.api.problems import (
    CONTENT_TYPE,
    BatchNotFinishedError,
    BatchResultsDeletedError,
    LookupRefusedError,
)
from records.api.serializers import SEARCH_CODES, SEARCH_OUTCOMES, ClosedSerializer
from records.api.views import ApiView, _api_client, _member, _request_id, _user, refused
from records.batch_files import MAX_BYTES, MAX_ROWS, BatchFileRefused
from records.batch_views import batch_status_json, result_lines, results_filename
from records.batches import BatchRefused, batch_results, batch_submit
from records.models import Batch, BatchRow
from records.permissions import batches_visible_to
from records.services import LookupRefused, lookup_cap_frees_in

TOO_BIG = "The selected file must be smaller than 5MB"


class BatchUploadSerializer(ClosedSerializer):
    file = serializers.FileField(
        max_length=255,
        allow_empty_file=False,
        help_text=f"A CSV file (UTF-8) of at most {MAX_ROWS:,} learners. Its first "
        "line names the columns: uln, or given_name, family_name, date_of_birth "
        "(YYYY-MM-DD), gender (0, 1, 2 or 9) and postcode; and reference, passed "
        "through to the results, if you want one.",
        error_messages={
            "required": "Select a CSV file",
            "null": "Select a CSV file",
            "invalid": "Select a CSV file",
            "no_name": "Select a CSV file",
            "empty": "The selected file is empty",
            "max_length": "The file's name must be 255 characters or less",
        },
    )

    def validate_file(self, upload: Any) -> Any:
        if upload.size > MAX_BYTES:  # before it is read into memory
            raise serializers.ValidationError(TOO_BIG, code="invalid_file")
        return upload


class BatchSerializer(serializers.Serializer[Batch]):
    id = serializers.UUIDField(help_text="The batch's id: its address, and no more.")
    kind = serializers.ChoiceField(choices=Batch.Kind.values)
    status = serializers.ChoiceField(
        choices=Batch.Status.values,
        help_text="queued, then running; complete when every row was searched, "
        "failed when it stopped (failure_reason says why).",
    )
    rows = serializers.IntegerField(min_value=0, help_text="Learners in the file.")
    rows_done = serializers.IntegerField(
        min_value=0,
        help_text="Rows searched so far, with the rows in error (never searched).",
    )
    rows_failed = serializers.IntegerField(
        min_value=0, help_text="Rows in error: not a search the pages would run."
    )
    percent_done = serializers.IntegerField(min_value=0, max_value=100)
    failure_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def batch_json(batch: Batch) -> dict[str, Any]:
    """A batch's status as the web service answers it: the page's progress
    (records.batch_views.batch_status_json) with the batch's id and times."""
    return {
        "id": str(batch.public_id),
        "kind": batch.kind,
        **batch_status_json(batch),
        "rows_failed": batch.rows_failed,
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


class BatchResultSerializer(serializers.Serializer[BatchRow]):
    line = serializers.IntegerField(help_text="The file's line (its header is 1).")
    reference = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(
        choices=[outcome for outcome, _ in SEARCH_OUTCOMES],
        allow_null=True,
        help_text="As a single search answers; null when the row was not searched "
        "(it has an error, or the batch failed before it).",
    )
    code = serializers.ChoiceField(choices=SEARCH_CODES, allow_null=True)
    matched_ulns = serializers.ListField(
        child=serializers.CharField(),
        help_text="The learner found, or up to ten possible matches.",
    )
    error = serializers.CharField(
        allow_null=True, help_text="Why the row was not searched, in the pages' words."
    )


class BatchResultsSerializer(serializers.Serializer[Any]):
    results = BatchResultSerializer(many=True)


def result_json(row: BatchRow) -> dict[str, Any]:
    return {
        "line": row.line,
        "reference": row.reference,
        "outcome": row.outcome or None,
        "code": row.code or None,
        "matched_ulns": row.matched_ulns.split(),
        "error": row.error or None,
    }


class ResultsCsvRenderer(BaseRenderer):
    """The results as the portal's page downloads them: formula-safe CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        return "".join(result_lines(data)).encode()


def _batch(request: Request, public_id: UUID) -> Batch:
    """The caller's batch, if its member may see it; else 404, as for a batch
    that does not exist."""
    user = _user(request)
    batch = batches_visible_to(user, _member(user)).filter(public_id=public_id).first()
    if batch is None:
        raise Http404
    return batch


def _cap_refused(request: Request, refusal: BatchRefused) -> LookupRefusedError:
    """429: the file would take the member or organisation past a cap."""
    return LookupRefusedError(
        detail=str(refusal),
        code=refusal.code,
        cap=True,
        wait=lookup_cap_frees_in(user=_user(request), code=refusal.code),
        extra={"rows": refusal.rows, "rows_that_fit": refusal.fits},
    )


class BatchesView(ApiView):
    parser_classes = (MultiPartParser,)

    @extend_schema(
        operation_id="batches_create",
        summary="Send a file of learners to match",
        description="Refused whole, nothing stored or searched, when the file "
        "cannot be read as a batch (400, the field file says why) or when its "
        "rows would take the member or organisation past a cap (429, with rows "
        "and rows_that_fit). A line that is not a search the pages would run "
        "becomes that row's error.",
        request={"multipart/form-data": BatchUploadSerializer},
        responses={
            202: OpenApiResponse(BatchSerializer, description="Queued."),
            **schema.INVALID,
            **schema.REFUSALS,
        },
    )
    def post(self, request: Request) -> Response:
        upload = BatchUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        user = _user(request)
        try:
            batch = batch_submit(
                user=user,
                data=file.read(),
                filename=file.name or "",
                request_id=_request_id(request),
                api_client=_api_client(request),
            )
        except LookupRefused as refusal:
            raise refused(user, refusal.refusal) from None
        except BatchFileRefused as refusal:
            raise exceptions.ValidationError(
                {"file": [serializers.ErrorDetail(str(refusal), code="invalid_file")]}
            ) from None
        except BatchRefused as refusal:
            raise _cap_refused(request, refusal) from None
        location = reverse("api:batch", args=[batch.public_id])
        return Response(batch_json(batch), status=202, headers={"Location": location})


class BatchView(ApiView):
    @extend_schema(
        operation_id="batch_retrieve",
        summary="A batch's status and progress",
        responses={200: BatchSerializer, **schema.REFUSALS},
    )
    def get(self, request: Request, id: UUID) -> Response:
        return Response(batch_json(_batch(request, id)))


_CSV_EXAMPLE = (
    "line,reference,outcome,code,matched_ulns,error\r\n"
    "2,STU-0001,exact_match,WSRC0004,9276308686,\r\n"
)


class BatchResultsView(ApiView):
    renderer_classes = (JSONRenderer, ResultsCsvRenderer)

    @extend_schema(
        operation_id="batch_results_retrieve",
        summary="A finished batch's results, in input order",
        description="JSON, or with Accept: text/csv the portal page's results "
        "file (formula-safe cells; matched_ulns separated by spaces).",
        responses={
            (200, "application/json"): BatchResultsSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                examples=[OpenApiExample("Results", value=_CSV_EXAMPLE)],
            ),
            **schema.REFUSALS,
            (409, CONTENT_TYPE): schema.problem_response(
                "The batch has not finished (code batch_not_finished)."
            ),
            (410, CONTENT_TYPE): schema.problem_response(
                f"Housekeeping deleted the results {settings.BATCH_RESULTS_DAYS} "
                "days after the batch finished (code batch_results_deleted)."
            ),
        },
    )
    def get(self, request: Request, id: UUID) -> Response:
        batch = _batch(request, id)
        if batch.rows_deleted_at is not None:
            raise BatchResultsDeletedError(
                detail=f"This batch's results were deleted "
                f"{settings.BATCH_RESULTS_DAYS} days after it finished, as every "
                "batch's are. Send the file again to search again."
            )
        if not batch.is_finished:
            raise BatchNotFinishedError
        rows = batch_results(batch)
        if isinstance(request.accepted_renderer, ResultsCsvRenderer):
            filename = results_filename(batch)
            return Response(
                rows,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response({"results": [result_json(row) for row in rows]})

    def finalize_response(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        *args: Any,
        **kwargs: Any,
    ) -> HttpResponseBase:
        # A refusal is a problem document whatever the caller accepts.
        if response.status_code >= 400 and isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
            request.accepted_media_type = CONTENT_TYPE  # type: ignore[attr-defined]
        return super().finalize_response(request, response, *args, **kwargs)
