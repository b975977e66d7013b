"""Shared pieces of registration's admin: workflow pages, filters, CSV."""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    Exists,
    Model,
    OuterRef,
    QuerySet,
)
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property

from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.admin_display import when
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from registration.models import (
    FollowUpDiscussion,
    Organisation,
    RegistrationApplication,
    ReverificationCase,
)
from registration.services import (
    ApprovalBlocked,
)
from registration.services.agreements import SigningRefused

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


# --- forms of the workflow pages ---------------------------------------------------


# Reasons and notes go to TextFields (and simple-history's text change reason);
# 5,000 characters, as for every other free text a person types here.
TEXT_MAX = 5000


def _text(label: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=TEXT_MAX,
        error_messages={
            "max_length": f"{label} must be {TEXT_MAX:,} characters or fewer"
        },
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


class ConfirmForm(forms.Form):
    """A POST with nothing to fill in: the button is the confirmation."""


class RequestInformationForm(forms.Form):
    request_text = _text(
        "What the provider must send or change",
        "The provider sees this text on their application.",
    )


class FollowUpForm(forms.Form):
    held_on = forms.DateField(
        label="Held on", widget=forms.DateInput(attrs={"type": "date"})
    )
    attendees = _text("Attendees")
    summary = _text("Summary of the discussion")
    purpose_acceptable = forms.TypedChoiceField(
        label="Is the purpose acceptable?",
        choices=(("yes", "Yes"), ("no", "No")),
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class ApproveForm(forms.Form):
    reason = _text("Note for the record (optional)", required=False)


class ReasonForm(forms.Form):
    reason = _text("Reason", "Recorded in the history, with your name.")


class RejectForm(forms.Form):
    reason = _text("Reason", "The provider sees this reason.")


class PublishForm(forms.Form):
    """When organisations must sign a new version by: a date, or at once for a
    stated reason; never left out by omission."""

    resign_deadline = forms.DateField(
        label="Re-sign deadline",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Organisations that have not signed by the end of this day are "
        "suspended by the next housekeeping run.",
    )
    immediately = forms.BooleanField(
        label="No deadline: they must sign immediately", required=False
    )
    immediately_reason = _text(
        "Why they must sign immediately",
        "Recorded with the version and sent in each suspension.",
        required=False,
    )
    confirmed = forms.BooleanField(
        label="I have checked how many organisations this affects",
        error_messages={"required": "Confirm that you have checked who it affects"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        deadline, immediately = data.get("resign_deadline"), data.get("immediately")
        reason = (data.get("immediately_reason") or "").strip()
        if immediately and deadline:
            raise forms.ValidationError("Choose a deadline or immediately, not both")
        if immediately and not reason:
            self.add_error(
                "immediately_reason", "Say why organisations must sign immediately"
            )
        if not immediately and deadline is None:
            self.add_error(
                "resign_deadline",
                "Enter the date by which organisations must sign, or choose "
                "immediately",
            )
        if deadline is not None and deadline <= timezone.localdate():
            self.add_error("resign_deadline", "The deadline must be in the future")
        data["immediately_reason"] = reason if immediately else ""
        return data


class ResolveForm(forms.Form):
    resolution = _text("Resolution", "What was checked, and what was found.")


# --- list filters with a default ---------------------------------------------------


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter whose default choice applies while no other filter or search does.

    The queue a caseworker lands on is the default; searching for a reference or
    choosing a status looks across everything instead.
    """

    default = ""
    ALL = "all"
    _NOT_FILTERS = frozenset({"o", "p", "e", "_popup", "_to_field", "_facets"})

    def __init__(
        self, request: HttpRequest, params: Any, model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        others = set(request.GET) - self._NOT_FILTERS - {self.parameter_name}
        self.fallback = self.ALL if others else self.default

    def current(self) -> str:
        return self.value() or self.fallback

    def choices(self, changelist: Any) -> Iterator[Any]:
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else {}
        for i, (lookup, title) in enumerate(self.lookup_choices):
            count = counts.get(f"{i}__c")
            yield {
                "selected": self.current() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title if count is None else f"{title} ({count})",
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.current()
        if value == self.ALL:
            return queryset
        return self.filter_to(queryset, value)

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        raise NotImplementedError


class QueueFilter(DefaultChoiceFilter):
    title = "queue"
    parameter_name = "queue"
    default = "submitted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (
            ("submitted", "Submitted"),
            ("awaiting_information", "Awaiting information"),
            ("exceptions", "Exceptions awaiting discussion"),
            (self.ALL, "All"),
        )

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        if value == "submitted":
            return queryset.filter(status=A.SUBMITTED)
        if value == "awaiting_information":
            return queryset.filter(status=A.MORE_INFO_REQUESTED)
        if value == "exceptions":
            acceptable = FollowUpDiscussion.objects.filter(
                application=OuterRef("pk"), purpose_acceptable=True
            )
            return queryset.filter(
                ~Exists(acceptable),
                status=A.SUBMITTED,
                purpose=RegistrationApplication.Purpose.OTHER,
            )
        return queryset.none()


class CaseStatusFilter(DefaultChoiceFilter):
    title = "status"
    parameter_name = "status"
    default = ReverificationCase.Status.OPEN

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (*ReverificationCase.Status.choices, (self.ALL, "All"))

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return queryset.filter(status=value)


# --- CSV export --------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text and never runs as a formula (OWASP)."""
    if value is None:
        return ""
    text = (
        timezone.localtime(value).isoformat()
        if isinstance(value, datetime)
        else f"{value}"
    )
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response


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


def _field_names(groups: Groups) -> tuple[str, ...]:
    return tuple(name for _, fields in groups for name in fields)
