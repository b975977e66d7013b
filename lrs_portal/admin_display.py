"""What the admin shows, written for people: numbers, dates and recorded evidence.

Caseworkers read the admin, so it follows the GOV.UK style as the pages do:
``120,000`` (a thousands separator, no trailing ``.00``), ``6 December 2026`` and
``6 December 2026, 18:52`` (lrs_portal/formats). Django's own display of an
integer field groups nothing unless USE_THOUSAND_SEPARATOR is on, and that
setting would also group every number a template prints (ids in links, years,
UKPRNs held as numbers), so the admin formats its quantities here, explicitly.

Evidence a check recorded as JSON is shown as a table of labelled rows, with the
raw record one click away (a ``<details>`` element) for the caseworker who needs
exactly what was stored.
"""

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

NOT_RECORDED = "Not recorded"


def number(value: int | float | Decimal | None) -> str:
    """``120000`` as ``120,000``; ``Decimal("2.50")`` as ``2.5``; None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    exact = Decimal(str(value))
    if exact == exact.to_integral_value():
        return f"{int(exact):,}"
    text = f"{exact.normalize():,f}"
    return text


def share(value: int | float | Decimal | None) -> str:
    """A fraction (``0.2``) as a percentage (``20%``)."""
    if value is None:
        return "-"
    return f"{number(Decimal(str(value)) * 100)}%"


def when(moment: datetime | date | None) -> str:
    """A date or a time as GOV.UK writes it, in the service's time zone."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, get_format("DATETIME_FORMAT"))
    return date_format(moment, get_format("DATE_FORMAT"))


def _parsed_moment(text: str) -> datetime | date | None:
    """An ISO date or date and time written by a check, else None."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _humanised(key: str) -> str:
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(value: Any, labels: Mapping[str, str]) -> str | SafeString:
    if value is None or value == "" or value == []:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal):
        return number(value)
    if isinstance(value, str):
        moment = _parsed_moment(value)
        return when(moment) if moment is not None else value
    if isinstance(value, Mapping):
        return evidence_rows(value, labels)
    if isinstance(value, list | tuple):
        if all(isinstance(item, str | int | float) for item in value):
            return ", ".join(str(_value(item, labels)) for item in value)
        return format_html(
            '<ul class="evidence-list">{}</ul>',
            format_html_join("", "<li>{}</li>", ((_value(v, labels),) for v in value)),
        )
    return str(value)


def evidence_rows(data: Mapping[str, Any], labels: Mapping[str, str]) -> SafeString:
    """A table of one labelled row per recorded item (nested items nest)."""
    if not data:
        return format_html("<p>{}</p>", "Nothing was recorded.")
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        (
            (labels.get(key, _humanised(key)), _value(value, labels))
            for key, value in data.items()
        ),
    )
    return format_html('<table class="evidence"><tbody>{}</tbody></table>', rows)


def evidence(
    data: Mapping[str, Any], labels: Mapping[str, str], *, summary: str = "Raw record"
) -> SafeString:
    """Readable rows, and the raw JSON one click away."""
    raw = json.dumps(data, indent=2, sort_keys=True, default=str)
    return format_html(
        '{}<details class="evidence-raw"><summary>{}</summary>'
        '<pre style="white-space: pre-wrap">{}</pre></details>',
        evidence_rows(data, labels),
        summary,
        raw,
    )
