"""A request's case file in the admin (decision 17): internal notes, attachments
(downloaded through a view that checks permission), correspondence, the public
summary, annual reviews and changes; the time in stage. Mixed into the request
admin so its page and workflow pages stay one."""

from datetime import datetime, time
from typing import Any

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from approvals import permissions
from approvals.admin.base import CaseInline, S
from approvals.admin.secretariat_forms import (
    AttachmentForm,
    CorrespondenceForm,
    NoteForm,
    PublicSummaryForm,
    review_choice,
)
from approvals.models import (
    AnnualReview,
    CaseAttachment,
    CaseNote,
    Correspondence,
    DataShareRequest,
    PublicSummary,
)
from approvals.services.casefile import (
    annual_review_complete,
    attachment_add,
    attachment_name,
    change_apply,
    correspondence_log,
    note_add,
    public_summary_approve,
    public_summary_write,
)
from approvals.services.secretariat import (
    days_in_stage,
    is_overdue,
    stage_target_days,
)
from registration.admin.base import ConfirmForm, _user


class NoteInline(CaseInline):
    model = CaseNote
    fields = ("written_at", "author", "text")
    verbose_name_plural = "internal notes (never shown to the requester)"


class AttachmentInline(CaseInline):
    model = CaseAttachment
    fields = ("kind", "description", "download", "size", "uploaded_by", "uploaded_at")
    readonly_fields = ("download",)

    @admin.display(description="Document")
    def download(self, attachment: CaseAttachment) -> SafeString:
        url = reverse(
            "admin:approvals_datasharerequest_attachment",
            args=[attachment.request_id, attachment.pk],
        )
        return format_html('<a href="{}">{}</a>', url, attachment_name(attachment))


class CorrespondenceInline(CaseInline):
    model = Correspondence
    fields = ("occurred_at", "direction", "channel", "subject", "summary")


class PublicSummaryInline(CaseInline):
    model = PublicSummary
    fields = ("text", "written_by", "approved_by", "approved_at")
    verbose_name_plural = "summary for the public register"


class AnnualReviewInline(CaseInline):
    model = AnnualReview
    fields = ("due_on", "outcome", "findings", "completed_by", "completed_at")


class ChangeInline(CaseInline):
    model = DataShareRequest
    fk_name = "change_of"
    fields = ("reference", "change_kind", "status", "end_date")
    verbose_name_plural = "amendments and extensions"


CASE_FILE_INLINES = (
    NoteInline,
    AttachmentInline,
    CorrespondenceInline,
    PublicSummaryInline,
    AnnualReviewInline,
    ChangeInline,
)
_PUBLISHABLE = (
    S.APPROVED,
    S.APPROVED_WITH_CONDITIONS,
    S.RELEASED,
    S.CLOSING,
    S.CLOSED,
)


class CaseFileAdminMixin:
    """The case file's columns, tools and workflow pages on the request admin."""

    @admin.display(description="Days in stage", ordering="stage_entered_at")
    def days_in_stage(self, obj: DataShareRequest) -> SafeString | int:
        days = days_in_stage(obj)
        if is_overdue(obj):
            target = stage_target_days(obj.status)
            return format_html(
                '<strong class="overdue">{} (target {})</strong>', days, target
            )
        return days

    def case_file_tools(
        self, request: HttpRequest, obj: DataShareRequest
    ) -> list[tuple[str, str]]:
        user = _user(request)
        if not permissions.can_keep_case_file(user, obj):
            return []
        offered = [
            ("Add an internal note", "note"),
            ("Attach a document", "attach"),
            ("Log correspondence", "correspondence"),
        ]
        if obj.status in _PUBLISHABLE or obj.status == S.PANEL:
            offered.append(("Write the public summary", "public_summary"))
        summary = PublicSummary.objects.filter(request=obj).first()
        if summary and summary.approved_at is None and summary.written_by_id != user.pk:
            offered.append(("Approve the public summary", "approve_summary"))
        if obj.annual_reviews.filter(completed_at__isnull=True).exists():
            offered.append(("Record the annual review", "review"))
        if obj.change_of_id and obj.is_approved:
            offered.append(("Apply the change to the share", "apply_change"))
        return offered

    def case_file_urls(self) -> list[URLPattern]:
        views = (
            ("note", self.note_view),
            ("attach", self.attach_view),
            ("correspondence", self.correspondence_view),
            ("public_summary", self.public_summary_view),
            ("approve_summary", self.approve_summary_view),
            ("review", self.review_view),
            ("apply_change", self.apply_change_view),
        )
        paths = [self.workflow_path(name, view) for name, view in views]  # type: ignore[attr-defined]
        return [self.attachment_path(), *paths]

    def attachment_path(self) -> URLPattern:
        return path(
            "<path:object_id>/attachment/<int:attachment_id>/",
            self.admin_site.admin_view(self.attachment_view),  # type: ignore[attr-defined]
            name="approvals_datasharerequest_attachment",
        )

    def attachment_view(
        self, request: HttpRequest, object_id: str, attachment_id: int
    ) -> HttpResponseBase:
        """Stream an attachment to someone who reads the case file; else 404."""
        obj = self.workflow_object(request, object_id)  # type: ignore[attr-defined]
        if not permissions.can_read_case_file(_user(request), obj):
            raise Http404
        attachment = CaseAttachment.objects.filter(
            pk=attachment_id, request=obj
        ).first()
        if attachment is None:
            raise Http404
        try:
            handle = attachment.document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment_name(attachment),
            content_type="application/pdf",
        )

    def _page(
        self, request: HttpRequest, object_id: str, **kwargs: Any
    ) -> HttpResponse:
        obj = self.workflow_object(request, object_id)  # type: ignore[attr-defined]
        act = kwargs.pop("act")
        return self.workflow(  # type: ignore[attr-defined,no-any-return]
            request,
            obj,
            allowed=permissions.can_keep_case_file(_user(request), obj),
            act=lambda data: act(obj, data),
            **kwargs,
        )

    def note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def act(obj: DataShareRequest, data: dict[str, Any]) -> str:
            note_add(request=obj, acting_user=_user(request), text=data["text"])
            return "Note added."

        return self._page(
            request,
            object_id,
            form_class=NoteForm,
            title="Add an internal note",
            submit_label="Add the note",
            act=act,
        )

    def attach_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def act(obj: DataShareRequest, data: dict[str, Any]) -> str:
            attachment = attachment_add(
                request=obj,
                acting_user=_user(request),
                kind=data["kind"],
                upload=data["document"],
                description=data["description"],
            )
            return f"Attached: {attachment.get_kind_display()}."

        return self._page(
            request,
            object_id,
            form_class=AttachmentForm,
            title="Attach a document",
            submit_label="Attach",
            intro="PDF files only. They are kept in private storage.",
            act=act,
        )

    def correspondence_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def act(obj: DataShareRequest, data: dict[str, Any]) -> str:
            moment = timezone.make_aware(
                datetime.combine(data["occurred_on"], time(12))
            )
            correspondence_log(
                request=obj,
                acting_user=_user(request),
                direction=data["direction"],
                channel=data["channel"],
                subject=data["subject"],
                summary=data["summary"],
                occurred_at=min(moment, timezone.now()),
            )
            return "Correspondence logged."

        return self._page(
            request,
            object_id,
            form_class=CorrespondenceForm,
            title="Log correspondence with the requester",
            submit_label="Log it",
            act=act,
        )

    def public_summary_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def act(obj: DataShareRequest, data: dict[str, Any]) -> str:
            public_summary_write(
                request=obj, acting_user=_user(request), text=data["text"]
            )
            return "Public summary saved: another caseworker approves it."

        return self._page(
            request,
            object_id,
            form_class=PublicSummaryForm,
            title="Write the summary for the public register",
            submit_label="Save the summary",
            act=act,
        )

    def approve_summary_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        def act(obj: DataShareRequest, data: dict[str, Any]) -> str:
            public_summary_approve(request=obj, acting_user=_user(request))
            return "Public summary approved: the register shows it."

        obj = self.workflow_object(request, object_id)  # type: ignore[attr-defined]
        summary = PublicSummary.objects.filter(request=obj).first()
        return self._page(
            request,
            object_id,
            form_class=ConfirmForm,
            title="Approve the public summary",
            submit_label="Approve for publication",
            intro=summary.text if summary else "No summary has been written.",
            act=act,
        )

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)  # type: ignore[attr-defined]

        def act(share: DataShareRequest, data: dict[str, Any]) -> str:
            annual_review_complete(
                review=data["review"],
                acting_user=_user(request),
                outcome=data["outcome"],
                findings=data["findings"],
            )
            return "Annual review recorded."

        return self._page(
            request,
            object_id,
            form_class=review_choice(obj),
            title="Record the annual review",
            submit_label="Record the review",
            act=act,
        )

    def apply_change_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.workflow_object(request, object_id)  # type: ignore[attr-defined]

        def act(change: DataShareRequest, data: dict[str, Any]) -> str:
            change_apply(change=change, acting_user=_user(request))
            return f"Applied to {change.change_of}."

        share = obj.change_of
        return self.workflow(  # type: ignore[attr-defined,no-any-return]
            request,
            obj,
            allowed=share is not None
            and permissions.can_release(_user(request), share),
            form_class=ConfirmForm,
            title="Apply the approved change to the share",
            submit_label="Apply the change",
            intro=f"{obj.get_change_kind_display()} of {share}: the end date becomes "
            f"{obj.end_date}; new datasets and researchers are added to the share.",
            act=lambda data: act(obj, data),
        )
