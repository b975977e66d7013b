"""The fields the requester's forms are made of (approvals.forms,
approvals.request_forms): text and radios with plain messages for a missing, too
long or unreadable answer, and the GOV.UK date input.

Every label and message is marked for translation (docs/decisions/0034): those
built when the module loads are lazy, and one that names its field's label is
worked out when it is shown (said_later), in the language of the page."""

from datetime import date
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from lrs_portal.dates import month_number

YES_NO = (("yes", _("Yes")), ("no", _("No")))
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
_DATE_PARTS = ("day", "month", "year")
# Which boxes of a date are empty, as the message says it (never built from
# pieces: Welsh words do not join as the English do).
_MISSING = {
    ("day",): _("%(label)s must include a day"),
    ("month",): _("%(label)s must include a month"),
    ("year",): _("%(label)s must include a year"),
    ("day", "month"): _("%(label)s must include a day and month"),
    ("day", "year"): _("%(label)s must include a day and year"),
    ("month", "year"): _("%(label)s must include a month and year"),
}
_REAL_DATE = _("%(label)s must be a real date")


def said_later(message: StrOrPromise, **params: object) -> StrOrPromise:
    """``message`` with its placeholders filled, worked out when it is shown, so
    in the language of that page (params may be lazy labels)."""

    def text() -> str:
        return str(message) % {name: str(value) for name, value in params.items()}

    return lazy(text, str)()


def _text(
    label: StrOrPromise,
    *,
    required: StrOrPromise | None,
    max_length: int = 5000,
    rows: int = 0,
) -> forms.CharField:
    """A text field with a plain message for a missing, too long or NUL value."""
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required is not None,
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
        error_messages={
            "required": required or "",
            "max_length": said_later(
                _("%(label)s must be %(max)s characters or fewer"),
                label=label,
                max=f"{max_length:,}",
            ),
        },
    )
    field.validators = [
        ProhibitNullCharactersValidator(
            message=said_later(
                _("%(label)s must not include hidden control characters"), label=label
            )
        )
        if isinstance(v, ProhibitNullCharactersValidator)
        else v
        for v in field.validators
    ]
    return field


def _radios(
    label: StrOrPromise,
    choices: Any,
    *,
    required: StrOrPromise,
    help_text: StrOrPromise = "",
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": required, "invalid_choice": required},
    )


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


# --- GOV.UK date input ------------------------------------------------------------


class DateInputWidget(forms.MultiWidget):
    """Day, month and year boxes (templates/approvals/_date_input.html)."""

    def __init__(self) -> None:
        super().__init__({part: forms.TextInput() for part in _DATE_PARTS})

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""


class DateField(forms.MultiValueField):
    """Three boxes that must make a real date."""

    widget = DateInputWidget

    def __init__(
        self, *, label: StrOrPromise, required: StrOrPromise, **kwargs: Any
    ) -> None:
        real = said_later(_REAL_DATE, label=label)
        parts = [
            forms.CharField(
                required=False, max_length=10, error_messages={"max_length": real}
            )
            for _ in _DATE_PARTS
        ]
        self.missing_message = required
        super().__init__(
            parts, label=label, required=False, require_all_fields=False, **kwargs
        )

    def compress(self, data_list: list[str]) -> date | None:
        day, month, year = (p.strip() for p in (data_list or ["", "", ""]))
        month = month_number(month)  # "May", "march", "Sept" (GOV.UK date input)
        label = str(self.label)
        if not (day or month or year):
            raise forms.ValidationError(self.missing_message, code="required")
        missing = [
            n for n, v in zip(_DATE_PARTS, (day, month, year), strict=True) if not v
        ]
        if missing:
            raise forms.ValidationError(
                str(_MISSING[tuple(missing)]) % {"label": label}
            )
        if not all(v.isascii() and v.isdigit() for v in (day, month, year)):
            raise forms.ValidationError(str(_REAL_DATE) % {"label": label})
        if len(year) != 4:
            raise forms.ValidationError(_("Year must include 4 numbers"))
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(str(_REAL_DATE) % {"label": label}) from None
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(
                gettext("%(label)s must be between %(earliest)s and %(latest)s")
                % {"label": label, "earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
            )
        return value


def years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February, in a year that is not a leap year
        return start.replace(year=start.year + years, day=28)
