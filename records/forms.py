"""The lookup forms and the log download's date range. Forms only validate: a
bad ULN, name, date or postcode is refused here, before any search or log row.

The messages are in the language of the request (docs/decisions/0034): Welsh on
a page asked for in Welsh; English in the web service, whose requests are
always English (lrs_portal.middleware.LocaleMiddleware), and in a batch file's
line errors (records.batch_files reads them in English)."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from lrs_portal.dates import month_number
from records.models import Learner
from records.uln import uln_problem

NAME_MAX = 35
EARLIEST_BIRTH = date(1900, 1, 1)
LOG_DAYS = 90
EARLIEST_LOG = date(2000, 1, 1)
# A letter, then letters, spaces, hyphens, apostrophes and full stops. Each
# character matches one branch only, so matching stays linear.
_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '.-])*")
# Lenient on purpose (GOV.UK "Addresses" pattern): the LRS matches the learner's
# last known postcode, so only the shape is checked, not whether it exists.
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_DATE_PARTS = ("day", "month", "year")
REAL_DATE = gettext_noop("%(label)s must be a real date")
ENTER = gettext_noop("Enter the learner's %(label)s")
TOO_LONG = gettext_noop("%(label)s must be %(max)s characters or less")
GENDER_CHOICES = [
    (Learner.Gender.FEMALE.value, _("Female")),
    (Learner.Gender.MALE.value, _("Male")),
    (Learner.Gender.NOT_KNOWN.value, _("Not known")),
    (Learner.Gender.NOT_SPECIFIED.value, _("Not specified")),
]
# Which boxes of a date are empty, as the message says it (never built from
# pieces: Welsh words do not join as the English do).
_MISSING = {
    ("day",): gettext_noop("%(label)s must include a day"),
    ("month",): gettext_noop("%(label)s must include a month"),
    ("year",): gettext_noop("%(label)s must include a year"),
    ("day", "month"): gettext_noop("%(label)s must include a day and month"),
    ("day", "year"): gettext_noop("%(label)s must include a day and year"),
    ("month", "year"): gettext_noop("%(label)s must include a month and year"),
}


def _said(message: str, **params: object) -> str:
    """A message marked with gettext_noop, in the language of the moment, with
    its placeholders filled."""
    return gettext(message) % params


def _said_later(message: str, label: object, *, lower: bool = False) -> str:
    """The same, worked out only when shown (for a field's error_messages,
    built once at import): ``label`` is a lazy label."""

    def text() -> str:
        name = str(label)
        return _said(message, label=name.lower() if lower else name, max=NAME_MAX)

    return lazy(text, str)()


def postcode_outward(postcode: str) -> str:
    """The first half of a postcode ("LS2" of "LS2 9JT")."""
    key = "".join(postcode.split()).upper()
    return key[:-3] if len(key) > 3 else key


class DateInputWidget(forms.MultiWidget):
    """GOV.UK date input: day, month and year boxes (records/_date_input.html).

    ``error_parts`` names the boxes to highlight; the error summary links to the
    first of them.
    """

    def __init__(self) -> None:
        super().__init__({part: forms.TextInput() for part in _DATE_PARTS})
        self.error_parts: tuple[str, ...] = ()

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_{(self.error_parts or _DATE_PARTS)[0]}" if id_ else ""


class DateInputField(forms.MultiValueField):
    """The three boxes, stripped; the form decides whether they make a date."""

    widget = DateInputWidget

    def __init__(self, **kwargs: Any) -> None:
        # No length limit here: real_past_date says which box is wrong, in words.
        parts = [forms.CharField(required=False) for _ in _DATE_PARTS]
        super().__init__(parts, required=False, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[str]) -> tuple[str, ...]:
        return tuple(data_list) if data_list else ("", "", "")


def _missing(label: str, missing: list[str]) -> str:
    return _said(_MISSING[tuple(missing)], label=label)


def real_past_date(label: str, parts: tuple[str, ...]) -> date:
    """A day, month and year as a real date in the past (GOV.UK date input errors).

    Raises ValidationError; its ``params`` hold the boxes to highlight.
    """
    day, month, year = (p.strip() for p in parts)
    month = month_number(month)  # "May", "march", "Sept" (GOV.UK date input)
    named = dict(zip(_DATE_PARTS, (day, month, year), strict=True))
    missing = [part for part, value in named.items() if not value]
    if len(missing) == len(_DATE_PARTS):
        raise _date_error(_said(ENTER, label=label.lower()), _DATE_PARTS)
    if missing:
        raise _date_error(_missing(label, missing), tuple(missing))
    if not all(v.isascii() and v.isdigit() for v in named.values()):
        raise _date_error(_said(REAL_DATE, label=label), _DATE_PARTS)
    if len(year) != 4:
        raise _date_error(gettext("Year must include 4 numbers"), ("year",))
    too_long = tuple(p for p in ("day", "month") if len(named[p]) > 2)
    if too_long:
        # date() would overflow on an 11-digit day before it could say "not real".
        raise _date_error(_said(REAL_DATE, label=label), too_long)
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        raise _date_error(_said(REAL_DATE, label=label), _DATE_PARTS) from None
    if value >= timezone.localdate():
        raise _date_error(
            _said(gettext_noop("%(label)s must be in the past"), label=label),
            _DATE_PARTS,
        )
    if value < EARLIEST_BIRTH:
        raise _date_error(
            _said(
                gettext_noop("%(label)s must be the same as or after 1 January 1900"),
                label=label,
            ),
            _DATE_PARTS,
        )
    return value


def _date_error(message: str, parts: tuple[str, ...]) -> forms.ValidationError:
    return forms.ValidationError(message, code="date", params={"parts": parts})


def _confirmation(label: StrOrPromise, error: StrOrPromise) -> forms.BooleanField:
    return forms.BooleanField(label=label, error_messages={"required": error})


class LookupConfirmationsForm(forms.Form):
    """What the person confirms before every search (domain.md 1.5)."""

    privacy_notice = _confirmation(
        _("I have given this learner the LRS privacy notice"),
        _("Confirm you have given this learner the LRS privacy notice"),
    )
    own_student = _confirmation(
        _("I am looking up this learner to enrol them as our own student"),
        _("Confirm you are looking up this learner to enrol them as your own student"),
    )


class UlnSearchForm(LookupConfirmationsForm):
    field_order = ("uln", "privacy_notice", "own_student")

    uln = forms.CharField(
        label=_("Unique learner number (ULN)"),
        help_text=_("10 digits, for example 9276308686"),
        required=False,
        strip=True,
        max_length=20,  # 10 digits with the spaces or hyphens people copy
        error_messages={"max_length": _("A ULN is 10 digits, like 9276308686")},
    )

    def clean_uln(self) -> str:
        # People copy ULNs with spaces ("927 630 8686"); the digits are what count.
        uln = re.sub(r"[\s-]", "", self.cleaned_data["uln"])
        problem = uln_problem(uln)
        if problem:  # marked in records.uln, said here in the page's language
            raise forms.ValidationError(gettext(problem), code="invalid_uln")
        return uln


def learner_name(label: str, typed: str) -> str:
    """A given or family name as the LRS matches it (spaces collapsed, curly
    apostrophes straightened); ValidationError in the page's words if it
    cannot be one. The pages and the web service both check names here."""
    value = " ".join(typed.replace("\u2019", "'").split())
    if not value:
        raise forms.ValidationError(_said(ENTER, label=label.lower()))
    if len(value) > NAME_MAX:
        raise forms.ValidationError(
            _said(TOO_LONG, label=label, max=NAME_MAX), code="max_length"
        )
    if not _NAME.fullmatch(value):
        raise forms.ValidationError(
            _said(
                gettext_noop(
                    "%(label)s must only include letters a to z, spaces, hyphens, "
                    "apostrophes and full stops"
                ),
                label=label,
            ),
            code="invalid_name",
        )
    return value


def learner_postcode(typed: str) -> str:
    """A postcode in its usual form ("LS2 9JT"); ValidationError if it has not
    a postcode's shape."""
    key = "".join(typed.split()).upper()
    found = _POSTCODE.fullmatch(key)
    if found is None:
        raise forms.ValidationError(gettext("Enter a real postcode"), code="invalid")
    return f"{found[1]} {found[2]}"


def _name_field(label: StrOrPromise) -> forms.CharField:
    # The box takes more than NAME_MAX so that pasted spaces, collapsed in
    # _clean_name, do not count; the message is the same either way.
    return forms.CharField(
        label=label,
        max_length=NAME_MAX * 4,
        error_messages={
            "required": _said_later(ENTER, label, lower=True),
            "max_length": _said_later(TOO_LONG, label),
        },
    )


class DemographicsSearchForm(LookupConfirmationsForm):
    """The five demographics the LRS matches on (domain.md 1.3)."""

    field_order = (
        "given_name",
        "family_name",
        "date_of_birth",
        "gender",
        "postcode",
        "privacy_notice",
        "own_student",
    )

    given_name = _name_field(_("Given name"))
    family_name = _name_field(_("Family name"))
    date_of_birth = DateInputField(label=_("Date of birth"))
    gender = forms.TypedChoiceField(
        label=_("Gender"),
        choices=GENDER_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select the learner's gender")},
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        help_text=_("The learner's last known postcode, for example LS2 9JT"),
        max_length=16,
        error_messages={
            "required": _("Enter the learner's postcode"),
            "max_length": _("Enter a real postcode"),
        },
    )

    def _clean_name(self, name: str) -> str:
        return learner_name(str(self.fields[name].label), self.cleaned_data[name])

    def clean_given_name(self) -> str:
        return self._clean_name("given_name")

    def clean_family_name(self) -> str:
        return self._clean_name("family_name")

    def clean_date_of_birth(self) -> date:
        widget = cast(DateInputWidget, self.fields["date_of_birth"].widget)
        try:
            return real_past_date(
                str(self.fields["date_of_birth"].label),
                self.cleaned_data["date_of_birth"],
            )
        except forms.ValidationError as error:
            widget.error_parts = (error.params or {}).get("parts", _DATE_PARTS)
            raise

    def clean_postcode(self) -> str:
        return learner_postcode(self.cleaned_data["postcode"])


class LogDownloadForm(forms.Form):
    """The log's dates: ?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the last 90 days."""

    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=_("For example, 2026-01-31"),
        error_messages={
            "invalid": _("Enter the start date as year-month-day, like 2026-01-31")
        },
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=_("For example, 2026-03-31"),
        error_messages={
            "invalid": _("Enter the end date as year-month-day, like 2026-03-31")
        },
    )
    _PARAMETERS = {"date_from": "from", "date_to": "to"}

    def add_prefix(self, field_name: str) -> str:
        # The query string says ?from=…&to=…; "from" cannot be a Python name.
        return self._PARAMETERS.get(field_name, field_name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        today = datetime.now(UTC).date()
        end = cleaned.get("date_to") or today
        if end > today:
            self.add_error(
                "date_to", gettext("The end date must be today or in the past")
            )
            return cleaned
        if end < EARLIEST_LOG:
            # Checked before the default start is counted back from it: 90 days
            # before 1 January 1 is no date at all (OverflowError).
            self.add_error("date_to", gettext("The end date must be in 2000 or later"))
            return cleaned
        start = cleaned.get("date_from") or end - timedelta(days=LOG_DAYS - 1)
        if start > end:
            self.add_error(
                "date_from",
                gettext("The start date must be the same as or before the end date"),
            )
        elif start < EARLIEST_LOG:
            self.add_error(
                "date_from", gettext("The start date must be in 2000 or later")
            )
        cleaned.update(date_from=start, date_to=end)
        return cleaned


class BatchUploadForm(forms.Form):
    """A batch file and the two confirmations, made for every learner in it.
    The file itself is read by records.batch_files, which says what is wrong."""

    file = forms.FileField(
        label=_("Upload a CSV file"),
        max_length=255,
        error_messages={
            "required": _("Select a CSV file"),
            "empty": _("The selected file is empty"),
            "max_length": _("The file's name must be 255 characters or less"),
            "invalid": _("Select a CSV file"),
        },
    )
    privacy_notice = _confirmation(
        _("I have given every learner in this file the LRS privacy notice"),
        _("Confirm you have given every learner in this file the LRS privacy notice"),
    )
    own_student = _confirmation(
        _("I am looking up these learners to enrol them as our own students"),
        _(
            "Confirm you are looking up these learners to enrol them as your own "
            "students"
        ),
    )
