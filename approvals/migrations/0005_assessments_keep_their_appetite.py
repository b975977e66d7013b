"""Backfill: each assessment keeps the risk appetite in force when it was
recorded (read from the settings' history), and each approval with conditions
still waiting for release gets one condition row per line of its conditions."""

from django.db import migrations


def backfill(apps, schema_editor):
    Assessment = apps.get_model("approvals", "Assessment")
    HistoricalAssessment = apps.get_model("approvals", "HistoricalAssessment")
    HistoricalRiskSettings = apps.get_model("approvals", "HistoricalRiskSettings")
    RiskSettings = apps.get_model("approvals", "RiskSettings")
    Decision = apps.get_model("approvals", "Decision")
    ApprovalCondition = apps.get_model("approvals", "ApprovalCondition")
    current = RiskSettings.objects.first()
    fallback = current.risk_appetite if current else 10

    def appetite_at(when):
        then = (
            HistoricalRiskSettings.objects.filter(history_date__lte=when)
            .order_by("-history_date", "-history_id")
            .first()
        )
        return then.risk_appetite if then else fallback

    for model in (Assessment, HistoricalAssessment):
        for row in model.objects.filter(risk_appetite__isnull=True):
            row.risk_appetite = appetite_at(row.completed_at)
            row.save(update_fields=["risk_appetite"])
    waiting = Decision.objects.filter(
        outcome="approved_with_conditions",
        request__status="approved_with_conditions",
        approval_conditions__isnull=True,
    )
    for decision in waiting:
        # As approvals.services.condition_lines: one a line, bullets dropped.
        for line in decision.conditions.splitlines():
            text = line.strip().lstrip("-*\u2022").strip()
            if text:
                ApprovalCondition.objects.create(
                    request_id=decision.request_id, decision=decision, text=text
                )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0004_panel_integrity")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
