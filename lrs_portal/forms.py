"""Sign-in forms with GOV.UK error wording (two_factor's wizard steps)."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest
from two_factor.forms import AuthenticationTokenForm, BackupTokenForm

_TOKEN_ERRORS = {
    "token_required": "Enter the code",
    "invalid_token": "The code is not correct. Check it and try again",
    "n_failed_attempts": (
        "You entered a wrong code too many times. Wait a minute and try again"
    ),
    "verification_not_allowed": (
        "You entered a wrong code too many times. Wait a minute and try again"
    ),
}


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct email address and password",
        "inactive": "This account cannot be used. Contact your LRS administrator",
    }

    # two_factor passes `request` only to forms whose signature names it.
    def __init__(
        self, request: HttpRequest | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].error_messages["required"] = "Enter your email address"
        self.fields["password"].error_messages["required"] = "Enter your password"


class SignInCodeForm(AuthenticationTokenForm):  # type: ignore[misc]
    otp_error_messages = {**AuthenticationTokenForm.otp_error_messages, **_TOKEN_ERRORS}
    otp_token = forms.RegexField(
        label="Code",
        regex=r"^\s*[0-9]{6}\s*$",
        strip=True,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app",
            "invalid": "Enter the code as 6 digits, like 123456",
        },
    )


class SignInBackupCodeForm(BackupTokenForm):  # type: ignore[misc]
    otp_error_messages = {
        **BackupTokenForm.otp_error_messages,
        **_TOKEN_ERRORS,
        "token_required": "Enter one of your backup codes",
        "invalid_token": "That backup code is not correct or has been used",
    }
    otp_token = forms.CharField(
        label="Backup code",
        max_length=16,
        error_messages={"required": "Enter one of your backup codes"},
    )
