"""The usage a suspension case's page draws: the suspended subject's searches a
day around the case's day, against the volume limit it was held to."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from records.models import AuditRule, UsageDay
from registration.models import Suspension

CHART_DAYS_BEFORE = 27
CHART_DAYS_AFTER = 3


def usage_chart(suspension: Suspension) -> dict[str, Any]:
    """Daily searches of the suspended subject around the day, against the
    threshold of the rule it hit (for an SVG bar chart and its table)."""
    first = suspension.day - timedelta(days=CHART_DAYS_BEFORE)
    last = min(
        suspension.day + timedelta(days=CHART_DAYS_AFTER),
        timezone.now().date() - timedelta(days=1),
    )
    rows = UsageDay.objects.filter(day__gte=first, day__lte=last)
    if suspension.subject_type == Suspension.Subject.USER:
        rows = rows.filter(user=suspension.user)
    else:
        rows = rows.filter(organisation=suspension.organisation)
    per_day: dict[date, int] = {}
    for day, searches in rows.values_list("day", "searches"):
        per_day[day] = per_day.get(day, 0) + searches
    threshold = _threshold(suspension)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    top = max([*per_day.values(), int(threshold or 0), 1])
    bars = []
    width = 18
    for index, day in enumerate(days):
        value = per_day.get(day, 0)
        height = round(160 * value / top)
        bars.append(
            {
                "day": day,
                "value": value,
                "x": 40 + index * width,
                "y": 180 - height,
                "height": height,
                "over": threshold is not None and value > threshold,
                "is_case_day": day == suspension.day,
            }
        )
    line_y = None if threshold is None else 180 - round(160 * float(threshold) / top)
    return {
        "bars": bars,
        "threshold": threshold,
        "line_y": line_y,
        "width": 40 + len(days) * width + 10,
        "bar_width": width - 4,
        "top": top,
    }


_VOLUME_RULES = (AuditRule.Code.ORG_VOLUME, AuditRule.Code.USER_VOLUME)


def _threshold(suspension: Suspension) -> Decimal | None:
    """The volume limit the subject was held to when the case opened (recorded
    with the rules hit), or None when no volume rule was hit: a line at today's
    threshold, or another rule's, would mislead."""
    for hit in suspension.rules:
        if isinstance(hit, dict) and hit.get("rule") in _VOLUME_RULES:
            try:
                return Decimal(str(hit["threshold"]))
            except (KeyError, ArithmeticError, ValueError):
                return None
    return None
