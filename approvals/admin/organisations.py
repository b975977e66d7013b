"""Research organisations and their requesters, affiliations, the risk model
and panel settings, and the nightly job's runs."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from approvals import permissions
from approvals.models import (
    Affiliation,
    ResearchOrganisation,
    RiskAppetiteChange,
    RiskSettings,
)
from approvals.services import (
    requester_add,
    risk_appetite_change,
    votes_set_aside_for_affiliation,
)
from lrs_portal.admin import BaseAdmin, ViewOnlyMixin
from lrs_portal.models import User
from registration.admin.base import (
    TEXT_MAX,
    RegistrationAdmin,
    _user,
)

# --- organisations, affiliations, settings ----------------------------------------


class AddRequesterForm(forms.Form):
    email = forms.EmailField(
        label="Email address of an existing account",
        help_text="They become a requester for this organisation only.",
    )

    def clean_email(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["email"]).first()
        if user is None or not user.is_active:
            raise forms.ValidationError("No active account has this email address")
        return user


@admin.register(ResearchOrganisation)
class ResearchOrganisationAdmin(RegistrationAdmin):
    list_display = ("name", "kind", "ico_number")
    list_filter = ("kind",)
    search_fields = ("name", "=ico_number")

    def change_page_context(
        self, request: HttpRequest, obj: ResearchOrganisation
    ) -> dict[str, Any]:
        if self.has_change_permission(request):
            tool = self.workflow_tool("Add a requester", "add_requester", obj)
            return {"workflow_tools": [tool]}
        return {}

    def get_urls(self) -> list[URLPattern]:
        return [
            self.workflow_path("add_requester", self.add_requester_view),
            *self.default_urls(),
        ]

    def add_requester_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        organisation = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            requester_add(
                user=data["email"],
                organisation=organisation,
                acting_user=_user(request),
            )
            return f"{data['email']} is now a requester for {organisation}."

        return self.workflow(
            request,
            organisation,
            allowed=self.has_change_permission(request),
            form_class=AddRequesterForm,
            title=f"Add a requester: {organisation}",
            submit_label="Add the requester",
            act=act,
        )


@admin.register(Affiliation)
class AffiliationAdmin(BaseAdmin):
    """Whom department staff and panel members work for (the own-organisation
    rule). Requesters are added from their organisation's page."""

    list_display = ("user", "organisation", "created_at")
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)
    search_fields = ("user__email", "organisation__name")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Changing your own employer would dodge the own-organisation rule.
        if obj is not None and obj.user_id == request.user.pk:
            return False
        return bool(super().has_change_permission(request, obj))

    def save_model(
        self, request: HttpRequest, obj: Affiliation, form: Any, change: bool
    ) -> None:
        """A move to another organisation ends the requester's rights at the old;
        a panel member's votes on the new one's open requests are set aside."""
        if change and "organisation" in form.changed_data:
            before = Affiliation.objects.select_related("organisation").get(pk=obj.pk)
            permissions.requester_permissions_revoke(
                user=obj.user, organisation=before.organisation
            )
        super().save_model(request, obj, form, change)
        votes_set_aside_for_affiliation(
            user=obj.user, organisation=obj.organisation, acting_user=_user(request)
        )

    def delete_model(self, request: HttpRequest, obj: Affiliation) -> None:
        permissions.requester_permissions_revoke(
            user=obj.user, organisation=obj.organisation
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for affiliation in queryset.select_related("user", "organisation"):
            permissions.requester_permissions_revoke(
                user=affiliation.user, organisation=affiliation.organisation
            )
        super().delete_queryset(request, queryset)


class RiskAppetiteForm(forms.Form):
    risk_appetite = forms.IntegerField(
        label="New risk appetite", min_value=0, max_value=100
    )
    reason = forms.CharField(
        label="Why it changes",
        max_length=TEXT_MAX,
        error_messages={
            "max_length": f"Why it changes must be {TEXT_MAX:,} characters or fewer"
        },
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Recorded with the change. Requests already assessed keep the "
        "appetite they were assessed under.",
    )


@admin.register(RiskSettings)
class RiskSettingsAdmin(RegistrationAdmin):
    """The risk model and the panel's settings. The appetite changes only as a
    recorded decision of the SIRO (its own page), never in this form."""

    readonly_fields = ("risk_appetite",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RiskSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_page_context(
        self, request: HttpRequest, obj: RiskSettings
    ) -> dict[str, Any]:
        if permissions.can_set_risk_appetite(_user(request)):
            tool = self.workflow_tool("Change the risk appetite", "appetite", obj)
            return {"workflow_tools": [tool]}
        return {}

    def get_urls(self) -> list[URLPattern]:
        return [
            self.workflow_path("appetite", self.appetite_view),
            *self.default_urls(),
        ]

    def appetite_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        settings = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            change = risk_appetite_change(acting_user=_user(request), **data)
            return f"Recorded: {change}."

        return self.workflow(
            request,
            settings,
            allowed=permissions.can_set_risk_appetite(_user(request)),
            form_class=RiskAppetiteForm,
            title="Change the risk appetite",
            submit_label="Record the change",
            intro=(
                f"The risk appetite is {settings.risk_appetite}. A new appetite "
                "applies to assessments recorded from now on."
            ),
            act=act,
        )


@admin.register(RiskAppetiteChange)
class RiskAppetiteChangeAdmin(ViewOnlyMixin, BaseAdmin):
    list_display = ("decided_at", "risk_appetite_before", "risk_appetite", "decided_by")
    list_select_related = ("decided_by",)
