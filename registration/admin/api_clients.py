"""API clients in the caseworkers' admin: every client, read-only, revoked by a
workflow page with a reason, and a link to its calls in the learner view log.

django-oauth-toolkit's own admin pages (applications, tokens, grants) are taken
away: a client is seen and revoked here, and tokens are not casework.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.html import format_html

from registration import permissions
from registration.admin.base import ReadOnlyFormMixin, RegistrationAdmin, _user
from registration.admin.forms import ReasonForm
from registration.models import ApiClient
from registration.services.api_clients import ApiClientRefused, api_client_revoke

for _model in [
    m for m in admin.site._registry if m._meta.app_label == "oauth2_provider"
]:
    admin.site.unregister(_model)


class ApiClientStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return ApiClient.Status.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        today = timezone.now().date()
        value = self.value()
        if value == ApiClient.Status.ACTIVE:
            return queryset.filter(revoked_at__isnull=True, expires_on__gte=today)
        if value == ApiClient.Status.EXPIRED:
            return queryset.filter(revoked_at__isnull=True, expires_on__lt=today)
        if value == ApiClient.Status.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyFormMixin, RegistrationAdmin):
    list_display = (
        "name",
        "organisation",
        "member",
        "created_at",
        "last_used_at",
        "ip_ranges_shown",
        "expires_on",
        "status_shown",
        "calls",
    )
    list_filter = (ApiClientStatusFilter,)
    list_select_related = ("organisation", "member", "application")
    raw_id_fields = ("organisation", "member", "created_by", "revoked_by")
    search_fields = ("name", "=organisation__ukprn", "=member__email")
    search_help_text = "Part of the name, or an exact UKPRN or member's email address"
    ordering = ("-created_at",)
    fields = (
        "name",
        "organisation",
        "member",
        "client_id_shown",
        "status_shown",
        "allowed_ip_ranges",
        "expires_on",
        "created_at",
        "created_by",
        "last_used_at",
        "secret_rotated_at",
        "previous_secret_until",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
        "calls",
    )
    readonly_fields = fields

    @admin.display(description="client ID")
    def client_id_shown(self, obj: ApiClient) -> str:
        return obj.client_id

    @admin.display(description="IP ranges")
    def ip_ranges_shown(self, obj: ApiClient) -> str:
        return ", ".join(obj.ip_ranges) or "Any address"

    @admin.display(description="status")
    def status_shown(self, obj: ApiClient) -> str:
        return obj.get_status_display()

    @admin.display(description="calls")
    def calls(self, obj: ApiClient) -> str:
        query = urlencode({"api_client": obj.client_id})
        return format_html(
            '<a href="{}?{}">Its calls in the log</a>',
            reverse("admin:records_learnerview_changelist"),
            query,
        )

    def change_page_context(
        self, request: HttpRequest, obj: ApiClient
    ) -> dict[str, Any]:
        tools = []
        if obj.revoked_at is None and permissions.can_revoke_api_client(_user(request)):
            tools.append(self.workflow_tool("Revoke", "revoke", obj))
        return {"workflow_tools": tools}

    def get_urls(self) -> list[URLPattern]:
        return [self.workflow_path("revoke", self.revoke_view), *self.default_urls()]

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        client = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            try:
                api_client_revoke(
                    api_client=client, acting_user=_user(request), reason=data["reason"]
                )
            except ApiClientRefused as exc:
                return str(exc)
            return f"Revoked {client.name}: its tokens are refused from their next use."

        return self.workflow(
            request,
            client,
            allowed=permissions.can_revoke_api_client(_user(request))
            and client.revoked_at is None,
            form_class=ReasonForm,
            title=f"Revoke API client: {client}",
            submit_label="Revoke",
            intro=(
                f"{client.organisation.legal_name}'s system stops getting answers "
                "with this client from its next call, and cannot get new tokens. "
                "The organisation's super user can create another."
            ),
            act=act,
        )
