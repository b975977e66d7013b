"""The figures of a suspension's rules (Suspension.rules: value and threshold as
decimal strings) as the provider reads them: whole counts with thousands
separators, a share as a percentage (templates/registration/org_suspensions.html),
each written with the separators of the page's language (Django's formats).
"""

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

# Rules whose figures are shares (0 to 1), not counts (records.models AuditRule).
_SHARES = frozenset({"no_match_rate"})


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _share(number: Decimal) -> str:
    return f"{_count((number * 100).quantize(Decimal(1)))}%"


def _count(number: Decimal | int) -> str:
    return number_format(int(number), force_grouping=True)


@register.filter
def rule_found(rule: Any) -> str:
    """What the check found: a whole count, or a share as a percentage."""
    if not isinstance(rule, dict):
        return ""
    number = _decimal(rule.get("value"))
    if number is None:
        return str(rule.get("value", ""))
    if rule.get("rule") in _SHARES:
        return _share(number)
    return _count(math.floor(number))


@register.filter
def rule_limit(rule: Any) -> str:
    """The limit: a count's whole part (a whole count is above a limit exactly
    when it is above that), or a share as a percentage."""
    if not isinstance(rule, dict):
        return ""
    number = _decimal(rule.get("threshold"))
    if number is None:
        return str(rule.get("threshold", ""))
    if rule.get("rule") in _SHARES:
        return _share(number)
    return _count(math.floor(number))
