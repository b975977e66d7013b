"""CSV cells a spreadsheet never runs as a formula, and streaming CSV lines.

Every CSV the service hands out (the admin's exports, a provider's log, a
learner's access report, a batch's results, the panel's reports) writes each
cell through csv_cell (OWASP's CSV injection advice: a cell starting with one of
= + - @, a tab or a carriage return is prefixed with a quote). Echo lets
csv.writer build one line at a time for a StreamingHttpResponse.
"""

from datetime import datetime

from django.utils import timezone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text and never runs as a formula: None is
    empty, a date and time is local ISO 8601, anything else its text."""
    if value is None:
        return ""
    text = (
        timezone.localtime(value).isoformat()
        if isinstance(value, datetime)
        else f"{value}"
    )
    return f"'{text}" if text.startswith(_FORMULA_START) else text


class Echo:
    """A file-like object whose write returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value
