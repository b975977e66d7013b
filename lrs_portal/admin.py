"""Base admin classes every app's admin inherits, and the User admin."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.admin import GuardedModelAdmin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from lrs_portal.forms import (
    PASSWORD_MAX,
    SafeModelChoiceField,
    SafeModelMultipleChoiceField,
    id_out_of_range,
)
from lrs_portal.models import ChangeTrail, JobRun, Notification, ServiceAlert, User


def _key_or_404(model: Any, value: str) -> None:
    """An address's id that the key cannot hold is not found (simple-history's
    pages would pass it to the database: a server error, issue 16)."""
    try:
        model._meta.pk.to_python(unquote(value))
    except (ValidationError, ValueError):
        raise Http404 from None


@dataclass(frozen=True)
class Panel:
    """A section another app adds to a model's change page (as records adds the
    purpose profile to an organisation's, which registration cannot import):
    a template and what it reads."""

    template: str
    context: dict[str, Any]


PanelSource = Callable[[Any], "Panel | None"]
_PANELS: dict[type, list[PanelSource]] = {}


def admin_panel_register(model: type, source: PanelSource) -> None:
    """Show source's panel (None: nothing) on every change page of model."""
    if source not in _PANELS.setdefault(model, []):
        _PANELS[model].append(source)


class BaseAdmin(SimpleHistoryAdmin, GuardedModelAdmin):  # type: ignore[misc]
    """History ("History" button) and object permissions ("Object permissions").

    - simple-history's "Revert" would save a whole old row (a status or a staff
      flag too), so history is view-only;
    - guardian lets anyone with the model's change permission grant object
      permissions (a caseworker could give themselves a provider's rights), so
      only a superuser manages them.
    """

    change_form_template = "admin/portal/change_form.html"  # type: ignore[misc]

    # Every admin's row choices refuse an id no key can hold (a form error, not
    # a server error), whatever widget shows them.
    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("form_class", SafeModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("form_class", SafeModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def change_page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        """What an existing object's change page shows besides its form (workflow
        tools, a timeline, a chart); nothing by default."""
        return {}

    def change_page_panels(self, request: HttpRequest, obj: Any) -> list[Panel]:
        """The panels other apps registered for this model's change page."""
        return [
            panel for source in _PANELS.get(type(obj), []) if (panel := source(obj))
        ]

    # The object Django already read for the page: no second read, and no
    # change_view override in every admin.
    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if change and obj is not None:
            context.update(self.change_page_context(request, obj))
            context["panels"] = self.change_page_panels(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        _key_or_404(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: Any = None,
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        _key_or_404(self.model, object_id)
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        _key_or_404(history.model, version_id)
        return cast(
            HttpResponse,
            super().history_form_view(request, object_id, version_id, extra_context),
        )

    def _superuser_only(self, request: HttpRequest) -> None:
        if not request.user.is_superuser:
            raise PermissionDenied

    def obj_perms_manage_view(self, request: HttpRequest, object_pk: str) -> Any:
        self._superuser_only(request)
        _key_or_404(self.model, object_pk)
        view = super().obj_perms_manage_view
        return view(request, object_pk)  # type: ignore[no-untyped-call]

    def obj_perms_manage_user_view(
        self, request: HttpRequest, object_pk: str, user_id: str
    ) -> Any:
        self._superuser_only(request)
        _key_or_404(self.model, object_pk)
        _key_or_404(User, user_id)
        view = super().obj_perms_manage_user_view
        return view(request, object_pk, user_id)  # type: ignore[no-untyped-call]

    def obj_perms_manage_group_view(
        self, request: HttpRequest, object_pk: str, group_id: str
    ) -> Any:
        self._superuser_only(request)
        _key_or_404(self.model, object_pk)
        _key_or_404(Group, group_id)
        view = super().obj_perms_manage_group_view
        return view(request, object_pk, group_id)  # type: ignore[no-untyped-call]


class BaseImportExportAdmin(ImportExportModelAdmin, BaseAdmin):  # type: ignore[misc]
    """BaseAdmin with CSV/XLSX import and export on the changelist."""


class ViewOnlyMixin:
    """Reference and log tables: visible in admin, changed only by code."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class PortalUserCreationForm(UserCreationForm):  # type: ignore[type-arg]
    # Django's password boxes have no limit; no column holds them, but hashing a
    # megabyte is work one request should not ask for.
    password1 = forms.CharField(
        label="Password",
        strip=False,
        max_length=PASSWORD_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password confirmation",
        strip=False,
        max_length=PASSWORD_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ("email", "full_name")


class PortalUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin, BaseAdmin):  # type: ignore[type-arg]
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups",)

    # Only a superuser may grant staff, superuser or role membership; otherwise a
    # caseworker with change_user could promote themselves.
    PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        # Department staff accounts are changed by superusers only: a caseworker
        # must not reset an admin's password, email or active flag.
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return bool(super().has_change_permission(request, obj))

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        target = self.get_object(request, id)
        if target is not None and not self.has_change_permission(request, target):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + self.PRIVILEGE_FIELDS


@admin.register(Notification)
class NotificationAdmin(ViewOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    list_display = (
        "reference",
        "channel",
        "to",
        "status",
        "delivery",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "delivery", "channel", "kind")
    # A queued letter's one-time code is not for anyone's eyes (it is removed once
    # the letter is posted).
    exclude = ("personalisation",)
    search_fields = ("=to", "reference", "=provider_reference")
    date_hierarchy = "created_at"
    readonly_fields = (
        "channel",
        "to",
        "postal_address",
        "provider_reference",
        "subject",
        "body",
        "reference",
        "kind",
        "status",
        "attempts",
        "claimed_at",
        "created_at",
        "sent_at",
        "delivery",
        "delivery_completed_at",
    )


@admin.register(JobRun)
class JobRunAdmin(ViewOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    """What each run of a scheduled job did: read-only, newest first."""

    list_display = ("job", "started_at", "finished_at", "outcome", "days", "totals")
    list_filter = ("job", "outcome")
    date_hierarchy = "started_at"
    list_per_page = 50
    readonly_fields = (
        "job",
        "started_at",
        "finished_at",
        "outcome",
        "heartbeat_at",
        "first_day",
        "last_day",
        "counts",
        "error",
    )

    @admin.display(description="Days")
    def days(self, run: JobRun) -> str:
        if run.first_day is None:
            return "-"
        if run.last_day is None or run.last_day == run.first_day:
            return f"{run.first_day:%Y-%m-%d}"
        return f"{run.first_day:%Y-%m-%d} to {run.last_day:%Y-%m-%d}"

    @admin.display(description="Counts")
    def totals(self, run: JobRun) -> str:
        counts = run.counts if isinstance(run.counts, dict) else {}
        return ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))


@admin.register(ServiceAlert)
class ServiceAlertAdmin(ViewOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    """Changes made outside the portal, nightly jobs not done in time and emails
    to directors or super users that Notify could not deliver."""

    list_display = ("raised_at", "kind", "summary")
    list_filter = ("kind",)
    date_hierarchy = "raised_at"
    list_per_page = 50
    readonly_fields = ("kind", "key", "summary", "change", "notification", "raised_at")


@admin.register(ChangeTrail)
class ChangeTrailAdmin(ViewOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    """What the database's triggers recorded of each change to the tables that
    decide access (lrs_portal.pg): append-only, whoever made the change."""

    list_display = ("changed_at", "table_name", "operation", "row_id", "db_user")
    list_filter = ("table_name", "operation", "db_user")
    search_fields = ("=row_id",)
    date_hierarchy = "changed_at"
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "changed_at",
        "db_user",
        "login_user",
        "table_name",
        "operation",
        "row_id",
        "old_values",
        "new_values",
        "transaction_id",
    )


# django-otp's TOTP device admin reads a device for its QR code pages with
# objects.get(pk=...): an id with no device was a server error (found by the
# hostile walk). The same admin, with those pages answering 404.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(OtpTOTPDeviceAdmin):  # type: ignore[misc]
    def config_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        _device_or_404(pk)
        return super().config_view(request, pk)  # type: ignore[no-any-return]

    def qrcode_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        _device_or_404(pk)
        return super().qrcode_view(request, pk)  # type: ignore[no-any-return]


def _device_or_404(pk: Any) -> None:
    if id_out_of_range(pk) or not TOTPDevice.objects.filter(pk=pk).exists():
        raise Http404
