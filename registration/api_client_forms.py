"""The super user's forms for API clients (registration/views/api_clients.py)."""

import calendar
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from lrs_portal.forms import SafeModelChoiceField
from lrs_portal.models import User
from registration.api_clients import MAX_GRACE_DAYS, ip_ranges_parse, latest_expiry
from registration.forms.fields import text_field

# How long a new client lasts: a choice of periods, each at most 12 months.
EXPIRY_MONTHS = (("1", 1), ("3", 3), ("6", 6), ("12", 12))
RANGES_MAX_LENGTH = 2000


def months_ahead(months: int, today: date | None = None) -> date:
    """The same day ``months`` on (the month's last day where it has no such day),
    never later than the latest expiry allowed."""
    today = today or timezone.now().date()
    year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    ahead = date(year, month + 1, min(today.day, last_day))
    return min(ahead, latest_expiry(today))


class MemberChoiceField(SafeModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else str(obj.email)


class ApiClientCreateForm(forms.Form):
    name = text_field(
        _("Name"),
        max_length=100,
        required=_("Enter a name for the API client"),
        help_text=_(
            "What it is for, for example the name of your student records system"
        ),
    )
    member = MemberChoiceField(
        queryset=User.objects.none(),
        label=_("Member responsible"),
        help_text=_(
            "Every search made with the client is logged as theirs, and is "
            "refused whenever their own access is"
        ),
        empty_label=_("Choose a member"),
        error_messages={
            "required": _("Choose the member responsible for the API client"),
            "invalid_choice": _("Choose one of your organisation's members"),
        },
    )
    allowed_ip_ranges = text_field(
        _("IP addresses it may be used from (optional)"),
        max_length=RANGES_MAX_LENGTH,
        textarea=True,
        help_text=_(
            "One address or range a line, like 203.0.113.0/24. Leave empty "
            "to allow any address"
        ),
    )
    expires_in = forms.ChoiceField(
        label=_("How long should it last?"),
        choices=(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how long the API client should last"),
            "invalid_choice": _("Choose how long the API client should last"),
        },
    )

    def __init__(self, *args: Any, members: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member_field = self.fields["member"]
        assert isinstance(member_field, MemberChoiceField)  # noqa: S101
        member_field.queryset = members
        expires_field = self.fields["expires_in"]
        assert isinstance(expires_field, forms.ChoiceField)  # noqa: S101
        expires_field.choices = [
            (key, _expiry_label(months)) for key, months in EXPIRY_MONTHS
        ]

    def clean_allowed_ip_ranges(self) -> str:
        text = str(self.cleaned_data.get("allowed_ip_ranges", ""))
        try:
            return "\n".join(ip_ranges_parse(text))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc

    @property
    def expires_on(self) -> date:
        return months_ahead(dict(EXPIRY_MONTHS)[self.cleaned_data["expires_in"]])


def _expiry_label(months: int) -> str:
    until = formats.date_format(months_ahead(months), "d F Y")
    return ngettext(
        "%(months)s month, until %(until)s",
        "%(months)s months, until %(until)s",
        months,
    ) % {"months": months, "until": until}


def _grace_label(days: int) -> str:
    if days == 0:
        return gettext("No time: the old secret stops working now")
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


def _grace_choices() -> list[tuple[str, str]]:
    """In the language of the page, so made for each form, not once at import."""
    return [(str(d), _grace_label(d)) for d in range(MAX_GRACE_DAYS + 1)]


class ApiClientRotateForm(forms.Form):
    grace_days = forms.TypedChoiceField(
        label=_("How long should the old secret keep working?"),
        help_text=_(
            "Time to put the new secret into your systems. If the old secret "
            "may have been seen by someone else, stop it now"
        ),
        choices=_grace_choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how long the old secret should keep working"),
            "invalid_choice": _("Choose how long the old secret should keep working"),
        },
    )


class ApiClientRevokeForm(forms.Form):
    reason = text_field(
        _("Why are you revoking it?"),
        max_length=500,
        required=_("Enter why you are revoking the API client"),
        textarea=True,
    )
