"""A rule's hit (issues 5 and 13): Hit, what every audit rule finds, the
organisation rules and the purpose rules alike, and what its alert and its
suspension's rules are made of; and its figures, rounded to two places (two_places) and
written as people write them (as_figure).

Below every rule (records.audit_rules, records.purpose, records.purpose_user)
and the run that raises the alerts (records.audit), which all import it.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from records.models import AuditRule, UsageAlert

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Hit:
    """One rule's hit: a user's (user_id set) or an organisation's."""

    rule: AuditRule
    organisation_id: int
    user_id: int | None
    value: Decimal
    threshold: Decimal
    details: str

    @property
    def subject_type(self) -> str:
        if self.user_id is None:
            return UsageAlert.Subject.ORGANISATION
        return UsageAlert.Subject.USER

    @property
    def subject_id(self) -> int:
        return self.organisation_id if self.user_id is None else self.user_id

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.code,
            "label": self.rule.get_code_display(),
            "value": str(self.value),
            "threshold": str(self.threshold),
            "details": self.details,
        }


def two_places(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def as_figure(value: Decimal) -> str:
    """A figure as people write it: 5, 6.17, 1,234 (no trailing zeros)."""
    text = f"{two_places(value):,f}".rstrip("0").rstrip(".")
    return text or "0"
