"""Shared pieces of registration's admin: the base admin with its workflow pages,
read-only forms and inlines, fieldsets, the capped paginator.

The workflow pages' forms are in registration.admin.forms, the list filters with
a default in registration.admin.filters and CSV export in
registration.admin.csv_export; each is importable from here as before.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import cached_property

from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import when
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from registration.admin.csv_export import csv_response
from registration.admin.filters import (
    CaseStatusFilter,
    DefaultChoiceFilter,
    QueueFilter,
)
from registration.admin.forms import (
    TEXT_MAX,
    ApproveForm,
    ConfirmForm,
    FollowUpForm,
    PublishForm,
    ReasonForm,
    RejectForm,
    RequestInformationForm,
    ResolveForm,
)
from registration.models import Organisation, RegistrationApplication
from registration.services import (
    ApprovalBlocked,
)
from registration.services.agreements import SigningRefused

# Moved to forms, filters and csv_export (issue 18) and still importable from here.
__all__ = [
    "TEXT_MAX",
    "ApproveForm",
    "CaseStatusFilter",
    "ConfirmForm",
    "DefaultChoiceFilter",
    "FollowUpForm",
    "PublishForm",
    "QueueFilter",
    "ReasonForm",
    "RejectForm",
    "RequestInformationForm",
    "ResolveForm",
    "csv_response",
]

A = RegistrationApplication.Status
S = Organisation.Status
OPEN_STATUSES = (A.SUBMITTED, A.MORE_INFO_REQUESTED)
WORKFLOW_TEMPLATE = "admin/registration/workflow_form.html"
CHANGE_FORM_TEMPLATE = "admin/registration/change_form.html"


def _user(request: HttpRequest) -> User:
    # admin_view has already let in only active, verified staff.
    return cast(User, request.user)


def _when(moment: datetime | None) -> str:
    return when(moment)  # 6 December 2026, 18:52, as everywhere in the admin


# --- shared base -------------------------------------------------------------------


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most 10,000 rows: a large table's list never runs a full COUNT(*)."""

    LIMIT = 10_000

    @cached_property
    def count(self) -> int:
        capped: Any = self.object_list[: self.LIMIT]
        return cast(int, capped.count())


class RegistrationAdmin(BaseAdmin):
    """BaseAdmin for registration's history-tracked models, with workflow pages.

    A workflow page re-checks permission, validates its form, calls one service,
      then log_change and message_user (django.contrib.auth's user_change_password).
    """

    change_form_template = CHANGE_FORM_TEMPLATE  # type: ignore[misc]
    view_on_site = False

    # --- workflow pages ---

    def _url_name(self, name: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_{name}"

    def workflow_path(
        self, name: str, view: Callable[[HttpRequest, str], HttpResponseBase]
    ) -> URLPattern:
        route = f"<path:object_id>/{name.replace('_', '-')}/"
        return path(route, self.admin_site.admin_view(view), name=self._url_name(name))

    def default_urls(self) -> list[URLPattern]:
        """The admin's own URLs (after the workflow pages, which they would shadow)."""
        return cast(list[URLPattern], super().get_urls())  # type: ignore[no-untyped-call]

    def workflow_url(self, name: str, obj: Model) -> str:
        return reverse(
            f"admin:{self._url_name(name)}",
            args=[quote(obj.pk)],
            current_app=self.admin_site.name,
        )

    def workflow_object(self, request: HttpRequest, object_id: str) -> Any:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return obj

    def workflow_tool(self, label: str, name: str, obj: Model) -> dict[str, str]:
        return {"label": label, "url": self.workflow_url(name, obj)}

    def workflow(
        self,
        request: HttpRequest,
        obj: Model,
        *,
        allowed: bool,
        form_class: type[forms.Form],
        title: str,
        submit_label: str,
        act: Callable[[dict[str, Any]], str],
        intro: str = "",
        items: Sequence[str] = (),
        items_heading: str = "",
        can_submit: bool = True,
    ) -> HttpResponse:
        """A single-object page: GET shows the form, a valid POST calls ``act``."""
        if not allowed:
            raise PermissionDenied
        posted = request.method == "POST"
        form = form_class(request.POST, request.FILES) if posted else form_class()
        if request.method == "POST" and form.is_valid():
            try:
                message = act(form.cleaned_data)
            except PermissionError as exc:
                raise PermissionDenied from exc
            except ApprovalBlocked as exc:
                return self.workflow_refused(request, obj, exc.reasons)
            except (TransitionNotAllowed, SigningRefused) as exc:
                return self.workflow_refused(request, obj, [str(exc)])
            self.log_change(request, obj, message)
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(self.workflow_url("change", obj))
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": obj,
            "has_view_permission": True,
            "form": form,
            "intro": intro,
            "items": items,
            "items_heading": items_heading,
            "submit_label": submit_label,
            "can_submit": can_submit,
            "change_url": self.workflow_url("change", obj),
        }
        return TemplateResponse(request, WORKFLOW_TEMPLATE, context)

    def workflow_refused(
        self, request: HttpRequest, obj: Model, reasons: Sequence[str]
    ) -> HttpResponseRedirect:
        self.message_user(request, " ".join(reasons), messages.ERROR)
        return HttpResponseRedirect(self.workflow_url("change", obj))


class ReadOnlyFormMixin:
    """The change form only shows the row; workflow pages make the changes.

    ``has_change_permission(request)`` without an object still answers with the
    model permission: the changelist, guardian's pages and the workflow pages use it.
    """

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return False
        return cast(bool, super().has_change_permission(request))  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ViewOnlyRegistrationAdmin(ViewOnlyMixin, RegistrationAdmin):
    """History-tracked rows that code writes and caseworkers only look at."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only guardian's object-permission pages ask without an object, and only
        # a superuser may use them.
        return obj is None and request.user.is_superuser


class ViewOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


Groups = Sequence[tuple[str | None, tuple[str, ...]]]


def _fieldsets(groups: Groups) -> Any:
    return tuple((title, {"fields": fields}) for title, fields in groups)


def field_names(groups: Groups) -> tuple[str, ...]:
    return tuple(name for _, fields in groups for name in fields)
