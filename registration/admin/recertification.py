"""Each quarter's recertification campaigns, per organisation, for caseworkers:
read-only, with history (decision 0029). Super users give the answers."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from lrs_portal.admin_display import when
from registration import permissions
from registration.admin.base import ViewOnlyRegistrationAdmin
from registration.models import RecertificationCampaign, RecertificationConfirmation
from registration.services.recertification import (
    DEPARTMENT_ROLES,
    RecertificationRefused,
    recertification_confirm,
    recertification_remove,
)

STATUS = RecertificationConfirmation.Status


class ConfirmationInline(admin.TabularInline[RecertificationConfirmation, Any]):
    model = RecertificationConfirmation
    fields = ("user", "status", "decided_at", "decided_by", "lapse_notified_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecertificationCampaign)
class RecertificationCampaignAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "subject",
        "quarter_start",
        "due_at",
        "confirmed",
        "removed",
        "waiting",
    )
    list_filter = ("quarter_start",)
    list_select_related = ("organisation",)
    search_fields = ("organisation__legal_name", "=organisation__ukprn")
    fields = (
        "organisation",
        "quarter_start",
        "opened_at",
        "due_at",
        "lapse_notified_at",
    )
    readonly_fields = fields
    inlines = (ConfirmationInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecertificationCampaign]:
        def count(status: str) -> Count:
            return Count("confirmations", filter=Q(confirmations__status=status))

        campaigns = RecertificationCampaign.objects.select_related("organisation")
        return campaigns.annotate(
            n_confirmed=count(STATUS.CONFIRMED),
            n_removed=count(STATUS.REMOVED),
            n_waiting=count(STATUS.PENDING),
        )

    @admin.display(description="Organisation", ordering="organisation__legal_name")
    def subject(self, obj: RecertificationCampaign) -> str:
        return obj.subject_name

    @admin.display(description="Confirmed", ordering="n_confirmed")
    def confirmed(self, obj: Any) -> int:
        return int(obj.n_confirmed)

    @admin.display(description="Removed", ordering="n_removed")
    def removed(self, obj: Any) -> int:
        return int(obj.n_removed)

    @admin.display(description="Waiting", ordering="n_waiting")
    def waiting(self, obj: Any) -> int:
        return int(obj.n_waiting)


@admin.register(RecertificationConfirmation)
class DepartmentRecertificationAdmin(ViewOnlyRegistrationAdmin):
    """The department's own quarterly recertification (decision 0029): each
    caseworker, assessor and panel member a superuser must confirm or remove.
    Only a superuser answers, with the actions; no one answers for themselves."""

    list_display = (
        "user",
        "full_name",
        "department_roles",
        "last_signed_in",
        "confirm_by",
        "status",
        "decided_by",
    )
    list_filter = ("status", "campaign__quarter_start")
    search_fields = ("=user__email", "user__full_name")
    actions = ("confirm_selected", "remove_selected")
    fields = ("campaign", "user", "status", "decided_at", "decided_by")
    readonly_fields = fields

    def get_queryset(
        self, request: HttpRequest
    ) -> QuerySet[RecertificationConfirmation]:
        return (
            RecertificationConfirmation.objects.filter(
                campaign__organisation__isnull=True
            )
            .select_related("campaign", "user", "decided_by")
            .prefetch_related("user__groups")
            .order_by("status", "user__email")
        )

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not permissions.can_recertify_department(request.user):  # type: ignore[arg-type]
            return {}
        return actions

    @admin.display(description="Name")
    def full_name(self, obj: RecertificationConfirmation) -> str:
        return obj.user.full_name

    @admin.display(description="Roles")
    def department_roles(self, obj: RecertificationConfirmation) -> str:
        names = sorted(g.name for g in obj.user.groups.all())
        return ", ".join(n for n in names if n in DEPARTMENT_ROLES) or "None"

    @admin.display(description="Last signed in")
    def last_signed_in(self, obj: RecertificationConfirmation) -> str:
        return when(obj.user.last_login) if obj.user.last_login else "Never"

    @admin.display(description="Confirm by")
    def confirm_by(self, obj: RecertificationConfirmation) -> str:
        if obj.status != STATUS.PENDING:
            return "Answered"
        if obj.campaign.due_at <= timezone.now():
            return "Late: cannot use the admin site"
        return when(obj.campaign.due_at)

    def _answer(
        self,
        request: HttpRequest,
        queryset: QuerySet[RecertificationConfirmation],
        answer: Any,
        done: str,
    ) -> None:
        acting_user = request.user
        answered = 0
        for confirmation in queryset.filter(status=STATUS.PENDING):
            try:
                answer(confirmation=confirmation, acting_user=acting_user)
            except (RecertificationRefused, PermissionError) as exc:
                self.message_user(
                    request, f"{confirmation.user}: {exc}", messages.ERROR
                )
            else:
                answered += 1
        if answered:
            self.message_user(request, f"{done} {answered}.", messages.SUCCESS)

    @admin.action(description="Confirm they still need department access")
    def confirm_selected(
        self, request: HttpRequest, queryset: QuerySet[RecertificationConfirmation]
    ) -> None:
        self._answer(request, queryset, recertification_confirm, "Confirmed")

    @admin.action(description="Remove their department access (staff status, roles)")
    def remove_selected(
        self, request: HttpRequest, queryset: QuerySet[RecertificationConfirmation]
    ) -> None:
        self._answer(request, queryset, recertification_remove, "Removed")
