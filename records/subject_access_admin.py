"""Subject access requests in admin: a caseworker records the request, then takes
each step (identity check, extension, report sent, closed) from its page; the
report is downloaded there as PDF or CSV once the identity is checked, and each
download is logged (records.subject_access, decision 0028)."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from lrs_portal.admin import BaseAdmin
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed, save_with_history
from records import subject_access as sa
from records.models import SubjectAccessRequest
from records.reports import (
    access_report_csv,
    access_report_filename,
    access_report_pdf,
    learner_access_report,
)
from records.uln import validate_uln

St = SubjectAccessRequest.Status
STEPS = (
    ("", "No change"),
    ("identity", "Record the identity check"),
    ("extend", "Extend the deadline by two months"),
    ("sent", "Record the report sent"),
    ("close", "Close the request"),
)
NEEDS = {
    "identity": ("identity_check",),
    "extend": ("extension_reason",),
    "sent": ("report_sent_by", "report_sent_on"),
    "close": ("closing_note",),
}
CASE_FIELDS = (
    "learner_uln",
    "requester_name",
    "reply_to",
    "arrived_by",
    "received_on",
)
STEP_FIELDS = (
    "identity_check",
    "identity_notes",
    "extension_reason",
    "report_sent_by",
    "report_sent_on",
    "closing_note",
)


class SubjectAccessRequestForm(forms.ModelForm):  # type: ignore[type-arg]
    step = forms.ChoiceField(choices=STEPS, required=False, label="Next step")

    class Meta:
        model = SubjectAccessRequest
        fields = (*CASE_FIELDS, *STEP_FIELDS)

    def clean_learner_uln(self) -> str:
        uln = str(self.cleaned_data["learner_uln"]).strip()
        validate_uln(uln)
        return uln

    def clean_received_on(self) -> date:
        received: date = self.cleaned_data["received_on"]
        if received > timezone.localdate():
            raise ValidationError("The day received cannot be in the future")
        if received < date(2018, 5, 25):
            raise ValidationError("The day received must be on or after 25 May 2018")
        return received

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        step = data.get("step", "")
        for field in NEEDS.get(step, ()):
            if field in self.fields and not data.get(field):
                self.add_error(field, "Enter this to take the step")
        problem = _step_problem(self.instance, step) if self.instance.pk else None
        if problem:
            self.add_error("step", problem)
        sent_on = data.get("report_sent_on")
        if sent_on and sent_on > timezone.localdate():
            self.add_error("report_sent_on", "The day sent cannot be in the future")
        return data


def _step_problem(sar: SubjectAccessRequest, step: str) -> str | None:
    """Why this step cannot be taken now, if it cannot."""
    if step == "identity" and sar.status != St.RECEIVED:
        return "The identity check is already recorded"
    if step == "extend" and (sar.status not in sa.OPEN or sar.extended_at):
        return "Only an open request not yet extended can be extended"
    if step == "sent" and sar.status != St.IDENTITY_CHECKED:
        return "Record the identity check before the report is sent"
    if step == "sent" and sar.report_generated_at is None:
        return "Download the report before recording it sent"
    if step == "close" and sar.status == St.CLOSED:
        return "The request is already closed"
    return None


class DueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (("overdue", "Overdue"), ("soon", "Due within 7 days"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "overdue":
            return queryset.filter(pk__in=sa.sars_overdue())
        if self.value() == "soon":
            return queryset.filter(pk__in=sa.sars_due_soon())
        return queryset


@admin.register(SubjectAccessRequest)
class SubjectAccessRequestAdmin(BaseAdmin):
    form = SubjectAccessRequestForm
    list_display = ("__str__", "status", "due", "arrived_by", "received_on")
    list_filter = (DueFilter, "status", "arrived_by")
    date_hierarchy = "received_on"
    list_per_page = 50
    change_form_template = "admin/records/subjectaccessrequest/change_form.html"  # type: ignore[misc]
    done = (
        "status",
        "identity_checked_by",
        "identity_checked_at",
        "extended_at",
        "report_generated_at",
        "closed_at",
    )

    @admin.display(description="Due by")
    def due(self, sar: SubjectAccessRequest) -> str:
        due = sa.sar_due(sar)
        return f"{due.day} {due:%B %Y}" + (" (overdue)" if sa.sar_overdue(sar) else "")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": CASE_FIELDS}),)
        return (
            ("The request", {"fields": CASE_FIELDS}),
            ("Progress", {"fields": self.done}),
            ("Next step", {"fields": ("step", *STEP_FIELDS)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        taken = [f for f in STEP_FIELDS if getattr(obj, f)]
        return (*CASE_FIELDS, *self.done, *taken)

    def save_model(
        self, request: HttpRequest, obj: SubjectAccessRequest, form: Any, change: bool
    ) -> None:
        user = _user(request)
        if not change:
            save_with_history(obj, acting_user=user, reason="Request recorded")
            return
        data = form.cleaned_data
        fresh = SubjectAccessRequest.objects.get(pk=obj.pk)
        try:
            match data.get("step"):
                case "identity":
                    sa.sar_identity_checked(
                        sar=fresh,
                        how=data["identity_check"],
                        notes=data.get("identity_notes", ""),
                        acting_user=user,
                    )
                case "extend":
                    sa.sar_extend(
                        sar=fresh, reason=data["extension_reason"], acting_user=user
                    )
                case "sent":
                    sa.sar_report_sent(
                        sar=fresh,
                        sent_by=data["report_sent_by"],
                        sent_on=data["report_sent_on"],
                        acting_user=user,
                    )
                case "close":
                    sa.sar_close(sar=fresh, note=data["closing_note"], acting_user=user)
        except (TransitionNotAllowed, ValueError) as exc:
            messages.error(request, f"Not done: {exc}")

    def save_related(self, request: Any, form: Any, formsets: Any, change: Any) -> None:
        return None  # no related objects; the row was saved by the step

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "<path:object_id>/report.<str:file_format>",
            self.admin_site.admin_view(self.report_view),
            name="records_subjectaccessrequest_report",
        )
        return [report, *super().get_urls()]  # type: ignore[no-untyped-call]

    def report_view(
        self, request: HttpRequest, object_id: str, file_format: str
    ) -> HttpResponseBase:
        sar = self.get_object(request, unquote(object_id))
        if sar is None or file_format not in ("pdf", "csv"):
            raise Http404
        if not self.has_change_permission(request, sar):
            raise PermissionDenied
        if sar.status == St.RECEIVED:
            raise PermissionDenied  # identity not checked: nothing to give yet
        sa.sar_report_downloaded(
            sar=sar, file_format=file_format, acting_user=_user(request)
        )
        return access_report_response(sar.learner_uln, file_format)

    def change_page_context(
        self, request: HttpRequest, obj: SubjectAccessRequest
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "due": sa.sar_due(obj),
            "overdue": sa.sar_overdue(obj),
        }
        if obj.status != St.RECEIVED and self.has_change_permission(request, obj):
            name = "admin:records_subjectaccessrequest_report"
            context["workflow_tools"] = [
                {
                    "url": reverse(name, args=[obj.pk, kind]),
                    "label": f"Download access report ({kind.upper()})",
                }
                for kind in ("pdf", "csv")
            ]
        return context


def access_report_response(uln: str, file_format: str) -> HttpResponse:
    """The report as a download: the same bytes as the learner_access_report
    command writes."""
    rows = learner_access_report(uln=uln)
    if file_format == "pdf":
        body: bytes | str = access_report_pdf(uln=uln, rows=rows)
        kind = "application/pdf"
    else:
        body = "".join(access_report_csv(uln=uln, rows=rows))
        kind = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=kind)
    filename = access_report_filename(uln, file_format)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - admin views are signed in
    return user
