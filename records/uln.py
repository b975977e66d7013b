"""The Unique Learner Number (domain.md 1.1)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

TEMPORARY_ULN = "9999999999"
_WEIGHTS = range(10, 0, -1)


def uln_problem(value: str | None) -> str | None:
    """Why a string is not a real learner's ULN, in words; None when it is one.

    In English always (the web service, the admin and the loaders show it as
    it is); a page shows it in its own language with gettext(problem)
    (records.forms.UlnSearchForm), the words being marked here."""
    uln = (value or "").strip()
    if not uln:
        return gettext_noop("Enter a ULN")
    if len(uln) != 10 or not uln.isascii() or not uln.isdigit():
        return gettext_noop("A ULN is 10 digits, like 9276308686")
    if uln == TEMPORARY_ULN:
        return gettext_noop(
            "9999999999 is the temporary ULN, not a learner's own number"
        )
    if uln[0] == "0":
        return gettext_noop("A ULN cannot start with 0")
    if sum(int(d) * w for d, w in zip(uln, _WEIGHTS, strict=True)) % 11 != 10:
        return gettext_noop("This ULN is not valid: check for a mistyped digit")
    return None


def validate_uln(value: str | None) -> None:
    problem = uln_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_uln")


def uln_check_digit(stem: str) -> int | None:
    """The check digit that completes a 9-digit stem, or None if none can."""
    remainder = (
        sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True)) % 11
    )
    return None if remainder == 0 else 10 - remainder
