"""docs/operations.md's beat table has one row for each entry of
CELERY_BEAT_SCHEDULE, with its task and its time, and the queue table names the
queues the tasks are routed to."""

from typing import Any

from django.conf import settings

from tests.docs.guides import guide


def _beat_rows() -> dict[str, str]:
    text = (
        guide("operations.md").split("## The beat schedule", 1)[1].split("\n## ", 1)[0]
    )
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {row.split("`")[1]: row for row in rows}


def when(schedule: Any) -> str:
    """A crontab as the table writes it: "every 5 minutes", or "01:05"."""
    hour, minute = str(schedule._orig_hour), str(schedule._orig_minute)
    if hour == "*" and minute.startswith("*/"):
        return f"every {minute[2:]} minutes"
    return f"{int(hour):02d}:{int(minute):02d}"


def test_the_table_has_a_row_for_each_entry_and_none_for_a_missing_one():
    assert sorted(_beat_rows()) == sorted(settings.CELERY_BEAT_SCHEDULE)


def test_each_row_gives_its_entrys_task_and_time():
    rows = _beat_rows()

    wrong = [
        name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if f"`{entry['task']}`" not in rows.get(name, "")
        or f"| {when(entry['schedule'])} |" not in rows.get(name, "")
    ]

    assert wrong == []


def test_when_reads_both_kinds_of_crontab():
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert when(schedule["lrs-portal-jobs-watch"]["schedule"]) == "every 5 minutes"
    assert when(schedule["records-maintain-partitions"]["schedule"]) == "01:05"


def test_the_queue_table_names_every_routed_queue():
    text = guide("operations.md").split("## Worker queues", 1)[1].split("\n## ", 1)[0]
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}

    assert all(f"| `{queue}` |" in text for queue in queues | {"celery"})
