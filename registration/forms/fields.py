"""The GOV.UK fields every provider form is made of: text, email and password
boxes with plain messages for a missing, too long or NUL value, and whole numbers
typed with or without commas."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from lrs_portal.models import User
from lrs_portal.passwords import password_error

PURPOSE_MAX_LENGTH = 5000
LEARNERS_MAX = 1_000_000
ACCOUNTS_MAX_BYTES = 10 * 1024 * 1024
PASSWORD_MAX_LENGTH = 256
HINT_FOR_PASSWORDS = _(
    "Your password must be at least 12 characters long, not entirely numbers, not "
    "a commonly used password and not too similar to your name or email address."
)
EMAIL_INVALID = _("Enter an email address in the correct format, like name@example.com")


def text_field(
    label: StrOrPromise,
    *,
    max_length: int,
    required: StrOrPromise | None = None,
    textarea: bool = False,
    **kwargs: Any,
) -> forms.CharField:
    """A GOV.UK text field: a plain message for a missing, too long or NUL value."""
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required is not None,
        widget=forms.Textarea(attrs={"rows": 4}) if textarea else forms.TextInput,
        error_messages={
            "required": required or "",
            "max_length": format_lazy(
                _("{label} must be {max_length} characters or fewer"),
                label=label,
                max_length=f"{max_length:,}",
            ),
        },
        **kwargs,
    )
    field.validators = [
        ProhibitNullCharactersValidator(
            message=format_lazy(
                _("{label} must not include hidden control characters"), label=label
            )
        )
        if isinstance(v, ProhibitNullCharactersValidator)
        else v
        for v in field.validators
    ]
    return field


def email_field(label: StrOrPromise, *, required: StrOrPromise) -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=254,
        error_messages={
            "required": required,
            "invalid": EMAIL_INVALID,
            "max_length": format_lazy(
                _("{label} must be {max_length} characters or fewer"),
                label=label,
                max_length="254",
            ),
        },
    )


PASSWORD_LABEL = _("Password")


def password_field(label: StrOrPromise = PASSWORD_LABEL) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=HINT_FOR_PASSWORDS,
        error_messages={
            "required": _("Enter a password"),
            "max_length": format_lazy(
                _("Password must be {max_length} characters or fewer"),
                max_length=PASSWORD_MAX_LENGTH,
            ),
        },
    )


def check_password(form: forms.Form, field: str, user: User) -> None:
    """One GOV.UK-worded error for the box, not one per rule in Django's words."""
    password = form.cleaned_data.get(field)
    if password:
        error = password_error(password, user=user)
        if error is not None:
            form.add_error(field, error)


class WholeNumberField(forms.IntegerField):
    """A whole number typed with or without commas ("1,500"), digits 0 to 9 only."""

    def to_python(self, value: Any) -> int | None:
        text = re.sub(r"[,\s]", "", str(value or ""))
        if not text:
            return None
        if not re.fullmatch(r"[0-9]{1,12}", text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)
