"""Migration 0005 on rows made before it: each assessment gets the appetite in
force when it was recorded, and approvals waiting for release get their
conditions as rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
BEFORE = [("approvals", "0003_assessor_declares_no_conflict")]
AFTER = [("approvals", "0006_assessment_appetite_required")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_rows(apps):
    User = apps.get_model("lrs_portal", "User")
    Organisation = apps.get_model("approvals", "ResearchOrganisation")
    Request = apps.get_model("approvals", "DataShareRequest")
    Assessment = apps.get_model("approvals", "Assessment")
    Meeting = apps.get_model("approvals", "PanelMeeting")
    Decision = apps.get_model("approvals", "Decision")
    HistoricalRiskSettings = apps.get_model("approvals", "HistoricalRiskSettings")
    now = timezone.now()
    person = User.objects.create(email="old@example.com")
    organisation = Organisation.objects.create(name="Old", kind="university")
    for appetite, days_ago in ((8, 30), (12, 10)):
        HistoricalRiskSettings.objects.create(
            id=1,
            singleton=True,
            risk_appetite=appetite,
            quorum=3,
            certificate_due_days=30,
            volume_medium_from=10_000,
            volume_high_from=1_000_000,
            history_date=now - timedelta(days=days_ago),
            history_type="~",
        )
    shares = []
    for n, (assessed_days_ago, status) in enumerate(
        ((20, "approved_with_conditions"), (5, "panel"))
    ):
        share = Request.objects.create(
            reference=f"DS9000{n}",
            organisation=organisation,
            requester=person,
            status=status,
        )
        Assessment.objects.create(
            request=share,
            assessor=person,
            risk_score=5,
            recommendation="approve",
            completed_at=now - timedelta(days=assessed_days_ago),
            **{
                f"{k}{s}": "low" if not s else "Fine"
                for k in (
                    "safe_projects",
                    "safe_people",
                    "safe_settings",
                    "safe_data",
                    "safe_outputs",
                )
                for s in ("", "_reason")
            },
        )
        shares.append(share)
    meeting = Meeting.objects.create(held_on=now.date(), chair=person)
    Decision.objects.create(
        request=shares[0],
        meeting=meeting,
        outcome="approved_with_conditions",
        reasons="Good",
        conditions="- DSA signed\n\nOutputs checked\n",
        supports_aims="Aims",
        votes_for=3,
        votes_cast=3,
        risk_score=5,
        risk_appetite=8,
        above_risk_appetite=False,
        chair=person,
    )
    return [s.pk for s in shares]


def test_old_assessments_keep_the_appetite_of_their_day():
    try:
        first, second = _old_rows(_migrate(BEFORE))
        apps = _migrate(AFTER)
        Assessment = apps.get_model("approvals", "Assessment")
        Condition = apps.get_model("approvals", "ApprovalCondition")

        assert Assessment.objects.get(request_id=first).risk_appetite == 8
        assert Assessment.objects.get(request_id=second).risk_appetite == 12
        texts = Condition.objects.filter(request_id=first).values_list(
            "text", flat=True
        )
        assert sorted(texts) == ["DSA signed", "Outputs checked"]
        assert not Condition.objects.filter(request_id=second).exists()
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
