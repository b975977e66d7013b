"""Sign-in forms with GOV.UK error wording (two_factor's wizard steps)."""

import math
from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib.auth import user_login_failed
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from two_factor.forms import AuthenticationTokenForm, BackupTokenForm

from lrs_portal.passwords import password_error


def wait_words(until: datetime) -> str:
    """How long until ``until``, rounded up: "1 second", "4 seconds", "2 minutes"."""
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    if seconds < 60:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {
            "count": seconds
        }
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {
        "count": minutes
    }


class _WaitMessage:
    """django-otp's n_failed_attempts message. After wrong codes it refuses even
    a right one for a while (1, 2, 4, 8... seconds); the lockout stays, and this
    says how long it lasts. django_otp formats the message with ``% extra``,
    where extra holds the device's locked_until."""

    def __mod__(self, extra: Any) -> str:
        until = extra.get("locked_until") if isinstance(extra, dict) else None
        wait = wait_words(until) if isinstance(until, datetime) else _("a minute")
        return _(
            "You entered a wrong code too many times. Wait %(wait)s, then enter "
            "the code again"
        ) % {"wait": wait}


_TOKEN_ERRORS = {
    "token_required": gettext_lazy("Enter the code"),
    "invalid_token": gettext_lazy("The code is not correct. Check it and try again"),
    "n_failed_attempts": _WaitMessage(),
    "verification_not_allowed": gettext_lazy(
        "You entered a wrong code too many times. Wait a minute and try again"
    ),
}


# No column holds the typed password; this bounds the hashing work one request
# can ask for.
PASSWORD_MAX = 1024


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": gettext_lazy("Enter a correct email address and password"),
        "inactive": gettext_lazy(
            "This account cannot be used. Contact your LRS administrator"
        ),
    }

    # two_factor passes `request` only to forms whose signature names it.
    def __init__(
        self, request: HttpRequest | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(request, *args, **kwargs)
        username = cast(forms.CharField, self.fields["username"])
        username.label = _("Email address")
        # Django sets max_length after building the field, so nothing checks it.
        username.validators.append(
            MaxLengthValidator(
                username.max_length,
                message=_("Email address must be %(max)s characters or fewer")
                % {"max": username.max_length},
            )
        )
        self.fields["username"].error_messages["required"] = _(
            "Enter your email address"
        )
        password = cast(forms.CharField, self.fields["password"])
        password.label = _("Password")
        password.error_messages["required"] = _("Enter your password")
        password.max_length = PASSWORD_MAX
        password.validators.append(
            MaxLengthValidator(
                PASSWORD_MAX, message=_("Enter a correct email address and password")
            )
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self._refused_before_authenticating():
            # Django authenticates (and axes counts the failure) only when both
            # fields are valid; a refused one must still count towards the lockout.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.data.get(self.add_prefix("username"))},
                request=self.request,
            )
        return cleaned

    def _refused_before_authenticating(self) -> bool:
        typed = all(self.data.get(self.add_prefix(f)) for f in ("username", "password"))
        return typed and bool({"username", "password"} & set(self.errors))


class SignInCodeForm(AuthenticationTokenForm):  # type: ignore[misc]
    otp_error_messages = {**AuthenticationTokenForm.otp_error_messages, **_TOKEN_ERRORS}
    otp_token = forms.RegexField(
        label=gettext_lazy("Code"),
        regex=r"^\s*[0-9]{6}\s*$",
        strip=True,
        max_length=32,
        error_messages={
            "required": gettext_lazy(
                "Enter the 6-digit code from your authenticator app"
            ),
            "invalid": gettext_lazy("Enter the code as 6 digits, like 123456"),
        },
    )


class SignInBackupCodeForm(BackupTokenForm):  # type: ignore[misc]
    otp_error_messages = {
        **BackupTokenForm.otp_error_messages,
        **_TOKEN_ERRORS,
        "token_required": gettext_lazy("Enter one of your backup codes"),
        "invalid_token": gettext_lazy(
            "That backup code is not correct or has been used"
        ),
    }
    otp_token = forms.CharField(
        label=gettext_lazy("Backup code"),
        max_length=16,
        error_messages={"required": gettext_lazy("Enter one of your backup codes")},
    )


# --- choices of rows by id, safe against ids no key can hold ---------------------

_BIGINT = range(-(2**63), 2**63)


def id_out_of_range(value: Any) -> bool:
    text = str(value).strip()
    return text.lstrip("-").isdigit() and int(text) not in _BIGINT


class SafeModelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A ModelChoiceField that refuses an id no database key can hold as an
    invalid choice (Django would pass it to the database: a server error)."""

    def to_python(self, value: Any) -> Any:
        if id_out_of_range(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """The same for several ids (Django's IN lookup does not check the range)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if id_out_of_range(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]


# --- a new password, after a reset link ----------------------------------------


_TOO_LONG = format_lazy(
    gettext_lazy("Password must be {max} characters or fewer"), max=f"{PASSWORD_MAX:,}"
)


class NewPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """Django's SetPasswordForm in GOV.UK words: one error a box, each on the box
    it is about (Django puts a weak password's errors on the confirmation)."""

    error_messages = {
        "password_mismatch": gettext_lazy(
            "The passwords do not match. Enter the same password in both boxes"
        ),
    }

    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        max_length=PASSWORD_MAX,  # bounds the hashing work
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={
            "required": gettext_lazy("Enter a new password"),
            "max_length": _TOO_LONG,
        },
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("Confirm new password"),
        strip=False,
        max_length=PASSWORD_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={
            "required": gettext_lazy("Enter the new password again"),
            "max_length": _TOO_LONG,
        },
    )

    def validate_password_for_user(
        self,
        user: Any,
        password_field_name: str = "new_password2",  # noqa: S107 (a field name)
    ) -> None:
        password = self.cleaned_data.get("new_password1")
        if password and "new_password1" not in self.errors:
            error = password_error(password, user=user, label=_("New password"))
            if error is not None:
                self.add_error("new_password1", error)
