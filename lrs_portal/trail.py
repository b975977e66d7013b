"""The nightly trail audit: every change the database's change trail recorded
(lrs_portal.pg) must have a matching simple-history row, or an admin log entry
for tables simple-history does not follow; a change with neither was made
outside the application (raw SQL with its credentials, a DBA's psql session),
and raises one ServiceAlert, emailed to the caseworkers.

A change matches when the database transaction that made it also wrote a
history row or an admin log entry (a trigger on those tables marks such
transactions: lrs_portal.pg), and, for a table with history, when a history row
of the same object and kind (+, ~, -), written within TRAIL_MATCH_SECONDS of
the change, holds the change's new values. So a raw UPDATE slipped into a
transaction that also saved history is still caught, unless its values are what
the history says. (The application's role can add history rows, so a forger
can make a change look legitimate only by recording it in the history, where
caseworkers see it.)

Changes made as the changed table's owner are not compared: that is migrate (a
deploy), and the owner could drop the triggers anyway. Tables are found through
the app registry, so this module imports no other app (architecture.md).
Why: docs/decisions/0019-*.md.
"""

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import ChangeTrail, HistoryTransaction, JobRun, ServiceAlert

logger = logging.getLogger(__name__)

JOB = "audit_trail"
_HISTORY_TYPE = {"INSERT": "+", "UPDATE": "~", "DELETE": "-"}


def trail_audit_run(*, now: datetime | None = None) -> JobRun | None:
    """Compare the change trail with the history since the last run; alert on
    each change with no history (once, however often it runs)."""

    def work(progress: JobProgress) -> None:
        trail_audit(progress, now=now)

    return job_run(JOB, work)


def trail_audit(progress: JobProgress, *, now: datetime | None = None) -> None:
    if connection.vendor != "postgresql":
        return  # no triggers, so no trail (the demo on SQLite)
    window = timedelta(seconds=settings.TRAIL_MATCH_SECONDS)
    # Changes younger than the window may still see their history row written.
    until = (now or timezone.now()) - window
    last = _checked_up_to()
    changes = ChangeTrail.objects.filter(id__gt=last, changed_at__lt=until)
    owners = _owners()
    histories = _history_tables()
    # The transactions that wrote history, read once for the whole run.
    marked = set(
        HistoryTransaction.objects.filter(
            transaction_id__in=changes.values("transaction_id")
        ).values_list("transaction_id", flat=True)
    )
    checked_up_to = last
    for change in changes.order_by("id").iterator():
        checked_up_to = change.pk
        progress.add("changes")
        if owners.get(change.table_name) == change.db_user:
            progress.add("changes_by_owner")
            continue
        if _matched(change, marked, histories, window):
            progress.add("matched")
            continue
        if _alert(change):
            progress.add("alerts")
    progress.counts["checked_up_to"] = checked_up_to


def _checked_up_to() -> int:
    run = (
        JobRun.objects.filter(job=JOB, outcome=JobRun.Outcome.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )
    counts = run.counts if run and isinstance(run.counts, dict) else {}
    return int(counts.get("checked_up_to", 0))


def _owners() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_get_userbyid(relowner) FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace"
            " AND relkind IN ('r', 'p')"
        )
        return dict(cursor.fetchall())


def _history_tables() -> dict[str, str]:
    """Each followed table's history table, from the app registry."""
    found = {}
    for model in apps.get_models():
        manager = getattr(model, "history", None)
        history = getattr(manager, "model", None)
        if history is not None and history is not model:
            found[model._meta.db_table] = history._meta.db_table
    return found


def _matched(
    change: ChangeTrail, marked: set[int], histories: dict[str, str], window: Any
) -> bool:
    if change.transaction_id not in marked:
        return False
    if change.table_name not in histories:
        return True  # roles and permissions: the transaction wrote history
    with connection.cursor() as cursor:
        cursor.execute(
            # The history table's name comes from the app registry.
            f'SELECT EXISTS (SELECT FROM "{histories[change.table_name]}" h'  # noqa: S608 # nosec B608 (a history table's name from the app registry, bound values)
            " WHERE h.id::text = %s AND h.history_type = %s"
            " AND h.history_date BETWEEN %s AND %s"
            " AND to_jsonb(h) @> (SELECT COALESCE(jsonb_object_agg(key, value), '{}')"
            "  FROM jsonb_each(%s::jsonb) WHERE to_jsonb(h) ? key))",
            [
                change.row_id,
                _HISTORY_TYPE[change.operation],
                change.changed_at - window,
                change.changed_at + window,
                json.dumps(change.new_values or {}),
            ],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _alert(change: ChangeTrail) -> bool:
    """Raise the change's alert and email the caseworkers; False if raised before."""
    from lrs_portal.services import service_alert_raise

    summary = (
        f"{change.get_operation_display()} in {change.table_name} (row "
        f"{change.row_id}) by the database role {change.db_user} at "
        f"{change.changed_at:%Y-%m-%d %H:%M:%S} UTC, with no history row: made "
        "outside the portal"
    )[:300]
    if not service_alert_raise(
        alert=ServiceAlert(
            kind=ServiceAlert.Kind.CHANGE_OUTSIDE_APPLICATION,
            key=str(change.pk),
            summary=summary,
            change=change,
        ),
        subject="LRS Portal: a change was made outside the portal",
        body=(
            f"{summary}.\n\nSee 'Service alerts' in the admin, and the "
            "runbook docs/runbooks/database-roles.md, 'The change trail'."
        ),
        reference="trail.outside_change",
    ):
        return False
    logger.warning("trail_change_outside_application", extra={"change_id": change.pk})
    return True
