"""The nightly usage audit, suspensions it opens, and the casework around them
(issue 5). These run on SQLite and on PostgreSQL; the lock and the real worker
tests need PostgreSQL and Redis."""

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lrs_portal.jobs import JobLocked, advisory_lock
from lrs_portal.models import JobRun, Notification, UserSession, system_user
from records import audit, audit_counts
from records.jobs import audit_usage_run
from records.models import AuditedDay, AuditRule, LearnerView, UsageAlert, UsageDay
from records.services import LookupRefused, learner_search_by_uln
from registration.models import Organisation, Suspension
from registration.services import (
    ExplanationRefused,
    suspension_escalate,
    suspension_explain,
    suspension_reinstate,
    suspension_uphold,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    UserFactory,
    member_of,
)
from tests.records.factories import nth_uln

pytestmark = pytest.mark.django_db
A = LearnerView.Action
OUT = LearnerView.Outcome
Code = AuditRule.Code


def today() -> date:
    return timezone.now().date()


def yesterday() -> date:
    return today() - timedelta(days=1)


def log(user, day, n, *, action=A.SEARCH_ULN, outcome=OUT.EXACT_MATCH, hour=12,
        ulns=None, start=0):  # fmt: skip
    """n rows of the log for user on day (UTC), a second apart from hour."""
    organisation = user.membership.organisation
    moment = datetime.combine(day, time(hour), tzinfo=UTC)
    LearnerView.objects.bulk_create(
        LearnerView(
            user=user,
            organisation=organisation,
            action=action,
            outcome=outcome,
            viewed_at=moment + timedelta(seconds=i),
            learner_uln=ulns[i] if ulns else nth_uln(start + 7 * i),
        )
        for i in range(n)
    )


def rule(code, **changes):
    audit.audit_rules_ensure()
    found = AuditRule.objects.get(code=code)
    for field, value in changes.items():
        setattr(found, field, value)
    found.save()
    return found


@pytest.fixture(autouse=True)
def _no_update_on_tracked_models(monkeypatch):
    """Rule 4: QuerySet.update() would skip history; fail any test that uses it on
    a history-tracked model."""
    from django.db.models import QuerySet
    from simple_history.models import registered_models

    real = QuerySet.update

    def guarded(self, **kwargs):
        assert self.model not in registered_models.values(), (
            f"QuerySet.update() on history-tracked {self.model.__name__}"
        )
        return real(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", guarded)


def _consecutive(count, stem=500_000_000):
    from records.uln import uln_check_digit

    ulns = []
    while len(ulns) < count:
        check = uln_check_digit(str(stem))
        if check is not None:
            ulns.append(f"{stem}{check}")
        stem += 1
    return ulns


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def college(version):
    """A registered college declaring 2,000 learners a year: 10 a working day, so
    the organisation volume rule's limit is 30 searches a day."""
    return OrganisationFactory.create(
        last_signed_version=version, estimated_learners_per_year=2000
    )


@pytest.fixture
def super_user(college):
    return member_of(college, super_user=True)


@pytest.fixture
def searcher(college, super_user):
    return member_of(college)


@pytest.fixture
def caseworker_user(caseworker):
    return caseworker


def _emails(reference_part: str) -> list[Notification]:
    return list(Notification.objects.filter(reference__contains=reference_part))


# --- the story the issue ends with ------------------------------------------------


def test_a_provider_beyond_its_volume_is_suspended_refused_explains_and_reinstated(
    searcher, super_user, caseworker_user, college
):
    log(searcher, yesterday(), 95)  # limit 30 (3 x 10 a day)
    session = UserSession.objects.create(
        session_key="k" * 32,
        session_data="",
        expire_date=timezone.now() + timedelta(days=1),
        user=searcher,
    )

    run = audit_usage_run()

    college.refresh_from_db()
    assert college.status == Organisation.Status.SUSPENDED
    assert not UserSession.objects.filter(pk=session.pk).exists()
    alert = UsageAlert.objects.get(rule=Code.ORG_VOLUME)
    assert (alert.value, alert.threshold) == (Decimal(95), Decimal("30.00"))
    suspension = Suspension.objects.get()
    assert suspension.subject_type == Suspension.Subject.ORGANISATION
    assert suspension.source == Suspension.Source.USAGE_AUDIT
    assert suspension.rules[0]["rule"] == Code.ORG_VOLUME
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.first_day == run.last_day == yesterday()
    assert {n.to for n in _emails(f"suspension.{suspension.pk}.opened")} == {
        super_user.email,
        caseworker_user.email,
    }
    # The next morning: refused, saying why.
    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="r")
    assert refused.value.refusal.code == "organisation_suspended"
    # The super user explains on their page; the caseworkers hear of it.
    client = Client()
    client.force_login(super_user)
    page = client.get(reverse("registration:suspension"))
    assert "95" in page.content.decode()
    response = client.post(
        reverse("registration:explain-suspension", args=[suspension.pk]),
        {"explanation": "Enrolment week: we enrolled 90 apprentices."},
    )
    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.explanation == "Enrolment week: we enrolled 90 apprentices."
    assert (
        _emails(f"suspension.{suspension.pk}.explained")[0].to == caseworker_user.email
    )
    # A caseworker reinstates it as a false positive; the provider is told.
    suspension_reinstate(
        suspension=suspension, acting_user=caseworker_user, reason="Enrolment week"
    )
    college.refresh_from_db()
    assert college.status == Organisation.Status.REGISTERED
    assert _emails(f"suspension.{suspension.pk}.reinstated")[0].to == super_user.email
    result = learner_search_by_uln(user=searcher, uln="9276308686", request_id="r2")
    assert result.outcome == OUT.NO_MATCH
    record = suspension.history.earliest("history_date")
    assert record.history_user == system_user()
    latest = suspension.history.latest("history_date")
    assert latest.history_user == caseworker_user
    assert latest.history_change_reason == "Enrolment week"


def test_running_the_same_day_twice_gives_one_alert_one_suspension_one_email(
    searcher, super_user, caseworker_user
):
    log(searcher, yesterday(), 95)

    audit_usage_run(day=yesterday())
    audit_usage_run(day=yesterday())

    assert UsageAlert.objects.filter(rule=Code.ORG_VOLUME).count() == 1
    assert Suspension.objects.count() == 1
    assert len(_emails(".opened")) == 2  # the super user and the caseworker, once
    assert UsageDay.objects.filter(day=yesterday()).count() == 1


def test_a_reinstatement_is_never_undone_by_a_later_run_for_that_day(
    searcher, caseworker_user, college
):
    log(searcher, yesterday(), 95)
    audit_usage_run(day=yesterday())
    suspension_reinstate(
        suspension=Suspension.objects.get(), acting_user=caseworker_user, reason="OK"
    )

    audit_usage_run(day=yesterday())

    college.refresh_from_db()
    assert college.status == Organisation.Status.REGISTERED
    assert Suspension.objects.get().status == Suspension.Status.REINSTATED


def test_a_reinstated_false_positive_is_left_out_of_later_baselines(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_SPIKE, suspends=True, threshold=Decimal(5), minimum_volume=50)
    spike_day = today() - timedelta(days=3)
    for back in range(4, 10):
        log(searcher, today() - timedelta(days=back), 10)
    log(searcher, spike_day, 100)
    log(searcher, spike_day + timedelta(days=1), 100)
    for back in range(9, 2, -1):
        audit_usage_run(day=today() - timedelta(days=back))
    spike = Suspension.objects.get(day=spike_day)
    suspension_reinstate(suspension=spike, acting_user=system_user(), reason="Test")

    audit_usage_run(day=spike_day + timedelta(days=1))

    # Baseline 10 a day (the reinstated 100 left out): 100 > 5 x 10.
    assert UsageAlert.objects.filter(
        rule=Code.USER_SPIKE, day=spike_day + timedelta(days=1)
    ).exists()
    assert Suspension.objects.filter(day=spike_day + timedelta(days=1)).exists()


@pytest.mark.parametrize(("searches", "hit"), [(100, False), (101, True)])
def test_a_spike_is_judged_exactly_at_a_limit_a_decimal_cannot_hold(
    searcher, searches, hit
):
    # Six days of 200 searches in all: a usual 33.333... a day, and three times
    # that is exactly 100, which 100 searches are not above (rounding the mean
    # to 28 digits once made them look so).
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_SPIKE, threshold=Decimal(3), minimum_volume=50)
    for back, count in zip(range(8, 2, -1), [34, 34, 33, 33, 33, 33], strict=True):
        log(searcher, today() - timedelta(days=back), count)
        audit_usage_run(day=today() - timedelta(days=back))
    log(searcher, yesterday(), searches, start=2000)

    audit_usage_run(day=yesterday())

    assert ((Code.USER_SPIKE, "user") in _hits()) is hit


def test_the_baseline_does_count_a_day_that_was_not_reinstated(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_SPIKE, threshold=Decimal(5), minimum_volume=50)
    spike_day = today() - timedelta(days=3)
    for back in range(4, 10):
        log(searcher, today() - timedelta(days=back), 10)
    log(searcher, spike_day, 100)
    log(searcher, spike_day + timedelta(days=1), 100)
    for back in range(9, 1, -1):
        audit_usage_run(day=today() - timedelta(days=back))

    # Baseline (6 x 10 + 100) / 7 = 22.86: 100 is under 5 times that.
    assert not UsageAlert.objects.filter(
        rule=Code.USER_SPIKE, day=spike_day + timedelta(days=1)
    ).exists()
    assert UsageAlert.objects.filter(rule=Code.USER_SPIKE, day=spike_day).exists()


# --- catching up, failing half way, the lock --------------------------------------


def test_a_run_catches_up_every_day_missed_since_the_last(searcher):
    AuditedDay.objects.create(day=today() - timedelta(days=4))

    run = audit_usage_run()

    assert run.first_day == today() - timedelta(days=3)
    assert run.last_day == yesterday()
    assert run.counts["days_audited"] == 3


def test_a_day_audited_by_hand_does_not_hide_an_earlier_missed_day(searcher):
    AuditedDay.objects.create(day=today() - timedelta(days=4))
    log(searcher, today() - timedelta(days=3), 95)
    audit_usage_run(day=today() - timedelta(days=2))

    run = audit_usage_run()

    assert sorted(AuditedDay.objects.values_list("day", flat=True)) == [
        today() - timedelta(days=n) for n in (4, 3, 2, 1)
    ]
    assert run.counts["days_audited"] == 2  # the missed day and yesterday
    assert UsageAlert.objects.filter(day=today() - timedelta(days=3)).exists()


def test_missed_days_beyond_the_catch_up_window_are_counted(searcher, settings):
    settings.AUDIT_CATCH_UP_DAYS = 3
    AuditedDay.objects.create(day=today() - timedelta(days=10))

    run = audit_usage_run()

    assert run.counts["days_audited"] == 3
    assert run.counts["days_missed_beyond_catch_up"] == 6


def test_a_user_who_moves_organisation_during_the_day_is_counted_in_each(
    searcher, version
):
    log(searcher, yesterday(), 5)
    other = OrganisationFactory.create(last_signed_version=version)
    membership = searcher.membership  # removed, then invited by another
    membership.organisation = other
    membership.save()
    log(searcher, yesterday(), 7, hour=15, start=500)
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, threshold=Decimal(4))

    audit_usage_run()

    rows = UsageDay.objects.filter(user=searcher).order_by("searches")
    assert [row.searches for row in rows] == [5, 7]
    assert UsageAlert.objects.filter(rule=Code.USER_VOLUME).count() == 1
    assert Suspension.objects.filter(user=searcher).count() == 1


def test_the_first_run_audits_yesterday_only_and_a_second_run_nothing(searcher):
    first = audit_usage_run()
    second = audit_usage_run()

    assert (first.first_day, first.last_day) == (yesterday(), yesterday())
    assert second.first_day is None
    assert second.counts == {}


def test_a_run_that_fails_half_way_is_completed_by_the_next_with_nothing_twice(
    searcher, monkeypatch
):
    AuditedDay.objects.create(day=today() - timedelta(days=3))
    log(searcher, today() - timedelta(days=2), 95)
    log(searcher, yesterday(), 95)
    real = audit.hits_find

    def fail_on_yesterday(day, counted):
        if day == yesterday():
            raise RuntimeError("injected failure")
        return real(day, counted)

    monkeypatch.setattr(audit, "hits_find", fail_on_yesterday)
    with pytest.raises(RuntimeError, match="injected"):
        audit_usage_run()
    failed = JobRun.objects.filter(outcome=JobRun.Outcome.FAILED).get()
    assert failed.last_day == today() - timedelta(days=2)
    assert "injected failure" in failed.error
    assert not UsageDay.objects.filter(day=yesterday()).exists()  # rolled back
    assert UsageAlert.objects.count() == 1

    monkeypatch.setattr(audit, "hits_find", real)
    finished = audit_usage_run()

    assert (finished.first_day, finished.last_day) == (yesterday(), yesterday())
    assert UsageAlert.objects.filter(rule=Code.ORG_VOLUME).count() == 2
    assert sorted(UsageAlert.objects.values_list("day", flat=True)) == [
        today() - timedelta(days=2),
        yesterday(),
    ]


@pytest.mark.postgres
def test_a_second_concurrent_run_exits_at_once_saying_so(searcher):
    out = StringIO()
    with advisory_lock(f"lrs.job.{audit.JOB}") as locked:
        assert locked
        started = clock.monotonic()
        call_command("audit_usage", stdout=out)
        took = clock.monotonic() - started

    assert "holds the lock" in out.getvalue()
    assert took < 10
    assert JobRun.objects.get().outcome == JobRun.Outcome.SKIPPED
    assert not UsageDay.objects.exists()


@pytest.mark.postgres
def test_the_task_records_a_skipped_run_when_locked(searcher):
    from records.tasks import audit_usage_task

    with advisory_lock(f"lrs.job.{audit.JOB}"):
        audit_usage_task()
        with pytest.raises(JobLocked):
            audit_usage_run()

    assert JobRun.objects.filter(outcome=JobRun.Outcome.SKIPPED).count() == 2


# --- each rule --------------------------------------------------------------------


def _hits(day=None):
    return set(
        UsageAlert.objects.filter(day=day or yesterday()).values_list(
            "rule", "subject_type"
        )
    )


def test_an_organisation_within_its_volume_raises_nothing(searcher):
    log(searcher, yesterday(), 30)  # the limit itself is not above it

    audit_usage_run()

    assert _hits() == set()
    assert not Suspension.objects.exists()


def test_refused_lookups_do_not_count_towards_volume(searcher):
    log(searcher, yesterday(), 95, outcome=OUT.REFUSED)

    audit_usage_run()

    assert _hits() == set()
    assert UsageDay.objects.get().refused == 95


def test_a_user_above_the_daily_cap_is_suspended_alone(searcher, super_user, college):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, threshold=Decimal(40))
    log(searcher, yesterday(), 41)

    audit_usage_run()

    assert _hits() == {(Code.USER_VOLUME, "user")}
    searcher.membership.refresh_from_db()
    assert searcher.membership.suspended_at is not None
    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="r")
    assert refused.value.refusal.code == "user_suspended"
    # A colleague carries on.
    assert learner_search_by_uln(user=super_user, uln="9276308686", request_id="s")
    college.refresh_from_db()
    assert college.status == Organisation.Status.REGISTERED


def test_a_high_no_match_rate_of_detail_searches_is_fishing(searcher):
    rule(Code.NO_MATCH_RATE, threshold=Decimal("0.5"), minimum_volume=20)
    log(
        searcher,
        yesterday(),
        15,
        action=A.SEARCH_DEMOGRAPHICS,
        outcome=OUT.NO_MATCH,
        ulns=[""] * 15,
    )
    log(
        searcher,
        yesterday(),
        5,
        action=A.SEARCH_DEMOGRAPHICS,
        outcome=OUT.EXACT_MATCH,
        hour=13,
    )

    audit_usage_run()

    assert (Code.NO_MATCH_RATE, "user") in _hits()
    alert = UsageAlert.objects.get(rule=Code.NO_MATCH_RATE)
    assert alert.value == Decimal("0.75")
    assert not Suspension.objects.exists()  # alerts, does not suspend by default


def test_a_low_volume_of_detail_searches_is_not_judged_on_its_rate(searcher):
    rule(Code.NO_MATCH_RATE, threshold=Decimal("0.5"), minimum_volume=20)
    log(
        searcher,
        yesterday(),
        10,
        action=A.SEARCH_DEMOGRAPHICS,
        outcome=OUT.NO_MATCH,
        ulns=[""] * 10,
    )

    audit_usage_run()

    assert (Code.NO_MATCH_RATE, "user") not in _hits()


def test_searching_consecutive_ulns_is_enumeration(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(20))
    # Every valid ULN from one stem on: consecutive stems, skipping those with no
    # check digit.
    log(searcher, yesterday(), 20, outcome=OUT.NO_MATCH, ulns=_consecutive(20))

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run == 20
    assert (Code.CONSECUTIVE_ULNS, "user") in _hits()
    assert Suspension.objects.get().rules[0]["rule"] == Code.CONSECUTIVE_ULNS


def test_the_same_uln_searched_again_neither_breaks_nor_lengthens_a_run(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(5))
    ulns = _consecutive(5, 400_000_000)
    searched = [ulns[0], ulns[1], ulns[1], ulns[1], ulns[2], ulns[3], ulns[4], ulns[0]]
    log(searcher, yesterday(), len(searched), ulns=searched)

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run == 5


def test_scattered_ulns_are_not_a_run_and_are_not_even_measured(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    log(searcher, yesterday(), 25)  # every 7th ULN: gaps of 14 stems

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run is None
    assert (Code.CONSECUTIVE_ULNS, "user") not in _hits()


@pytest.mark.parametrize("threshold", [3, 5, 20, 64, 150])
def test_a_run_just_long_enough_is_always_found_by_the_first_pass(searcher, threshold):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(threshold))
    # Start the run just before a block boundary, so it is split across blocks.
    start = (500_000_000 // audit.STEM_BLOCK + 1) * audit.STEM_BLOCK - 3
    log(searcher, yesterday(), threshold, ulns=_consecutive(threshold, start))

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run == threshold
    assert (Code.CONSECUTIVE_ULNS, "user") in _hits()


@pytest.mark.parametrize("threshold", [5, 20, 33, 100])
def test_a_run_with_every_gap_of_two_across_blocks_is_found(searcher, threshold):
    from records.uln import uln_check_digit

    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(threshold))

    # Every second stem, each with a check digit: the widest a run can be.
    def valid(stem: int) -> bool:
        return uln_check_digit(str(stem)) is not None

    stem = 700_000_000 // audit.STEM_BLOCK * audit.STEM_BLOCK + audit.STEM_BLOCK - 3
    stem = stem if valid(stem) else stem + 1
    ulns = []
    while len(ulns) < threshold:
        ulns.append(f"{stem}{uln_check_digit(str(stem))}")
        stem = stem + 2 if valid(stem + 2) else stem + 1
    spans = int(ulns[-1][:9]) // audit.STEM_BLOCK - int(ulns[0][:9]) // audit.STEM_BLOCK
    assert spans >= 1  # the run crosses a block boundary
    log(searcher, yesterday(), threshold, ulns=ulns)

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run >= threshold
    assert (Code.CONSECUTIVE_ULNS, "user") in _hits()


def test_a_dense_cluster_short_of_the_threshold_is_measured_exactly(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(20))
    log(searcher, yesterday(), 15, ulns=_consecutive(15))

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run == 15
    assert (Code.CONSECUTIVE_ULNS, "user") not in _hits()


def test_with_the_run_rule_off_no_run_is_measured(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, enabled=False)
    log(searcher, yesterday(), 30, ulns=_consecutive(30))

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run is None


def _block_boundary_run(length):
    """A run of length consecutive ULNs, half just below a block boundary of
    stems and half from it: (the ULNs below, the ULNs from the boundary)."""
    boundary = (500_000_000 // audit.STEM_BLOCK + 1) * audit.STEM_BLOCK
    ulns = _consecutive(2 * length, boundary - length - length // 5)
    below = [uln for uln in ulns if int(uln[:9]) < boundary][-(length // 2) :]
    above = [uln for uln in ulns if int(uln[:9]) >= boundary][: length - len(below)]
    return below, above


def test_a_run_split_between_two_organisations_in_one_day_is_found(searcher, version):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(20))
    below, above = _block_boundary_run(20)
    # Each organisation's row holds 5 of the run in each of two blocks: under the
    # first pass's floor of 10 a block; the user's two rows together reach it.
    log(searcher, yesterday(), 10, ulns=below[:5] + above[:5])
    membership = searcher.membership
    membership.organisation = OrganisationFactory.create(last_signed_version=version)
    membership.save()
    log(searcher, yesterday(), 10, ulns=below[5:] + above[5:], hour=15)

    audit_usage_run()

    runs = UsageDay.objects.filter(user=searcher).values_list(
        "longest_uln_run", flat=True
    )
    assert list(runs) == [20, 20]
    assert (Code.CONSECUTIVE_ULNS, "user") in _hits()


def test_a_run_among_so_many_searches_that_the_counters_wrap_is_found(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, enabled=False)
    rule(Code.CONSECUTIVE_ULNS, threshold=Decimal(20))
    below, above = _block_boundary_run(20)
    block = int(below[0][:7])  # the first seven digits: the block of stems
    # One ULN searched again and again in a block with the bucket of the run's
    # first block, and one with the bucket of its second: 10 + 246 = 256 and
    # 10 + 245 + 1 carried = 256, so both 8-bit counters read 0. Only the rule
    # that a user with 256 or more ULN searches is always measured finds the run.
    far = (block + audit.BLOCK_BUCKETS) * audit.STEM_BLOCK
    first_filler = _consecutive(1, far)[0]
    second_filler = _consecutive(1, far + audit.STEM_BLOCK)[0]
    assert int(second_filler[:7]) == block + audit.BLOCK_BUCKETS + 1
    fillers = [first_filler] * 246 + [second_filler] * 245
    log(searcher, yesterday(), 20 + len(fillers), ulns=below + above + fillers)

    audit_usage_run()

    assert UsageDay.objects.get().longest_uln_run == 20
    assert (Code.CONSECUTIVE_ULNS, "user") in _hits()


def test_the_first_pass_never_trusts_counters_that_may_have_wrapped():
    floor = audit_counts.run_floor(20)
    # 256 searches in one bucket read as 0 there and 1 in the next.
    wrapped = 1 << audit_counts.COUNTER_BITS
    assert not audit_counts.could_run(255, wrapped, floor)  # at most 255: trusted
    assert audit_counts.could_run(256, wrapped, floor)
    assert audit_counts.could_run(3, floor << (2 * audit_counts.COUNTER_BITS), floor)
    assert not audit_counts.could_run(
        3, (floor - 1) << (2 * audit_counts.COUNTER_BITS), floor
    )


@pytest.mark.parametrize(
    ("code", "threshold", "count", "hit"),
    [
        (Code.USER_VOLUME, "40", 40, False),
        (Code.USER_VOLUME, "40", 41, True),
        (Code.USER_VOLUME, "40.50", 40, False),
        (Code.USER_VOLUME, "40.50", 41, True),
        (Code.NIGHT_TIME, "30", 30, False),
        (Code.NIGHT_TIME, "30", 31, True),
        (Code.NIGHT_TIME, "29.99", 30, True),
    ],
)
def test_a_count_is_judged_exactly_at_its_threshold(
    searcher, code, threshold, count, hit
):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.NIGHT_TIME, enabled=False)
    rule(code, enabled=True, threshold=Decimal(threshold), minimum_volume=0)
    log(searcher, yesterday(), count, hour=2)  # 02:00 UTC: night in London

    audit_usage_run()

    assert ((code, "user") in _hits()) is hit


@pytest.mark.parametrize(
    ("threshold", "nobody", "hit"),
    [("0.50", 10, False), ("0.50", 11, True), ("0.33", 33, False), ("0.33", 34, True)],
)
def test_a_no_match_rate_is_judged_exactly_at_its_threshold(
    searcher, threshold, nobody, hit
):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.NO_MATCH_RATE, threshold=Decimal(threshold), minimum_volume=20)
    total = 20 if threshold == "0.50" else 100
    details = {"action": A.SEARCH_DEMOGRAPHICS, "ulns": [""] * total}
    log(searcher, yesterday(), nobody, outcome=OUT.NO_MATCH, **details)
    log(searcher, yesterday(), total - nobody, hour=14, **details)

    audit_usage_run()

    assert ((Code.NO_MATCH_RATE, "user") in _hits()) is hit


@pytest.mark.parametrize(
    ("threshold", "searches", "hit"),
    [("3", 30, False), ("3", 31, True), ("2.55", 25, False), ("2.55", 26, True)],
)
def test_an_organisations_volume_is_judged_exactly_at_its_limit(
    searcher, threshold, searches, hit
):
    # The college declares 2,000 learners a year: 10 a working day.
    rule(Code.ORG_VOLUME, threshold=Decimal(threshold), minimum_volume=20)
    log(searcher, yesterday(), searches)

    audit_usage_run()

    assert ((Code.ORG_VOLUME, "organisation") in _hits()) is hit


def test_a_reinstated_organisation_day_is_left_out_of_its_users_baselines(
    searcher, college
):
    rule(Code.ORG_VOLUME, threshold=Decimal(3), minimum_volume=20)
    rule(Code.USER_SPIKE, threshold=Decimal(5), minimum_volume=50)
    spike_day = today() - timedelta(days=3)
    for back in range(4, 10):
        log(searcher, today() - timedelta(days=back), 10)
    log(searcher, spike_day, 100)  # the organisation's limit is 30: suspended
    log(searcher, spike_day + timedelta(days=1), 100)
    for back in range(9, 2, -1):
        audit_usage_run(day=today() - timedelta(days=back))
    case = Suspension.objects.get(day=spike_day, subject_type="organisation")
    suspension_reinstate(suspension=case, acting_user=system_user(), reason="Test")

    audit_usage_run(day=spike_day + timedelta(days=1))

    # The user's baseline is 10 a day with the organisation's reinstated day left
    # out (100 > 5 x 10); with it, (6 x 10 + 100) / 7 = 22.86 and no hit.
    assert UsageAlert.objects.filter(
        rule=Code.USER_SPIKE, day=spike_day + timedelta(days=1)
    ).exists()


def test_usage_days_keep_their_user_although_the_database_does_not_check_it():
    from django.db.models import ProtectedError

    user = UserFactory.create()
    organisation = OrganisationFactory.create()
    UsageDay.objects.create(user=user, organisation=organisation, day=yesterday())

    with pytest.raises(ProtectedError):
        user.delete()
    with pytest.raises(ProtectedError):
        organisation.delete()


@pytest.mark.postgres
def test_only_a_day_that_suspends_nobody_commits_without_waiting_for_the_disk(
    searcher,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements():
        with CaptureQueriesContext(connection) as captured:
            audit_usage_run(day=yesterday())
        return [query["sql"] for query in captured.captured_queries]

    rule(Code.ORG_VOLUME, enabled=False)
    log(searcher, yesterday(), 5)
    quiet = statements()
    log(searcher, yesterday(), 200, start=1000)  # above the user volume rule
    suspending = statements()

    assert "SET LOCAL synchronous_commit = off" in quiet
    assert Suspension.objects.filter(user=searcher).exists()
    assert not any("synchronous_commit" in sql for sql in suspending)


def test_lookups_outside_working_hours_in_uk_time(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.NIGHT_TIME, threshold=Decimal(10))
    log(searcher, yesterday(), 11, hour=2)  # 02:00 UTC is night in London
    log(searcher, yesterday(), 40, hour=12, start=1000)

    audit_usage_run()

    assert UsageDay.objects.get().night_lookups == 11
    assert (Code.NIGHT_TIME, "user") in _hits()


def test_night_time_follows_british_summer_time(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    summer = date(2026, 7, 14)  # London is UTC+1
    # 06:30 UTC is 07:30 in London (working); 19:30 UTC is 20:30 (night).
    log(searcher, summer, 4, hour=6)
    organisation = searcher.membership.organisation
    LearnerView.objects.bulk_create(
        LearnerView(
            user=searcher,
            organisation=organisation,
            action=A.SEARCH_ULN,
            outcome=OUT.EXACT_MATCH,
            viewed_at=datetime(2026, 7, 14, 19, 30, i, tzinfo=UTC),
            learner_uln=nth_uln(900 + 7 * i),
        )
        for i in range(3)
    )

    audit_usage_run(day=summer)

    # 06:00-06:00:03 UTC is 07:00 in London: working hours; 19:30 UTC is night.
    assert UsageDay.objects.get(day=summer).night_lookups == 3


@pytest.mark.parametrize("hours", [(7, 20), (0, 24), (9, 17), (1, 3)])
def test_working_spans_say_what_the_local_hour_says_every_minute(settings, hours):
    """The counts test night-time by instants (records.audit_counts.working_spans),
    not by each row's local hour: the two must agree at every minute of an
    ordinary day, a summer day and the days the clocks go forward and back."""
    from zoneinfo import ZoneInfo

    settings.AUDIT_WORKING_HOURS = hours
    london = ZoneInfo(settings.TIME_ZONE)
    for day in (
        date(2026, 11, 20),
        date(2026, 7, 14),
        date(2026, 3, 29),  # clocks forward at 01:00 UTC
        date(2026, 10, 25),  # and back at 01:00 UTC
        date(2027, 3, 28),
        date(2027, 10, 31),
    ):
        start, end = audit_counts.day_bounds(day)
        spans = audit_counts.working_spans(start, end)
        moment = start
        while moment < end:
            by_hour = hours[0] <= moment.astimezone(london).hour < hours[1]
            by_span = any(first <= moment < last for first, last in spans)
            assert by_span == by_hour, (day, moment, spans)
            moment += timedelta(minutes=1)


def test_a_disabled_rule_finds_nothing(searcher):
    rule(Code.ORG_VOLUME, enabled=False)
    log(searcher, yesterday(), 500)

    audit_usage_run()

    assert (Code.ORG_VOLUME, "organisation") not in _hits()


def test_a_rule_not_marked_as_suspending_only_alerts(searcher, college):
    rule(Code.ORG_VOLUME, suspends=False)
    log(searcher, yesterday(), 95)

    audit_usage_run()

    assert (Code.ORG_VOLUME, "organisation") in _hits()
    college.refresh_from_db()
    assert college.status == Organisation.Status.REGISTERED
    assert not Suspension.objects.exists()


def test_the_audit_counts_each_user_of_each_organisation_separately(searcher, version):
    other = member_of(OrganisationFactory.create(last_signed_version=version))
    log(searcher, yesterday(), 3)
    log(other, yesterday(), 2, action=A.VIEW_RECORD, outcome=OUT.SHOWN)
    log(other, yesterday() - timedelta(days=1), 9)  # another day: not counted

    audit_usage_run()

    rows = {row.user_id: row for row in UsageDay.objects.filter(day=yesterday())}
    assert (rows[searcher.pk].searches, rows[searcher.pk].views) == (3, 0)
    assert (rows[other.pk].searches, rows[other.pk].views) == (0, 2)


def test_every_change_the_audit_makes_has_the_system_user_and_a_reason(
    searcher, college
):
    rule(Code.USER_VOLUME, threshold=Decimal(40))
    log(searcher, yesterday(), 95)

    audit_usage_run()

    system = system_user()
    for tracked in (
        college.history.latest("history_date"),
        searcher.membership.history.latest("history_date"),
        *(s.history.earliest("history_date") for s in Suspension.objects.all()),
        *(a.history.earliest("history_date") for a in UsageAlert.objects.all()),
    ):
        assert tracked.history_user == system
        assert tracked.history_change_reason
    assert Suspension.objects.count() == 2  # the organisation and the user


def test_with_the_broker_down_the_audit_still_runs_and_its_emails_wait(
    searcher, super_user, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from lrs_portal.tasks import notification_deliver_task

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399")

    monkeypatch.setattr(notification_deliver_task, "delay", broker_down)
    log(searcher, yesterday(), 95)
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit_usage", stdout=out)

    assert "suspensions_opened: 1" in out.getvalue()
    assert Suspension.objects.count() == 1
    queued = _emails(".opened")
    assert queued
    assert {n.status for n in queued} == {Notification.Status.QUEUED}


# --- the command ------------------------------------------------------------------


def test_the_command_audits_a_given_day_and_says_what_it_did(searcher):
    log(searcher, today() - timedelta(days=5), 95)
    out = StringIO()

    call_command("audit_usage", "--date", str(today() - timedelta(days=5)), stdout=out)

    assert f"Audited {today() - timedelta(days=5)}" in out.getvalue()
    assert "suspensions_opened: 1" in out.getvalue()


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", ""])
def test_the_command_refuses_a_bad_date(value):
    with pytest.raises(CommandError, match="not a date"):
        call_command("audit_usage", "--date", value or "x")


def test_the_command_refuses_a_day_not_over_yet():
    with pytest.raises(CommandError, match="not finished"):
        call_command("audit_usage", "--date", str(today()))


# --- suspensions: decisions and explanations ------------------------------------


@pytest.fixture
def suspended(searcher, super_user):
    log(searcher, yesterday(), 95)
    audit_usage_run()
    return Suspension.objects.get()


def test_upholding_keeps_access_away_and_tells_the_provider(
    suspended, caseworker_user, college, super_user
):
    suspension_uphold(
        suspension=suspended, acting_user=caseworker_user, reason="Misuse"
    )

    college.refresh_from_db()
    assert college.status == Organisation.Status.SUSPENDED
    assert _emails(f"suspension.{suspended.pk}.upheld")[0].to == super_user.email


def test_escalating_revokes_the_organisation(suspended, caseworker_user, college):
    suspension_escalate(
        suspension=suspended, acting_user=caseworker_user, reason="Sold access"
    )

    college.refresh_from_db()
    assert college.status == Organisation.Status.REVOKED
    assert suspended.history.latest("history_date").history_user == caseworker_user


def test_a_decided_suspension_cannot_be_decided_again(suspended, caseworker_user):
    from lrs_portal.transitions import TransitionNotAllowed

    suspension_reinstate(suspension=suspended, acting_user=caseworker_user, reason="OK")

    with pytest.raises(TransitionNotAllowed):
        suspension_escalate(
            suspension=suspended, acting_user=caseworker_user, reason="No"
        )


def test_a_decision_needs_a_reason(suspended, caseworker_user):
    from lrs_portal.transitions import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed, match="reason"):
        suspension_reinstate(
            suspension=suspended, acting_user=caseworker_user, reason=" "
        )


def test_only_the_super_user_may_explain(suspended, searcher):
    with pytest.raises(PermissionError):
        suspension_explain(suspension=suspended, acting_user=searcher, explanation="x")


def test_an_explanation_after_the_decision_is_refused(
    suspended, super_user, caseworker_user
):
    suspension_reinstate(suspension=suspended, acting_user=caseworker_user, reason="OK")

    with pytest.raises(ExplanationRefused, match="already been decided"):
        suspension_explain(
            suspension=suspended, acting_user=super_user, explanation="Late"
        )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Enter your explanation"),
        ("   ", "Enter your explanation"),
        ("x" * 5001, "5,000 characters or fewer"),
        ("nul \x00 byte", "Null characters are not allowed"),
    ],
)
def test_a_bad_explanation_is_shown_with_its_error_and_changes_nothing(
    suspended, super_user, text, error
):
    client = Client()
    client.force_login(super_user)

    response = client.post(
        reverse("registration:explain-suspension", args=[suspended.pk]),
        {"explanation": text},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert error in body
    assert "govuk-error-summary" in body
    suspended.refresh_from_db()
    assert suspended.explained_at is None


def test_another_organisations_suspension_is_not_found(suspended, version):
    stranger = member_of(
        OrganisationFactory.create(last_signed_version=version), super_user=True
    )
    client = Client()
    client.force_login(stranger)

    response = client.post(
        reverse("registration:explain-suspension", args=[suspended.pk]),
        {"explanation": "x"},
    )
    page = client.get(reverse("registration:suspension"))

    assert response.status_code == 404
    assert suspended.reason not in page.content.decode()


def test_the_suspension_page_has_an_empty_state(super_user):
    client = Client()
    client.force_login(super_user)

    body = client.get(reverse("registration:suspension")).content.decode()

    assert "no suspensions in the last 12 months" in body


# --- a real worker --------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("log_truncate_allowed")
def test_a_real_worker_runs_the_audit_through_redis(worker, searcher):
    from records.tasks import audit_usage_task

    queue, _ = worker
    log(searcher, yesterday(), 95)

    audit_usage_task.apply_async(queue=queue)

    deadline = clock.monotonic() + 90
    run = None
    while clock.monotonic() < deadline:
        run = (
            JobRun.objects.filter(job=audit.JOB)
            .exclude(outcome=JobRun.Outcome.RUNNING)
            .first()
        )
        if run is not None:
            break
        clock.sleep(0.5)
    assert run is not None, "the worker did not finish the audit"
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert Suspension.objects.get().subject_type == Suspension.Subject.ORGANISATION
    assert mail.outbox == []  # sent by the worker, not this process


def test_the_account_page_says_access_is_suspended_and_where_to_explain(
    suspended, super_user, searcher
):
    boss, member = Client(), Client()
    boss.force_login(super_user)
    member.force_login(searcher)

    for_boss = boss.get(reverse("lrs_portal:account")).content.decode()
    for_member = member.get(reverse("lrs_portal:account")).content.decode()

    assert "Your organisation's access to the LRS is suspended" in for_boss
    assert reverse("registration:suspension") in for_boss
    assert "super user has been told why" in for_member
    assert reverse("registration:suspension") not in for_member


def test_a_deregistered_organisation_that_registers_again_can_be_suspended_afresh(
    suspended, searcher, college, caseworker_user
):
    from registration.services import organisation_transition

    organisation_transition(
        organisation=college,
        to=Organisation.Status.DEREGISTERED,
        acting_user=system_user(),
        reason="Suspended for 60 days with no resolution",
    )
    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.CLOSED  # out of the queue at once
    organisation_transition(
        organisation=college,
        to=Organisation.Status.REGISTERED,
        acting_user=caseworker_user,
        reason="Re-registration LRS-T00001 approved",
    )
    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.CLOSED
    assert not _emails(f"suspension.{suspended.pk}.closed")

    log(searcher, today() - timedelta(days=2), 95)
    audit_usage_run(day=today() - timedelta(days=2))

    college.refresh_from_db()
    assert college.status == Organisation.Status.SUSPENDED
    assert Suspension.objects.filter(status=Suspension.Status.OPEN).count() == 1


def test_leaving_the_register_keeps_a_users_own_suspension_for_a_caseworker(
    searcher, college, super_user
):
    from registration.services import organisation_revoke

    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, threshold=Decimal(40))
    log(searcher, yesterday(), 41)
    audit_usage_run()
    user_case = Suspension.objects.get(subject_type=Suspension.Subject.USER)

    organisation_revoke(organisation=college, acting_user=system_user(), reason="X")

    user_case.refresh_from_db()
    assert user_case.status == Suspension.Status.OPEN
    searcher.membership.refresh_from_db()
    assert searcher.membership.suspended_at is not None


def test_reinstating_a_suspended_organisation_closes_no_other_case(
    suspended, caseworker_user
):
    suspension_reinstate(suspension=suspended, acting_user=caseworker_user, reason="OK")

    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.REINSTATED


def test_a_second_explanation_is_refused_and_the_page_says_why(
    suspended, super_user, caseworker_user
):
    client = Client()
    client.force_login(super_user)
    url = reverse("registration:explain-suspension", args=[suspended.pk])
    client.post(url, {"explanation": "Enrolment week."})

    response = client.post(url, {"explanation": "Something else."}, follow=True)

    suspended.refresh_from_db()
    assert suspended.explanation == "Enrolment week."
    assert "already sent its explanation" in response.content.decode()
    assert len(_emails(f"suspension.{suspended.pk}.explained")) == 1


@pytest.fixture
def suspended_super_user(super_user, college, searcher):
    """The super user suspended on their own (user volume); the college is not."""
    rule(Code.ORG_VOLUME, enabled=False)
    rule(Code.USER_VOLUME, threshold=Decimal(40))
    log(super_user, yesterday(), 41)
    audit_usage_run()
    return Suspension.objects.get(user=super_user)


def test_a_suspended_super_user_cannot_invite_or_read_the_log_but_can_explain(
    suspended_super_user, super_user, college
):
    from registration.services import invitation_send

    client = Client()
    client.force_login(super_user)

    assert client.get(reverse("registration:users")).status_code == 403
    usage = client.get(reverse("records:usage"))
    assert usage.status_code == 403
    assert reverse("registration:suspension") in usage.content.decode()
    with pytest.raises(PermissionError):
        invitation_send(
            organisation=college,
            acting_user=super_user,
            email="new.person@college.example.com",
            full_name="New Person",
        )
    assert client.get(reverse("registration:suspension")).status_code == 200
    response = client.post(
        reverse("registration:explain-suspension", args=[suspended_super_user.pk]),
        {"explanation": "A script ran in a loop; it is fixed."},
    )
    assert response.status_code == 302
