"""Each quarter's recertification campaigns, per organisation, for caseworkers:
read-only, with history (decision 0029). Super users give the answers."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from registration.admin.base import ViewOnlyRegistrationAdmin
from registration.models import RecertificationCampaign, RecertificationConfirmation

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
        "organisation",
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

    @admin.display(description="Confirmed", ordering="n_confirmed")
    def confirmed(self, obj: Any) -> int:
        return int(obj.n_confirmed)

    @admin.display(description="Removed", ordering="n_removed")
    def removed(self, obj: Any) -> int:
        return int(obj.n_removed)

    @admin.display(description="Waiting", ordering="n_waiting")
    def waiting(self, obj: Any) -> int:
        return int(obj.n_waiting)
