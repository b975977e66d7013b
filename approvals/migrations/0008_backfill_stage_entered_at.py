"""Set each existing request's stage_entered_at from its history: the first
history row of the latest unbroken run of its current status. A plain UPDATE:
a derived timestamp, not a change anyone made, so no history row is wanted."""

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    request_model = apps.get_model("approvals", "DataShareRequest")
    history_model = apps.get_model("approvals", "HistoricalDataShareRequest")
    for request in request_model.objects.all().iterator():
        entered = None
        rows = history_model.objects.filter(id=request.pk).order_by(
            "-history_date", "-history_id"
        )
        for row in rows.values("status", "history_date"):
            if row["status"] != request.status:
                break
            entered = row["history_date"]
        if entered is not None:
            request_model.objects.filter(pk=request.pk).update(stage_entered_at=entered)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0007_panel_secretariat")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
