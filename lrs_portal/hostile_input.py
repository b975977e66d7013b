"""Characters no person types, refused before they reach a view or the database.

Where each check lives (docs/decisions/0018-hostile-input-and-busy-machines.md):

- the address (path, query string) and cookies: ``ControlCharacterMiddleware``, before
  sessions, users or any view, answering a GOV.UK 400 page (a problem document
  under ``/api/``). A NUL byte there reached PostgreSQL as a lookup (issue 16).
- what a person types into a form: ``refuse_control_characters``, a validator every
  form ``CharField`` carries (``install_form_validator``), so the error is shown on
  the field where it was typed. A view whose form is sent by GET (the log download)
  says so with ``@form_in_query`` and its form does the checking instead.
"""

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TypeVar

import structlog
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render

Handler = Callable[[HttpRequest], HttpResponseBase]
View = TypeVar("View", bound=Callable[..., Any])

logger = structlog.get_logger(__name__)

# C0 controls, DEL, C1 controls and unpaired surrogates. Tab, line feed and
# carriage return are allowed in form text (a pasted paragraph), never in an address.
_IN_ADDRESS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# NUL is left to Django's own ProhibitNullCharactersValidator (one message, not two).
_IN_TEXT = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_CHARACTER_MESSAGE = (
    "This must not include hidden control characters. Type it in again rather "
    "than copying and pasting it"
)


def has_control_characters(value: str) -> bool:
    return _IN_ADDRESS.search(value) is not None


def refuse_control_characters(value: Any) -> None:
    """Typed text holds no control characters but tab and new lines."""
    if isinstance(value, str) and _IN_TEXT.search(value):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE, code="control_characters")


def install_form_validator() -> None:
    """Every form CharField (and the fields built on it) refuses control characters.

    Django itself adds a NUL check to every CharField; this widens it, in one
    place, to the forms other apps, the admin and later work define. Fields with
    their own ``default_validators`` (email, URL, slug) refuse these already.
    """
    if refuse_control_characters not in forms.CharField.default_validators:
        forms.CharField.default_validators = [
            *forms.CharField.default_validators,
            refuse_control_characters,
        ]


def form_in_query(view: View) -> View:
    """Mark a view whose query string is a form: its form shows the field errors."""
    view.query_is_a_form = True  # type: ignore[attr-defined]
    return view


def _where(request: HttpRequest) -> str | None:
    if has_control_characters(request.path_info):
        return "path"
    if any(map(has_control_characters, _keys_and_values(request.COOKIES.items()))):
        return "cookie"
    return None


def _keys_and_values(pairs: Iterable[tuple[str, str]]) -> Iterable[str]:
    for key, value in pairs:
        yield key
        yield value


def _query(request: HttpRequest) -> Iterable[str]:
    return _keys_and_values(_pairs(request.GET.lists()))


def _pairs(lists: Iterable[tuple[str, list[str]]]) -> Iterable[tuple[str, str]]:
    for key, values in lists:
        for value in values or [""]:
            yield key, value


def refusal(request: HttpRequest) -> HttpResponse:
    """A GOV.UK 400 page, or a problem document (RFC 9457) for the API."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Bad Request",
                "status": HTTPStatus.BAD_REQUEST,
                "detail": "The request contains control characters, which are "
                "not allowed.",
            },
            status=HTTPStatus.BAD_REQUEST,
            content_type="application/problem+json",
        )
    return render(
        request,
        "400.html",
        {"control_characters": True},
        status=HTTPStatus.BAD_REQUEST,
    )


class ControlCharacterMiddleware:
    """Refuse an address or cookie holding control characters with a 400.

    Runs before the session and user are read, so a hostile session cookie never
    becomes a database lookup. The query string is checked in ``process_view``,
    once the view is known, unless the view's query string is a form.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        where = _where(request)
        if where:
            logger.warning("control_characters_refused", where=where)
            return refusal(request)
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        if getattr(view_func, "query_is_a_form", False):
            return None
        if any(map(has_control_characters, _query(request))):
            logger.warning("control_characters_refused", where="query")
            return refusal(request)
        return None
