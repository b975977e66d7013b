"""Panel meetings: caseworkers set them up; members see only their own. The
meeting's page holds its agenda, papers pack, attendance, minutes, actions and
the chair's sign-off (decision 17)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone

from approvals import permissions
from approvals.admin.base import (
    CaseInline,
    NotYoursIsNotFound,
    is_dsap_staff,
)
from approvals.admin.secretariat_forms import (
    NOT_RECORDED,
    action_form,
    attendance_form,
    minutes_form,
)
from approvals.models import (
    DataShareRequest,
    Decision,
    MeetingAction,
    MeetingAttendance,
    MeetingMinutes,
    PanelMeeting,
    PanelVote,
)
from approvals.papers import papers_pack
from approvals.services import meeting_change_refusals
from approvals.services.meetings import (
    action_add,
    attendance_record,
    is_signed,
    meeting_agenda,
    minutes_items,
    minutes_of,
    minutes_sign,
    minutes_write,
    sign_off_blockers,
)
from approvals.services.secretariat import days_in_stage, is_overdue
from registration.admin.base import (
    ConfirmForm,
    RegistrationAdmin,
    _user,
)

# --- panel meetings ---------------------------------------------------------------


class PanelMeetingForm(forms.ModelForm[PanelMeeting]):
    class Meta:
        model = PanelMeeting
        fields = ("held_on", "chair", "members")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chair, members = cleaned.get("chair"), cleaned.get("members")
        if chair is not None and members is not None and chair not in members:
            self.add_error("chair", "The chair must be one of the members")
        if members is not None and len(members) < 3:
            self.add_error("members", "A meeting needs at least three members")
        # Under the meeting's lock until the admin's transaction commits, so no
        # vote lands between this check and the save (decision 16).
        for problem in meeting_change_refusals(
            meeting=self.instance if self.instance.pk else None,
            held_on=cleaned.get("held_on"),
            chair=chair,
            members=list(members) if members is not None else None,
        ):
            self.add_error(None, problem)
        return cleaned


class MeetingRequestInline(CaseInline):
    model = DataShareRequest
    fk_name = "panel_meeting"
    fields = ("reference", "project_title", "organisation", "status")
    verbose_name_plural = "requests on the agenda"


@admin.register(PanelMeeting)
class PanelMeetingAdmin(NotYoursIsNotFound, RegistrationAdmin):
    form = PanelMeetingForm
    change_form_template = "admin/approvals/panelmeeting/change_form.html"  # type: ignore[misc]
    list_display = ("held_on", "chair", "agenda_size", "minutes_status")
    list_select_related = ("chair", "minutes")
    filter_horizontal = ("members",)
    raw_id_fields = ("chair",)
    inlines = (MeetingRequestInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PanelMeeting]:
        return permissions.meetings_visible_to_staff(_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or is_dsap_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request) or is_dsap_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Nobody reshapes a panel that is to decide a request from their own
        organisation (the meeting is then read-only to them)."""
        if obj is not None:
            user = _user(request)
            requests = DataShareRequest.objects.filter(panel_meeting=obj)
            if any(permissions.is_own_organisation(user, r) for r in requests):
                return False
            if is_signed(obj):  # signed minutes close the meeting's record
                return False
        return bool(super().has_change_permission(request, obj))

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # The members of a meeting, and only they, vote on its open requests.
        permissions.panel_permissions_sync(meeting=form.instance)

    # --- the secretariat (decision 17) ---

    @admin.display(description="Requests")
    def agenda_size(self, meeting: PanelMeeting) -> int:
        return meeting_agenda(meeting).count()

    @admin.display(description="Minutes")
    def minutes_status(self, meeting: PanelMeeting) -> str:
        minutes = getattr(meeting, "minutes", None)  # joined by the list's query
        if minutes is None:
            return "Not written"
        if minutes.signed_at is None:
            return "Written, not signed"
        return f"Signed {timezone.localtime(minutes.signed_at):%d %b %Y}"

    def change_page_context(
        self, request: HttpRequest, obj: PanelMeeting
    ) -> dict[str, Any]:
        user = _user(request)
        items = minutes_items(obj)
        today = timezone.localdate()
        return {
            "workflow_tools": self.tools(request, obj),
            "agenda": [
                {
                    "item": item,
                    "withheld": permissions.papers_withheld(user, obj, item.request),
                    "days": days_in_stage(item.request, today),
                    "overdue": is_overdue(item.request, today),
                }
                for item in items
            ],
            "attendance": list(
                MeetingAttendance.objects.filter(meeting=obj).select_related("member")
            ),
            "minutes": minutes_of(obj),
            "general_actions": list(obj.actions.filter(request__isnull=True)),
            "sign_off_blockers": sign_off_blockers(obj),
            "meeting_timeline": meeting_timeline(obj),
        }

    def tools(self, request: HttpRequest, obj: PanelMeeting) -> list[dict[str, str]]:
        user = _user(request)
        offered = []
        if permissions.can_read_papers(user, obj):
            offered.append(("Download the papers pack (PDF)", "papers"))
        signed = is_signed(obj)
        held = obj.held_on <= timezone.localdate()
        if not signed and held and permissions.can_keep_minutes(user, obj):
            offered += [
                ("Record attendance", "attendance"),
                ("Write the minutes", "minutes"),
                ("Add an action", "action"),
            ]
        if not signed and permissions.can_sign_minutes(user, obj):
            offered.append(("Sign the minutes", "sign"))
        return [self.workflow_tool(label, name, obj) for label, name in offered]

    def get_urls(self) -> list[URLPattern]:
        views = (
            ("papers", self.papers_view),
            ("attendance", self.attendance_view),
            ("minutes", self.minutes_view),
            ("action", self.action_view),
            ("sign", self.sign_view),
        )
        return [
            *(self.workflow_path(name, view) for name, view in views),
            *self.default_urls(),
        ]

    def papers_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The papers pack for the reader; not theirs is a 404."""
        meeting = self.workflow_object(request, object_id)
        user = _user(request)
        if not permissions.can_read_papers(user, meeting):
            raise Http404
        response = HttpResponse(
            papers_pack(meeting, user), content_type="application/pdf"
        )
        name = f"dsap-papers-{meeting.held_on:%Y-%m-%d}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response

    def attendance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        meeting = self.workflow_object(request, object_id)
        form_class = attendance_form(meeting)

        def act(data: dict[str, Any]) -> str:
            members = form_class.members  # type: ignore[attr-defined]
            recorded = 0
            for key, member in members.items():
                if data.get(key, NOT_RECORDED) != NOT_RECORDED:
                    attendance_record(
                        meeting=meeting,
                        acting_user=_user(request),
                        member=member,
                        status=data[key],
                    )
                    recorded += 1
            return f"Attendance recorded for {recorded} members."

        return self.workflow(
            request,
            meeting,
            allowed=permissions.can_keep_minutes(_user(request), meeting),
            form_class=form_class,
            title=f"Attendance: {meeting}",
            submit_label="Record attendance",
            act=act,
        )

    def minutes_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        meeting = self.workflow_object(request, object_id)
        minutes = minutes_of(meeting)

        def act(data: dict[str, Any]) -> str:
            minutes_write(
                meeting=meeting,
                acting_user=_user(request),
                discussion=data["discussion"],
            )
            return "Minutes saved. The chair signs them once they are complete."

        return self.workflow(
            request,
            meeting,
            allowed=permissions.can_keep_minutes(_user(request), meeting),
            form_class=minutes_form(minutes.discussion if minutes else ""),
            title=f"Minutes: {meeting}",
            submit_label="Save the minutes",
            act=act,
        )

    def action_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        meeting = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            action_add(meeting=meeting, acting_user=_user(request), **data)
            return f"Action recorded for {data['owner']}."

        return self.workflow(
            request,
            meeting,
            allowed=permissions.can_keep_minutes(_user(request), meeting),
            form_class=action_form(meeting),
            title=f"Add an action: {meeting}",
            submit_label="Record the action",
            act=act,
        )

    def sign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        meeting = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            minutes_sign(meeting=meeting, acting_user=_user(request))
            return "Minutes signed: the meeting's record is now read-only."

        blockers = sign_off_blockers(meeting)
        return self.workflow(
            request,
            meeting,
            allowed=permissions.can_sign_minutes(_user(request), meeting),
            form_class=ConfirmForm,
            title=f"Sign the minutes: {meeting}",
            submit_label="Sign the minutes",
            intro="Once signed, the minutes, attendance and actions cannot change.",
            items=blockers,
            items_heading="The minutes cannot be signed yet:",
            can_submit=not blockers,
            act=act,
        )


def meeting_timeline(meeting: PanelMeeting) -> list[dict[str, Any]]:
    """Everything recorded about the meeting, newest first, from history rows."""
    sources: list[tuple[str, QuerySet[Any]]] = [
        ("Meeting", PanelMeeting.history.filter(id=meeting.pk)),
        ("Attendance", MeetingAttendance.history.filter(meeting_id=meeting.pk)),
        ("Minutes", MeetingMinutes.history.filter(meeting_id=meeting.pk)),
        ("Action", MeetingAction.history.filter(meeting_id=meeting.pk)),
        ("Vote or conflict", PanelVote.history.filter(meeting_id=meeting.pk)),
        ("Decision", Decision.history.filter(meeting_id=meeting.pk)),
    ]
    entries = [
        {
            "when": row.history_date,
            "who": row.history_user or "The service",
            "what": label,
            "why": row.history_change_reason or "",
        }
        for label, history in sources
        for row in history.select_related("history_user")
    ]
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries
