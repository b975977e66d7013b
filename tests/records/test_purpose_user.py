"""The per-user purpose rule (issue 13): one member of an otherwise ordinary
organisation whose own lookups fit the screening pattern (adults, from far away,
by details) is alerted, named, with the figures; the organisation's own purpose
rules, which see the whole organisation, are not what catches it."""

from decimal import Decimal

import pytest

from records.models import AuditRule, Learner, LearnerView, UsageAlert
from records.services import usage_alert_close
from registration.models import Suspension
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.test_purpose import (
    FAR,
    NEAR,
    Run,
    _admin_url,
    alerts,
    day_ago,
    found,
    learners,
)

pytestmark = pytest.mark.django_db
Code = AuditRule.Code
A = LearnerView.Action


@pytest.fixture
def college():
    """A Leeds college (LS2 9JT), as test_purpose's, declaring 20,000 a year."""
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create(),
        estimated_learners_per_year=20_000,
    )


@pytest.fixture
def searcher(college):
    member_of(college, super_user=True)
    return member_of(college)


@pytest.fixture
def staff(college):
    """Three members who look up the college's own students; the super user
    looks nobody up. The test's learners have ULNs in sequence, so the
    consecutive-ULN rule, which is not what these tests are about, is off."""
    from records.audit import audit_rules_ensure

    audit_rules_ensure()
    AuditRule.objects.filter(code=Code.CONSECUTIVE_ULNS).update(enabled=False)
    member_of(college, super_user=True)
    return [member_of(college) for _ in range(3)]


def ordinary_day(user, on, n=40):
    """A college member's ordinary day: 16-year-olds from nearby, one in four by
    details."""
    found(
        user, on, learners(n * 3 // 4, age=16, areas=NEAR, on=on), action=A.SEARCH_ULN
    )
    found(user, on, learners(n // 4, age=16, areas=NEAR, on=on))


def history(staff, days=10, *, last=2, odd=None):
    """days of ordinary lookups by every member (odd(user, on), if given, for
    the one it returns True for), audited night by night."""
    run = Run()
    for back in range(last + days - 1, last - 1, -1):
        on = day_ago(back)
        for user in staff:
            if odd is None or not odd(user, on):
                ordinary_day(user, on)
        run.day(on)
    return run


def user_alerts(user):
    return UsageAlert.objects.filter(user=user, rule=Code.USER_PURPOSE)


def test_a_member_searching_for_a_third_party_is_alerted_that_night_by_name(
    college, staff
):
    """The others' lookups hide one member's: no organisation rule crosses (the
    college's day is 25% adults), but the member's own are 75% adults, 75% far
    and 75% by details, against none, none and a quarter for the others."""
    history(staff)
    on = day_ago(1)
    one, *others = staff
    for user in others:
        ordinary_day(user, on)
    found(one, on, learners(10, age=16, areas=NEAR, on=on), action=A.SEARCH_ULN)
    third_party = learners(15, age=30, areas=FAR, on=on)
    third_party += learners(15, age=50, areas=FAR, on=on)
    found(one, on, third_party)
    Run().day(on)
    organisation_rules = alerts(college).exclude(rule=Code.USER_PURPOSE)
    assert not organisation_rules.exists()
    alert = user_alerts(one).get()
    assert alert.subject_type == UsageAlert.Subject.USER
    assert alert.organisation == college
    assert alert.day == on
    # The smallest of the three moves: details, 75% against the others' 25%.
    assert alert.value == Decimal("0.50")
    assert alert.threshold == Decimal("0.30")
    words = alert.details
    assert words.startswith(f"User {one.email} on ")
    assert "75% of the 40 learners they found were aged 20 or over" in words
    assert "against 0% of 400 for the organisation's other users" in words
    # Their own history: the 6 days of 40 before the 5-day window.
    assert "0% of 240 in their own history" in words
    assert "75% of the 40 with a known area lived further than 50 km" in words
    assert "(LS)" in words
    assert "75% of their 40 searches were by details, against 25%" in words
    for learner in Learner.objects.filter(uln__in=third_party[:5]):
        assert learner.postcode not in words
        assert learner.date_of_birth.isoformat() not in words
        assert learner.uln not in words
    assert not user_alerts(others[0]).exists()
    # Alerts only, by default: nobody is suspended.
    assert not Suspension.objects.exists()


def test_a_member_who_always_finds_local_adults_is_not_alerted(college, staff):
    """An adult-courses officer: adults, by details, but from nearby, as every
    day before: unlike the others on one measure only."""
    officer = staff[0]

    def adults(user, on):
        if user != officer:
            return False
        found(user, on, learners(40, age=35, areas=NEAR, on=on))
        return True

    history(staff, days=11, last=1, odd=adults)
    assert not UsageAlert.objects.filter(rule=Code.USER_PURPOSE).exists()
    assert not alerts(college).exists()


def test_a_screening_firm_of_one_searcher_is_left_to_the_organisation_rules(
    college, searcher
):
    on = day_ago(1)
    found(searcher, on, learners(120, age=30, areas=FAR, on=on))
    Run().day(on)
    assert alerts(college, Code.AGE_PROFILE).exists()
    assert not user_alerts(searcher).exists()  # nobody else to compare with


def third_party_night(staff, far_adults: int):
    """Ordinary days, then a night on which the first member also finds
    far_adults adults from far away by details and the others have an ordinary
    day, audited; the first member."""
    history(staff)
    on = day_ago(1)
    one, *others = staff
    for user in others:
        ordinary_day(user, on)
    found(one, on, learners(far_adults, age=30, areas=FAR, on=on))
    Run().day(on)
    return one


def test_below_the_minimum_volume_the_user_rule_does_not_judge(college, staff):
    one = third_party_night(staff, 29)
    assert not user_alerts(one).exists()


def test_the_user_rule_can_suspend_the_user_alone_and_a_false_positive_quietens_it(
    college, staff, caseworker
):
    rule = AuditRule.objects.get(code=Code.USER_PURPOSE)
    rule.suspends = True
    rule.save()
    history(staff, last=3)
    one, *others = staff
    run = Run()
    on = day_ago(2)
    for user in others:
        ordinary_day(user, on)
    found(one, on, learners(40, age=30, areas=FAR, on=on))
    run.day(on)
    alert = user_alerts(one).get()
    case = Suspension.objects.get()
    assert (case.subject_type, case.user) == (Suspension.Subject.USER, one)
    college.refresh_from_db()
    assert college.status != college.Status.SUSPENDED
    usage_alert_close(
        alert=alert,
        acting_user=caseworker,
        reason="Recruits adults for the college's national distance courses",
        false_positive=True,
    )
    on = day_ago(1)
    for user in others:
        ordinary_day(user, on)
    found(one, on, learners(40, age=30, areas=FAR, on=on))
    run.day(on)
    assert user_alerts(one).count() == 1  # the same pattern: accepted
    assert run.counts.get("hits_accepted", 0) >= 1


def test_the_user_alert_page_charts_the_users_own_profile(
    college, staff, admin_verified_client
):
    history(staff, days=5)
    on = day_ago(1)
    one, *others = staff
    for user in others:
        ordinary_day(user, on)
    found(one, on, learners(40, age=30, areas=FAR, on=on))
    Run().day(on)
    alert = user_alerts(one).get()
    page = admin_verified_client.get(_admin_url(UsageAlert, alert.pk)).content.decode()
    assert 'id="purpose-profile"' in page
    assert f"What {one.email}&#x27;s own lookups found" in page
    assert "Ages of the learners found" in page
    assert "own_students" in page  # beside what the organisation declared


def test_a_member_who_finds_nobody_that_day_is_not_judged_that_night(college, staff):
    """The window still holds the member's earlier days; a night they looked
    nobody up raises nothing new about them."""
    history(staff, last=3)
    one, *others = staff
    run = Run()
    on = day_ago(2)
    for user in others:
        ordinary_day(user, on)
    # Enough that the window alone (5 days: 120 of 240 adults) still crosses.
    found(one, on, learners(120, age=30, areas=FAR, on=on))
    run.day(on)
    assert user_alerts(one).count() == 1
    on = day_ago(1)
    for user in others:
        ordinary_day(user, on)
    run.day(on)
    assert list(user_alerts(one).values_list("day", flat=True)) == [day_ago(2)]


@pytest.mark.postgres
def test_every_reader_and_the_rewrite_of_purpose_days_take_an_index(college, staff):
    """Each statement of the audit that reads or rewrites PurposeDay, and of the
    admin panel, can take an index (so none scans a year of rows), and a read of
    some users' rows takes the index that leads with the user (so the per-user
    rule's history goes to those users' rows, not every user's of the days)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from records.models import PurposeDay
    from records.purpose_admin import profile_context

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s",
            [PurposeDay._meta.db_table],
        )
        indexes = sorted(name for (name,) in cursor.fetchall())
    assert indexes == [
        "purpose_day_day_org_idx",
        "purpose_day_once_per_org",
        "purpose_day_once_per_user",
        "records_purposeday_pkey",
    ]

    # A member who turns to a third party after ordinary days, so that the
    # per-user rule finds a case and reads that user's own history.
    one = third_party_night(staff, 30)
    assert user_alerts(one).exists()
    runner = Run()
    with CaptureQueriesContext(connection) as queries:
        runner.day(day_ago(1))  # the day again: its rows deleted and rewritten
        profile_context(college, day_ago(4), day_ago(1))
        profile_context(college, day_ago(4), day_ago(1), user_id=one.pk)
    statements = [
        query["sql"]
        for query in queries
        if "records_purposeday" in query["sql"] and "COPY" not in query["sql"]
    ]
    assert any(sql.startswith("DELETE") for sql in statements)
    # Those whose WHERE picks some users (not a HAVING that keeps them).
    by_users = [
        sql for sql in statements if '"user_id" IN (' in sql.split("GROUP BY")[0]
    ]
    assert by_users, "the per-user rule read no user's history"
    with transaction.atomic(), connection.cursor() as cursor:
        # The test's table is tiny; the night's is not: a scan of it never wins.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on records_purposeday" not in plan, (sql, plan)
        # On a table this small the planner may as well read the days' range of
        # (day, organisation); without it, a read of some users' history must go
        # to their rows by (user, organisation, day), not walk every user's.
        cursor.execute("DROP INDEX purpose_day_day_org_idx")
        for sql in by_users:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            lines = plan.splitlines()
            at = next(
                i
                for i, line in enumerate(lines)
                if "purpose_day_once_per_user on" in line
            )
            condition = lines[at + 1].strip()
            assert condition.startswith("Index Cond: ((user_id ="), (sql, plan)
        transaction.set_rollback(True)  # the index stays
