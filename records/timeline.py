"""The usage alerts on an organisation's timeline: records provides them to the
registration timeline's registry (registration never imports records)."""

from collections.abc import Iterator

from records.models import AuditRule, UsageAlert
from registration.models import Organisation
from registration.timeline import TimelineEntry


def usage_alert_entries(organisation: Organisation) -> Iterator[TimelineEntry]:
    """One entry per usage alert about the organisation or one of its users (one
    query)."""
    labels = dict(AuditRule.Code.choices)
    alerts = (
        UsageAlert.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    for alert in alerts:
        subject = (
            f"user {alert.user.email}"
            if alert.subject_type == UsageAlert.Subject.USER and alert.user
            else "the organisation"
        )
        rule = labels.get(alert.rule, alert.rule)
        closed = " (closed)" if alert.status == UsageAlert.Status.CLOSED else ""
        yield TimelineEntry(
            when=alert.created_at,
            who="System",
            what=f"Usage alert{closed} about {subject} on "
            f"{alert.day:%d %b %Y}: {rule}, {alert.value} against {alert.threshold}",
            why=alert.details,
        )
