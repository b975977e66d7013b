"""Whose signature it is: letter codes, and caseworkers' exceptions for a director's
address off the organisation's domain (decision 0014)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from registration.admin.base import (
    RegistrationAdmin,
    ViewOnlyRegistrationAdmin,
    _user,
)
from registration.admin.forms import TEXT_MAX
from registration.models import DirectorEmailException, SigningCode
from registration.services.signing import director_email_exception_record


@admin.register(SigningCode)
class SigningCodeAdmin(ViewOnlyRegistrationAdmin):
    list_display = (
        "signing_request",
        "postcode",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    )
    list_select_related = ("signing_request",)
    raw_id_fields = ("signing_request", "letter")
    search_fields = ("=signing_request__email", "=postcode")
    fields = (
        "signing_request",
        "letter",
        "postcode",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    )
    readonly_fields = fields


class DirectorEmailExceptionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DirectorEmailException
        fields = ("organisation", "application", "email", "spoke_to", "reason")

    reason = forms.CharField(
        label="Reason",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        error_messages={
            "max_length": f"The reason must be {TEXT_MAX:,} characters or fewer"
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("organisation")) == bool(data.get("application")):
            raise ValidationError(
                "Choose either the organisation or the application, not both"
            )
        if not str(data.get("reason", "")).strip():
            self.add_error(
                "reason", "Say why the director has no address on the domain"
            )
        return data


@admin.register(DirectorEmailException)
class DirectorEmailExceptionAdmin(RegistrationAdmin):
    """Added once, after speaking to the company; never edited (a new one instead)."""

    form = DirectorEmailExceptionForm
    list_display = (
        "email",
        "organisation",
        "application",
        "recorded_by",
        "recorded_at",
    )
    list_select_related = ("organisation", "application", "recorded_by")
    raw_id_fields = ("organisation", "application")
    search_fields = ("=email", "organisation__legal_name", "=application__reference")
    readonly_fields = ("recorded_by", "recorded_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        if obj is None:
            return self.readonly_fields
        return (*DirectorEmailExceptionForm.Meta.fields, *self.readonly_fields)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: DirectorEmailException, form: Any, change: bool
    ) -> None:
        director_email_exception_record(exception=obj, acting_user=_user(request))
