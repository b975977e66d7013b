"""Guidance and reference data (read-only registers, links, signatures)."""

import json
from typing import Any

from django.contrib import admin
from django.http import (
    HttpRequest,
)
from django.utils.html import format_html
from django.utils.safestring import SafeString
from guardian.admin import GuardedModelAdmin

from lrs_portal.admin import ViewOnlyMixin
from registration.admin.base import (
    CappedCountPaginator,
    RegistrationAdmin,
    ViewOnlyRegistrationAdmin,
)
from registration.models import (
    AgreementSignature,
    CheckGuidance,
    CompaniesHouseSnapshot,
    IcoRegistration,
    Invitation,
    Membership,
    SigningRequest,
)

# --- guidance and reference data ---------------------------------------------------


@admin.register(CheckGuidance)
class CheckGuidanceAdmin(RegistrationAdmin):
    list_display = ("kind", "text")
    search_fields = ("text",)
    fields = ("kind", "text")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        return ("kind",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _pretty_json(data: object) -> SafeString:
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


@admin.register(CompaniesHouseSnapshot)
class CompaniesHouseSnapshotAdmin(ViewOnlyMixin, GuardedModelAdmin):
    change_form_template = "admin/change_form.html"  # type: ignore[misc]
    list_display = ("company_number", "kind", "found", "source", "fetched_at")
    list_filter = ("kind", "found")
    search_fields = ("=company_number",)
    search_help_text = "Exact Companies House number"
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ("company_number", "kind", "found", "source", "fetched_at", "data_json")
    readonly_fields = fields

    @admin.display(description="Data")
    def data_json(self, snapshot: CompaniesHouseSnapshot) -> SafeString:
        return _pretty_json(snapshot.data)


@admin.register(IcoRegistration)
class IcoRegistrationAdmin(ViewOnlyMixin, GuardedModelAdmin):
    change_form_template = "admin/change_form.html"  # type: ignore[misc]
    list_display = (
        "registration_number",
        "organisation_name",
        "postcode",
        "start_date",
        "end_date",
    )
    search_fields = ("=registration_number",)
    search_help_text = "Exact ICO registration number"
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(Membership)
class MembershipAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "user",
        "organisation",
        "is_super_user",
        "created_at",
        "terms_accepted_at",
    )
    list_filter = ("is_super_user",)
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user", "organisation")
    search_fields = ("=user__email", "organisation__legal_name", "=organisation__ukprn")


@admin.register(Invitation)
class InvitationAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "email",
        "full_name",
        "organisation",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "cancelled_at",
    )
    list_select_related = ("organisation", "invited_by")
    raw_id_fields = ("organisation", "invited_by")
    search_fields = ("=email", "organisation__legal_name")
    # Never the token hash: with it, a stolen database could be matched to links.
    fields = (
        "organisation",
        "email",
        "full_name",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "cancelled_at",
    )
    readonly_fields = fields


@admin.register(SigningRequest)
class SigningRequestAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "director_name",
        "email",
        "application",
        "organisation",
        "agreement_version",
        "created_at",
        "expires_at",
        "used_at",
        "cancelled_at",
    )
    list_select_related = ("application", "organisation", "agreement_version")
    raw_id_fields = ("application", "organisation", "agreement_version")
    search_fields = ("=email", "=application__reference", "organisation__legal_name")
    fields = (
        "application",
        "organisation",
        "agreement_version",
        "director_name",
        "director_appointment",
        "email",
        "created_at",
        "expires_at",
        "used_at",
        "cancelled_at",
    )
    readonly_fields = fields


@admin.register(AgreementSignature)
class AgreementSignatureAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "director_name_at_companies_house",
        "typed_name",
        "agreement_version",
        "organisation",
        "application",
        "signed_at",
    )
    list_filter = ("agreement_version",)
    list_select_related = ("agreement_version", "organisation", "application")
    raw_id_fields = (
        "signing_request",
        "agreement_version",
        "application",
        "organisation",
    )
    search_fields = (
        "=application__reference",
        "organisation__legal_name",
        "=organisation__ukprn",
    )
    fields = (
        "agreement_version",
        "text_hash",
        "application",
        "organisation",
        "director_name_at_companies_house",
        "typed_name",
        "signed_at",
        "ip_address",
        "user_agent",
        "signing_request",
    )
    readonly_fields = fields
