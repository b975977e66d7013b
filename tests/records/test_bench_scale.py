"""bench/scale.py's planted misuse (issue 15): the generated log's few misusers
must trip the nightly audit's rules, each the rule of its kind, and nobody else;
the ordinary rows are the benchmark's SQL, run at size only."""

import importlib
import random
import sys
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from records.models import AuditRule, LearnerView, UsageAlert
from records.uln import uln_problem
from tests.factories import OrganisationFactory, member_of

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

scale = importlib.import_module("scale")  # bench/ is not a package

Code = AuditRule.Code


def test_enumerated_ulns_are_valid_and_consecutive_skipping_stems_with_no_check():
    ulns = scale.enumerated_ulns(123_456_780, 40)

    assert len(ulns) == len(set(ulns)) == 40
    assert all(uln_problem(uln) is None for uln in ulns)
    stems = [int(uln[:9]) for uln in ulns]
    assert stems[0] == 123_456_780 or stems[0] == 123_456_781
    # The audit's run continues over a gap of 2 (a stem with no check digit).
    assert all(0 < b - a <= 2 for a, b in pairwise(stems))
    assert stems[-1] - stems[0] > 39  # some stems were skipped


def test_misuse_rows_plant_three_kinds_by_different_members():
    users = [(n, 1000 + n // 3) for n in range(1, 40)]
    day = datetime(2026, 12, 1, tzinfo=UTC).date()

    rows = scale.misuse_rows(day, users, random.Random(1))

    by_user: dict[int, list[tuple[object, ...]]] = {}
    for row in rows:
        by_user.setdefault(row[1], []).append(row)
    assert len(by_user) == 3 * scale.MISUSERS
    counts = sorted(len(mine) for mine in by_user.values())
    assert counts == sorted(
        [scale.ENUMERATED] * scale.MISUSERS
        + [scale.NIGHT_LOOKUPS] * scale.MISUSERS
        + [scale.EXTRA_SEARCHES] * scale.MISUSERS
    )
    assert all(uln_problem(row[6]) is None for row in rows)
    assert all(row[0].date() == day for row in rows)
    assert {(row[1], row[2]) for row in rows} <= set(users)


@pytest.mark.django_db
def test_the_planted_misusers_trip_their_rules_and_ordinary_members_none():
    from records.jobs import audit_usage_run

    day = datetime.now(UTC).date() - timedelta(days=1)
    members = []
    for _ in range(6):
        organisation = OrganisationFactory.create(estimated_learners_per_year=400_000)
        members += [member_of(organisation) for _ in range(2)]
    pairs = [(user.pk, user.membership.organisation_id) for user in members]
    rng = random.Random(7)
    planted = scale.misuse_rows(day, pairs, rng)
    misusers = {row[1] for row in planted}
    ordinary = [user for user in members if user.pk not in misusers]
    assert len(ordinary) == 3
    rows = [
        LearnerView(
            viewed_at=at, user_id=user, organisation_id=organisation,
            action=action, outcome=outcome, match_count=matches, learner_uln=uln,
        )
        for at, user, organisation, action, outcome, matches, uln in planted
    ]  # fmt: skip
    # An ordinary member's day as the benchmark writes it: about 67 searches of
    # scattered real ULNs in working hours.
    for user in ordinary:
        for n in range(67):
            rows.append(
                LearnerView(
                    viewed_at=datetime.combine(day, time(8), tzinfo=UTC)
                    + timedelta(minutes=9 * n),
                    user=user,
                    organisation=user.membership.organisation,
                    action=LearnerView.Action.SEARCH_ULN,
                    outcome=LearnerView.Outcome.EXACT_MATCH,
                    match_count=1,
                    learner_uln=scale.enumerated_ulns(100_000_000 + 9_000 * n, 1)[0],
                )
            )
    LearnerView.objects.bulk_create(rows)

    audit_usage_run(day=day)

    alerted = {
        (alert.user_id, alert.rule)
        for alert in UsageAlert.objects.filter(day=day, user__isnull=False)
    }
    mine: dict[int, list[datetime]] = {}
    for row in planted:
        mine.setdefault(row[1], []).append(row[0])
    kinds: dict[str, set[int]] = {"night": set(), "run": set(), "volume": set()}
    for user, times in mine.items():
        if min(at.hour for at in times) < 7:
            kinds["night"].add(user)
        else:
            kinds["volume" if len(times) == scale.EXTRA_SEARCHES else "run"].add(user)
    assert all(len(users) == scale.MISUSERS for users in kinds.values())
    expected = (
        {(user, Code.CONSECUTIVE_ULNS) for user in kinds["run"]}
        | {(user, Code.NIGHT_TIME) for user in kinds["night"]}
        | {(user, Code.USER_VOLUME) for user in kinds["volume"]}
    )
    assert alerted == expected
    assert not UsageAlert.objects.filter(user__in=ordinary).exists()
