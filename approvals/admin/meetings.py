"""Panel meetings: caseworkers set them up; members see only their own."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from approvals import permissions
from approvals.admin.base import (
    CaseInline,
    NotYoursIsNotFound,
    is_dsap_staff,
)
from approvals.models import (
    DataShareRequest,
    PanelMeeting,
)
from approvals.services import meeting_change_refusals
from lrs_portal.admin import BaseAdmin
from registration.admin.base import (
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
class PanelMeetingAdmin(NotYoursIsNotFound, BaseAdmin):
    form = PanelMeetingForm
    list_display = ("held_on", "chair")
    list_select_related = ("chair",)
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
        return bool(super().has_change_permission(request, obj))

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # The members of a meeting, and only they, vote on its open requests.
        permissions.panel_permissions_sync(meeting=form.instance)
