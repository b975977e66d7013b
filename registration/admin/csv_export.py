"""CSV files from the admin and the pages: cells a spreadsheet never runs as a
formula."""

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text and never runs as a formula (OWASP)."""
    if value is None:
        return ""
    text = (
        timezone.localtime(value).isoformat()
        if isinstance(value, datetime)
        else f"{value}"
    )
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response
