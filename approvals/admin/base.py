"""Shared pieces of the approvals admin: rule 6, the read-only case inlines, who
is an assessor or panel member."""

from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from approvals.models import DataShareRequest
from lrs_portal import roles
from registration.admin.base import (
    ViewOnlyInline,
    _user,
)

S = DataShareRequest.Status
_TEXT = forms.Textarea(attrs={"rows": 4, "cols": 80})


# The columns are TextFields; the limit is the same as the requester's answers
# (approvals.form_fields._text), so no page accepts a text no one could read.
TEXT_MAX = 5000


def text_field(
    label: str, *, required: bool = True, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=_TEXT,
        max_length=TEXT_MAX,
        error_messages={
            "max_length": f"{label} must be {TEXT_MAX:,} characters or fewer"
        },
    )


class NotYoursIsNotFound:
    """Rule 6 in the admin: a row outside the person's queryset is a 404 on its
    change and history pages (Django would redirect with "doesn't exist")."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponseRedirect:
        raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:  # type: ignore[attr-defined]
            raise Http404
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc,no-any-return]

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: Any = None,
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:  # type: ignore[attr-defined]
            raise Http404
        return super().history_form_view(  # type: ignore[misc,no-any-return]
            request, object_id, version_id, extra_context
        )


class CaseInline(ViewOnlyInline):
    """A read-only part of a request (or meeting) page. Assessors and panel
    members hold no model permissions, but the page is theirs to read: the
    admin shows it only when the request is in their queryset."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(super().has_view_permission(request, obj)) or is_dsap_staff(request)


def is_dsap_staff(request: HttpRequest) -> bool:
    """Assessors and panel members: no model permissions, but their own requests
    (asked once per request: the admin's sidebar asks for every model)."""
    cached: bool | None = getattr(request, "_approvals_dsap_staff", None)
    if cached is None:
        user = _user(request)
        dsap = (roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER)
        cached = user.is_active and user.groups.filter(name__in=dsap).exists()
        request._approvals_dsap_staff = cached  # type: ignore[attr-defined]
    return cached
