"""Password rules in GOV.UK words: one message a box, saying what to do.

Django's validators (AUTH_PASSWORD_VALIDATORS) decide; this module words the
first rule a password breaks, instead of listing each in Django's own words
(the error summary then holds one line for the box, as GOV.UK asks).
"""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Each validator's error code, in GOV.UK words ({label}: the box's label).
_WORDS = {
    "password_too_short": gettext_lazy(
        "{label} must be {min_length} characters or more"
    ),
    "password_too_common": gettext_lazy(
        "{label} is too easy to guess: it is a commonly used password. Choose a "
        "different one"
    ),
    "password_entirely_numeric": gettext_lazy(
        "{label} must include letters, not only numbers"
    ),
    "password_too_similar": gettext_lazy(
        "{label} must not be too similar to your name or email address"
    ),
}


def password_error(
    password: str, *, user: Any, label: str | None = None
) -> ValidationError | None:
    """The first rule ``password`` breaks, in GOV.UK words, or None (``label``:
    the box's label, "Password" in the page's language when not given)."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        first = exc.error_list[0]
        params = {"label": label or _("Password"), **(first.params or {})}
        words = _WORDS.get(first.code or "")
        message = words.format(**params) if words else first.messages[0]
        return ValidationError(message, code=first.code)
    return None
