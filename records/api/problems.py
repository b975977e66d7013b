"""Every refusal of the web service as a problem document (RFC 9457).

A provider's system reads ``status`` and ``code``; a person reading its log reads
``title`` and ``detail``, which are the portal pages' own words (a ULN's check
digit, an impossible date, why the gate refused). Validation errors list each
bad field in ``errors``. Types are tag URIs (RFC 9457 3.1.1: an identifier, not
a page to fetch); a status that says everything is ``about:blank``.
"""

from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "tag:education.gov.uk,2026:lrs-portal/problems/"
BLANK = "about:blank"


def problem_type(slug: str) -> str:
    return f"{TYPE_PREFIX}{slug}"


# Problems with a meaning of their own, beyond their status.
INVALID_REQUEST = problem_type("invalid-request")
ACCESS_REFUSED = problem_type("access-refused")
LOOKUP_CAP_REACHED = problem_type("lookup-cap-reached")
RATE_LIMITED = problem_type("rate-limited")
TITLES = {
    INVALID_REQUEST: "Your request is not valid",
    ACCESS_REFUSED: "You cannot look up learners",
    LOOKUP_CAP_REACHED: "You have reached a lookup limit",
    RATE_LIMITED: "Too many requests",
}


class LookupRefusedError(exceptions.APIException):
    """The gate refused (the pages' words); a real-time cap answers 429."""

    status_code = HTTPStatus.FORBIDDEN

    def __init__(
        self,
        *,
        detail: str,
        code: str,
        cap: bool = False,
        wait: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=detail, code=code)
        self.cap = cap
        self.wait = wait
        # Extension members of the problem document (RFC 9457 3.2): a batch
        # refused by a cap says how many rows it had and how many would fit.
        self.extra = extra or {}
        if cap:
            self.status_code = HTTPStatus.TOO_MANY_REQUESTS


class BatchNotFinishedError(exceptions.APIException):
    """A batch's results asked for before it finished."""

    status_code = HTTPStatus.CONFLICT
    default_detail = (
        "This batch has not finished: read its results once its status is "
        "complete or failed."
    )
    default_code = "batch_not_finished"


class BatchResultsDeletedError(exceptions.APIException):
    """A batch's results asked for after housekeeping deleted them."""

    status_code = HTTPStatus.GONE
    default_detail = (
        "This batch's results were deleted 30 days after it finished, as every "
        "batch's are. Send the file again to search again."
    )
    default_code = "batch_results_deleted"


def problem(
    *,
    status: int,
    detail: str,
    type_: str = BLANK,
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": type_,
        "title": TITLES.get(type_) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if code:
        document["code"] = code
    if errors is not None:
        document["errors"] = errors
    return document


def field_errors(detail: Any, field: str | None = None) -> Iterator[dict[str, Any]]:
    """Each message of a DRF validation error, with the field it is about (None
    for the body as a whole)."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = None if key == "non_field_errors" else str(key)
            yield from field_errors(value, name if field is None else field)
    elif isinstance(detail, list):
        for item in detail:
            yield from field_errors(item, field)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"field": field, "detail": str(detail), "code": str(code)}


def _validation_problem(exc: exceptions.ValidationError) -> dict[str, Any]:
    errors = list(field_errors(exc.detail))
    first = errors[0]["detail"] if errors else "The request is not valid."
    return problem(
        status=HTTPStatus.BAD_REQUEST,
        type_=INVALID_REQUEST,
        detail=first if len(errors) == 1 else f"{len(errors)} problems: {first}",
        code="invalid_request",
        errors=errors,
    )


def _detail(exc: exceptions.APIException) -> tuple[str, str]:
    detail = exc.detail
    if isinstance(detail, list | dict):  # an APIException raised with a structure
        return str(exc.default_detail), str(exc.default_code)
    return str(detail), str(getattr(detail, "code", None) or exc.default_code)


def _type(exc: exceptions.APIException) -> str:
    if isinstance(exc, LookupRefusedError):
        return LOOKUP_CAP_REACHED if exc.cap else ACCESS_REFUSED
    if isinstance(exc, exceptions.Throttled):
        return RATE_LIMITED
    return BLANK


def problem_exception_handler(exc: Exception, context: Any) -> Response | None:
    """DRF's exception handler, answering each APIException as a problem document.

    Anything else is left to Django (a 500, logged with its traceback).
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    if isinstance(exc, exceptions.ValidationError):
        document = _validation_problem(exc)
    else:
        detail, code = _detail(exc)
        document = problem(
            status=exc.status_code, detail=detail, code=code, type_=_type(exc)
        )
        document.update(getattr(exc, "extra", {}))
    set_rollback()
    return Response(
        document, status=exc.status_code, headers=headers, content_type=CONTENT_TYPE
    )


def problem_json(document: dict[str, Any]) -> HttpResponse:
    """A problem document outside DRF's views (an address with no operation)."""
    return JsonResponse(document, status=document["status"], content_type=CONTENT_TYPE)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any /api/ address without an operation: 404 as a problem document."""
    return problem_json(
        problem(
            status=HTTPStatus.NOT_FOUND,
            detail="There is no operation at this address. See /api/v1/docs.",
            code="not_found",
        )
    )
