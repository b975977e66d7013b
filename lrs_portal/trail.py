"""The nightly trail audit: every change the database's change trail recorded
(lrs_portal.pg) must have a matching simple-history row, or an admin log entry
for tables simple-history does not follow; a change with neither was made
outside the application (raw SQL with its credentials, a DBA's psql session),
and raises one ServiceAlert, emailed to the caseworkers.

What matches (within TRAIL_MATCH_SECONDS of the change):
- a table with history: a history row of the same object and kind (+, ~, -)
  whose recorded columns hold the change's new values;
- a user's roles and permissions: a history row of that user (their User row,
  or any history row naming them as ``user``, such as a membership), or an admin
  log entry for them;
- groups, their permissions and permissions themselves: an admin log entry for
  the group.

Changes made as the changed table's owner are not compared: that is migrate (a
deploy), and the owner could drop the triggers anyway. Tables are found through
the app registry, so this module imports no other app (architecture.md).
Why: docs/decisions/0019-*.md.
"""

import logging
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import ChangeTrail, JobRun, ServiceAlert

logger = logging.getLogger(__name__)

JOB = "audit_trail"
_HISTORY_TYPE = {"INSERT": "+", "UPDATE": "~", "DELETE": "-"}
_USER_JOINS = {"lrs_portal_user_groups", "lrs_portal_user_user_permissions"}
_GROUP_TABLES = {"auth_group": "id", "auth_group_permissions": "group_id"}


def trail_audit_run() -> JobRun | None:
    """Compare the change trail with the history since the last run; alert on
    each change with no history (once, however often it runs)."""
    return job_run(JOB, trail_audit)


def trail_audit(progress: JobProgress, *, now: Any = None) -> None:
    window = timedelta(seconds=settings.TRAIL_MATCH_SECONDS)
    # Changes younger than the window may still see their history row written.
    until = (now or timezone.now()) - window
    last = _checked_up_to()
    changes = ChangeTrail.objects.filter(id__gt=last, changed_at__lt=until)
    owners = _owners()
    histories = _history_tables()
    checked_up_to = last
    for change in changes.order_by("id").iterator():
        checked_up_to = change.pk
        progress.add("changes")
        if owners.get(change.table_name) == change.db_user:
            progress.add("changes_by_owner")
            continue
        if _matched(change, histories, window):
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


def _user_history_tables() -> list[tuple[str, str]]:
    """(history table, column naming the user) for every history table with one."""
    user_table = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    tables = []
    for table, history in _history_tables().items():
        if table == user_table:
            tables.append((history, "id"))
            continue
        model = next(m for m in apps.get_models() if m._meta.db_table == history)
        if any(f.column == "user_id" for f in model._meta.concrete_fields):
            tables.append((history, "user_id"))
    return tables


def _exists(query: str, params: list[Any]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS ({query})", params)
        row = cursor.fetchone()
    return bool(row and row[0])


def _matched(change: ChangeTrail, histories: dict[str, str], window: Any) -> bool:
    start, end = change.changed_at - window, change.changed_at + window
    if change.table_name in histories:
        return _exists(
            f'SELECT FROM "{histories[change.table_name]}" h'  # noqa: S608
            " WHERE h.id::text = %s AND h.history_type = %s"
            " AND h.history_date BETWEEN %s AND %s"
            " AND to_jsonb(h) @> (SELECT COALESCE(jsonb_object_agg(key, value), '{}')"
            "  FROM jsonb_each(%s::jsonb)"
            "  WHERE to_jsonb(h) ? key)",
            [
                change.row_id,
                _HISTORY_TYPE[change.operation],
                start,
                end,
                _json(change.new_values),
            ],
        )
    values = change.new_values or change.old_values
    if change.table_name in _USER_JOINS:
        user_id = str(values.get("user_id"))
        return _logged(settings.AUTH_USER_MODEL, user_id, start, end) or any(
            _exists(
                f'SELECT FROM "{table}" WHERE {column}::text = %s'
                " AND history_date BETWEEN %s AND %s",
                [user_id, start, end],
            )
            for table, column in _user_history_tables()
        )
    if change.table_name in _GROUP_TABLES:
        group_id = str(values.get(_GROUP_TABLES[change.table_name]))
        return _logged("auth.Group", group_id, start, end)
    return False


def _logged(label: str, object_id: str, start: Any, end: Any) -> bool:
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(apps.get_model(label))
    return LogEntry.objects.filter(
        content_type=content_type,
        object_id=object_id,
        action_time__range=(start, end),
    ).exists()


def _json(values: Any) -> str:
    import json

    return json.dumps(values or {})


def _alert(change: ChangeTrail) -> bool:
    """Raise the change's alert and email the caseworkers; False if raised before."""
    from lrs_portal.services import notification_send_to_role

    summary = (
        f"{change.get_operation_display()} in {change.table_name} (row "
        f"{change.row_id}) by the database role {change.db_user} at "
        f"{change.changed_at:%Y-%m-%d %H:%M:%S} UTC, with no history row: made "
        "outside the portal"
    )[:300]
    try:
        with transaction.atomic():
            ServiceAlert.objects.create(
                kind=ServiceAlert.Kind.CHANGE_OUTSIDE_APPLICATION,
                key=str(change.pk),
                summary=summary,
                change=change,
            )
            notification_send_to_role(
                role=roles.CASEWORKER,
                subject="LRS Portal: a change was made outside the portal",
                body=(
                    f"{summary}.\n\nSee 'Service alerts' in the admin, and the "
                    "runbook docs/runbooks/database-roles.md, 'The change trail'."
                ),
                reference="trail.outside_change",
            )
    except IntegrityError:
        return False
    logger.warning("trail_change_outside_application", extra={"change_id": change.pk})
    return True
