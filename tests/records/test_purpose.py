"""The purpose profile and the purpose rules of the nightly audit (issue 13): what
lookups are for, measured from the log joined to learners."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from records.audit_defaults import PURPOSE_RULES
from records.jobs import audit_usage_run
from records.models import AuditRule, Learner, LearnerView, PurposeDay, UsageAlert
from records.postcodes import address_area, distance_km, postcode_area
from records.purpose_profile import age_band, learner_stamp
from records.services import usage_alert_close
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import nth_uln

pytestmark = pytest.mark.django_db
A = LearnerView.Action
OUT = LearnerView.Outcome
Code = AuditRule.Code
# Areas far from Leeds (LS), and near it.
FAR = ("E", "SW", "B", "BS", "CF", "G", "EH", "PL", "NR", "BT", "SO", "CT")
NEAR = ("LS", "BD", "WF", "HX")


class Run:
    """The audit of one day at a time, as the nightly job runs it."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def day(self, day: date) -> None:
        run = audit_usage_run(day=day)
        assert run is not None
        self.counts = run.counts


_next = iter(range(1, 10**6))


def learners(n: int, *, age: int, areas: tuple[str, ...], on: date) -> list[str]:
    """n learners aged age on the day, living in the areas in turn: their ULNs."""
    born = on.replace(year=on.year - age) - timedelta(days=30)
    rows = [
        Learner(
            uln=nth_uln(next(_next)),
            given_name="Sam",
            family_name="Jones",
            date_of_birth=born,
            gender=Learner.Gender.FEMALE,
            postcode=f"{areas[i % len(areas)]}1 1AA",
        )
        for i in range(n)
    ]
    Learner.objects.bulk_create(rows)
    return [row.uln for row in rows]


def found(
    user, day, ulns, *, action=A.SEARCH_DEMOGRAPHICS, channel="page", stamped=True
):
    """A search that found each learner, in working hours, its row stamped with
    the learner's band and area as the lookups stamp it
    (records.services.learner_view_log); not stamped: as rows logged before
    searches were."""
    moment = datetime.combine(day, time(10), tzinfo=UTC)
    by_uln = Learner.objects.in_bulk(ulns, field_name="uln") if stamped else {}
    stamps = {uln: learner_stamp(learner, day) for uln, learner in by_uln.items()}
    LearnerView.objects.bulk_create(
        LearnerView(
            user=user,
            organisation=user.membership.organisation,
            action=action,
            outcome=OUT.EXACT_MATCH,
            viewed_at=moment + timedelta(seconds=i),
            learner_uln=uln,
            channel=channel,
            learner_age_band=stamps.get(uln, (None, ""))[0],
            learner_area=stamps.get(uln, (None, ""))[1],
        )
        for i, uln in enumerate(ulns)
    )


def alerts(organisation, rule=None):
    rows = UsageAlert.objects.filter(organisation=organisation, rule__in=PURPOSE_RULES)
    return rows.filter(rule=rule) if rule else rows


@pytest.fixture
def college():
    """A Leeds college (registered address LS2 9JT) declaring 20,000 a year, so
    that no volume rule is near."""
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create(),
        estimated_learners_per_year=20_000,
    )


@pytest.fixture
def searcher(college):
    member_of(college, super_user=True)
    return member_of(college)


def day_ago(n: int) -> date:
    return timezone.now().date() - timedelta(days=n)


def ordinary_history(searcher, days: int, *, last: int = 1) -> None:
    """Days of a college's ordinary lookups: 40 a day, 16-year-olds from nearby,
    one in four by details."""
    run = Run()
    for back in range(last + days - 1, last - 1, -1):
        on = day_ago(back)
        found(
            searcher, on, learners(30, age=16, areas=NEAR, on=on), action=A.SEARCH_ULN
        )
        found(searcher, on, learners(10, age=16, areas=NEAR, on=on))
        run.day(on)


# --- postcodes ---------------------------------------------------------------------


def test_a_postcodes_area_is_its_leading_letters_if_the_file_knows_it():
    assert postcode_area("ls2 9jt") == "LS"
    assert postcode_area("B15 2TT") == "B"
    assert postcode_area("BFPO 1234") is None
    assert postcode_area("QQ1 1AA") is None
    assert postcode_area("") is None


def test_a_registered_address_area_is_its_last_postcode():
    assert address_area("1 Leeds Road\nBradford\nBD1 1AA") == "BD"
    assert address_area("Unit 4, M1 Estate\nLeeds LS11 5QT") == "LS"
    assert address_area("Somewhere with no postcode") is None


def test_distances_between_areas_are_about_right_and_unknown_is_none():
    leeds_london = distance_km("LS", "WC")
    assert leeds_london is not None
    assert 250 < leeds_london < 300  # about 270 km as the crow flies
    assert distance_km("LS", "LS") == 0
    assert distance_km("LS", "QQ") is None


# --- the profile ---------------------------------------------------------------------


def test_the_profile_counts_ages_areas_and_distances_per_organisation_and_user(
    searcher, college
):
    on = day_ago(1)
    found(searcher, on, learners(6, age=16, areas=("LS",), on=on), action=A.SEARCH_ULN)
    found(searcher, on, learners(3, age=45, areas=("SW",), on=on))
    found(searcher, on, learners(1, age=30, areas=("QQ",), on=on), channel="api")
    Run().day(on)
    whole = PurposeDay.objects.get(organisation=college, user=None, day=on)
    mine = PurposeDay.objects.get(organisation=college, user=searcher, day=on)
    for row in (whole, mine):
        assert (row.searches, row.detail_searches, row.found) == (10, 4, 10)
        assert row.age_bands == [0, 6, 0, 0, 1, 3, 0]
        assert row.adults == 4
        assert row.areas == {"LS": 6, "SW": 3, "?": 1}
        # The unknown area is unknown, not near: 6 of the 9 known are near.
        assert (row.near, row.known) == (6, 9)
        assert row.distance_bands == [6, 0, 0, 0, 0, 3, 1]


def test_a_search_that_finds_a_learner_stamps_their_band_and_area_not_more(
    searcher, college
):
    from records.services import learner_search_by_uln

    on = timezone.now().date()
    (uln,) = learners(1, age=17, areas=("SW",), on=on)
    learner_search_by_uln(user=searcher, uln=uln, request_id="r")
    learner_search_by_uln(user=searcher, uln=nth_uln(999_999), request_id="r")
    hit, miss = LearnerView.objects.order_by("id")
    assert (hit.learner_age_band, hit.learner_area) == (2, "SW")  # 17-19
    assert (miss.learner_age_band, miss.learner_area) == (None, "")
    learner = Learner.objects.get(uln=uln)
    row = str(LearnerView.objects.filter(pk=hit.pk).values().get())
    assert learner.postcode not in row
    assert learner.date_of_birth.isoformat() not in row


def test_age_bands_start_on_the_birthday_and_29_february_on_1_march():
    assert age_band(date(2010, 6, 2), date(2024, 6, 1)) == 0  # 13 the day before
    assert age_band(date(2010, 6, 1), date(2024, 6, 1)) == 1  # 14 on the day
    assert age_band(date(2004, 6, 1), date(2024, 6, 1)) == 3  # 20: an adult
    assert age_band(date(1959, 6, 1), date(2024, 6, 1)) == 6  # 65
    assert age_band(date(2008, 2, 29), date(2022, 2, 28)) == 0
    assert age_band(date(2008, 2, 29), date(2022, 3, 1)) == 1


def test_stamped_and_unstamped_rows_give_the_same_profile(searcher, college):
    """A day logged before the stamp is joined to the learners instead; a day
    with both counts each once."""
    days = day_ago(3), day_ago(2), day_ago(1)
    for on, stamped in zip(days, (True, False, None), strict=True):
        for ages, areas, action in ((16, NEAR, A.SEARCH_ULN), (45, FAR, None)):
            ulns = learners(6, age=ages, areas=areas, on=on)
            if stamped is None:  # half of each
                found(searcher, on, ulns[:3], action=action or A.SEARCH_DEMOGRAPHICS)
                found(
                    searcher, on, ulns[3:], action=action or A.SEARCH_DEMOGRAPHICS,
                    stamped=False,
                )  # fmt: skip
            else:
                found(
                    searcher, on, ulns, action=action or A.SEARCH_DEMOGRAPHICS,
                    stamped=stamped,
                )  # fmt: skip
        Run().day(on)
    scalars = ("searches", "detail_searches", "found", "adults", "near", "known")
    fields = (*scalars, "age_bands", "distance_bands", "areas")
    rows = [
        PurposeDay.objects.filter(organisation=college, user=None, day=on)
        .values(*fields)
        .get()
        for on in days
    ]
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["found"] == 12


def test_a_night_of_stamped_lookups_is_one_scan_with_no_join_to_the_register(
    searcher, college
):
    """The purpose profile of a day logged with stamps is counted in the counts
    scan itself: no statement of the audit reads the learners, and the counts'
    plan reads the day's rows once and joins nothing."""
    import re

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from records.audit_counts import counts_query, day_bounds

    on = day_ago(1)
    found(searcher, on, learners(5, age=16, areas=("LS",), on=on), action=A.SEARCH_ULN)
    found(searcher, on, learners(5, age=40, areas=FAR, on=on))
    register = re.compile(r'"?records_learner"?(?![a-z_])')
    with CaptureQueriesContext(connection) as queries:
        Run().day(on)
    assert not [q["sql"] for q in queries if register.search(q["sql"])]
    row = PurposeDay.objects.get(organisation=college, user=None, day=on)
    assert (row.found, row.adults, row.near, row.known) == (10, 5, 5, 10)

    sql, params = counts_query(*day_bounds(on))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Join" not in plan
    assert "Nested Loop" not in plan
    assert not register.search(plan)
    scans = [line for line in plan.splitlines() if "Scan" in line]
    assert scans
    assert all("records_learnerview" in line for line in scans)


@pytest.mark.postgres
def test_the_profile_probes_the_uln_index_and_leaves_the_audits_plans_alone(
    searcher, college
):
    """The day's exact matches join the register by its ULN unique index, never
    by hashing or sorting every learner; the settings that make it so are the
    purpose statement's alone."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from records.purpose_days import _found_sql, purpose_days_write

    on = day_ago(1)
    found(
        searcher, on, learners(5, age=16, areas=("LS",), on=on), action=A.SEARCH_ULN,
        stamped=False,
    )  # fmt: skip
    sql, params = _found_sql(on)
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_memoize"):
            cursor.execute(f"SET LOCAL {setting} = off")
        # The test's register is tiny; the night's is not: a scan of it never wins.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Nested Loop" in plan
    assert "learner_uln_unique" in plan
    assert "Hash Join" not in plan
    assert "Merge Join" not in plan

    with transaction.atomic(), connection.cursor() as cursor:
        with CaptureQueriesContext(connection) as queries:
            purpose_days_write(on, [])
        ran = [query["sql"] for query in queries]
        at = next(i for i, q in enumerate(ran) if "records_learner" in q)
        assert ran[at - 3 : at] == [
            "SET LOCAL enable_hashjoin = off",
            "SET LOCAL enable_mergejoin = off",
            "SET LOCAL enable_memoize = off",
        ]
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_memoize"):
            cursor.execute(f"SHOW {setting}")
            assert cursor.fetchone() == ("on",)


def test_the_profile_holds_no_postcode_or_date_of_birth(searcher, college):
    on = day_ago(1)
    ulns = learners(5, age=40, areas=("SW",), on=on)
    found(searcher, on, ulns)
    Run().day(on)
    stored = str(list(PurposeDay.objects.values()))
    for learner in Learner.objects.filter(uln__in=ulns):
        assert learner.postcode not in stored
        assert learner.date_of_birth.isoformat() not in stored
        assert learner.uln not in stored


def test_a_search_that_found_nobody_or_several_adds_nobody_found(searcher, college):
    on = day_ago(1)
    moment = datetime.combine(on, time(10), tzinfo=UTC)
    for outcome in (OUT.NO_MATCH, OUT.POSSIBLE_MATCHES):
        LearnerView.objects.create(
            user=searcher, organisation=college, action=A.SEARCH_DEMOGRAPHICS,
            outcome=outcome, viewed_at=moment,
        )  # fmt: skip
    Run().day(on)
    whole = PurposeDay.objects.get(organisation=college, user=None, day=on)
    assert (whole.searches, whole.found) == (2, 0)


def test_auditing_a_day_again_rewrites_its_profile(searcher, college):
    on = day_ago(1)
    found(searcher, on, learners(3, age=16, areas=("LS",), on=on))
    run = Run()
    run.day(on)
    found(searcher, on, learners(2, age=16, areas=("LS",), on=on))
    run.day(on)
    assert PurposeDay.objects.filter(day=on).count() == 2  # the college and its user
    assert PurposeDay.objects.get(organisation=college, user=None, day=on).found == 5


# --- the rules ------------------------------------------------------------------------


def test_an_ordinary_college_raises_no_purpose_alert(searcher, college):
    ordinary_history(searcher, 12)
    assert not alerts(college).exists()


def test_a_screening_firm_finding_adults_from_everywhere_is_alerted_with_figures(
    searcher, college
):
    on = day_ago(1)
    ulns = learners(60, age=30, areas=FAR, on=on) + learners(
        60, age=50, areas=FAR, on=on
    )
    found(searcher, on, ulns)
    Run().day(on)
    raised = {alert.rule: alert for alert in alerts(college)}
    assert set(raised) == {Code.AGE_PROFILE, Code.GEOGRAPHIC_SPREAD, Code.DETAIL_SHARE}
    age = raised[Code.AGE_PROFILE]
    assert age.value == Decimal("1.00")
    assert age.threshold == Decimal("0.80")
    assert (
        "100% of the 120 learners found in 5 days were aged 20 or over" in age.details
    )
    assert "25-39: 50%" in age.details
    assert "40-64: 50%" in age.details
    assert "0% of the 120 with a known area lived within 50 km" in age.details
    assert "(LS)" in age.details
    assert "12 postcode areas" in age.details
    assert "Too little history" in age.details
    assert raised[Code.GEOGRAPHIC_SPREAD].value == Decimal("0.00")


def test_below_the_minimum_volume_no_purpose_rule_judges(searcher, college):
    on = day_ago(1)
    found(searcher, on, learners(59, age=30, areas=FAR, on=on))
    Run().day(on)
    assert not alerts(college).exists()


def test_the_api_and_batch_channels_count_as_the_pages_do(searcher, college):
    on = day_ago(1)
    found(searcher, on, learners(60, age=30, areas=FAR, on=on), channel="api")
    found(searcher, on, learners(60, age=30, areas=FAR, on=on), channel="batch")
    Run().day(on)
    assert alerts(college, Code.AGE_PROFILE).exists()


def test_an_adult_provider_near_home_is_judged_against_its_own_history(
    searcher, college
):
    """An adult community learning provider audited before the purpose rules
    existed: its earlier days' profiles are measured from the log on the first
    night, so a window of adults is its usual pattern, not an alert."""

    def switch(on: bool) -> None:
        for rule in AuditRule.objects.filter(code__in=PURPOSE_RULES):
            rule.enabled = on
            rule.save()

    switch(False)  # as before this change
    run = Run()
    for back in range(12, 0, -1):
        on = day_ago(back)
        found(
            searcher, on, learners(40, age=45, areas=NEAR, on=on), action=A.SEARCH_ULN
        )
        if back > 1:
            run.day(on)
    PurposeDay.objects.all().delete()
    switch(True)
    run.day(day_ago(1))
    assert run.counts["profile_days_filled"] == 11
    assert not alerts(college).exists()
    # A new provider with the same pattern and no history is alerted on it.
    newcomer = member_of(OrganisationFactory.create(estimated_learners_per_year=20_000))
    found(newcomer, day_ago(1), learners(120, age=45, areas=NEAR, on=day_ago(1)))
    run.day(day_ago(1))
    assert alerts(newcomer.membership.organisation, Code.AGE_PROFILE).exists()


def test_unknown_areas_never_make_a_far_search_look_near(searcher, college):
    on = day_ago(1)
    found(
        searcher, on, learners(100, age=18, areas=("QQ",), on=on), action=A.SEARCH_ULN
    )
    found(searcher, on, learners(100, age=18, areas=FAR, on=on), action=A.SEARCH_ULN)
    Run().day(on)
    spread = alerts(college, Code.GEOGRAPHIC_SPREAD).get()
    assert "0% of the 100 with a known area" in spread.details


def test_with_no_known_registered_area_distances_are_not_judged(searcher, college):
    college.registered_address = "1 Nowhere Lane"
    college.save()
    on = day_ago(1)
    found(searcher, on, learners(150, age=30, areas=FAR, on=on))
    Run().day(on)
    assert not alerts(college, Code.GEOGRAPHIC_SPREAD).exists()
    age = alerts(college, Code.AGE_PROFILE).get()
    assert "no postcode area we know" in age.details


def test_a_provider_that_starts_searching_for_a_third_party_is_alerted_that_night(
    searcher, college
):
    ordinary_history(searcher, 10, last=2)
    on = day_ago(1)
    found(searcher, on, learners(30, age=16, areas=NEAR, on=on), action=A.SEARCH_ULN)
    found(searcher, on, learners(30, age=35, areas=FAR, on=on))
    Run().day(on)
    change = alerts(college, Code.PURPOSE_CHANGE).get()
    assert change.day == on
    assert "Today 50% of the 60 learners found were aged 20 or over, against 0%" in (
        change.details
    )
    assert "400 learners found" in change.details  # 10 days of 40
    assert change.value == Decimal("0.50")


def test_a_change_rule_marked_suspending_suspends_the_organisation(searcher, college):
    rule = AuditRule.objects.get(code=Code.PURPOSE_CHANGE)
    rule.suspends = True
    rule.save()
    ordinary_history(searcher, 10, last=2)
    on = day_ago(1)
    found(searcher, on, learners(40, age=35, areas=FAR, on=on))
    Run().day(on)
    college.refresh_from_db()
    assert college.status == college.Status.SUSPENDED


def test_alerted_days_are_left_out_of_the_history_a_change_is_judged_against(
    searcher, college
):
    """A reseller alerted on its first day is alerted again on its second: its
    first day is not learnt as its usual pattern."""
    ordinary_history(searcher, 10, last=3)
    run = Run()
    for back in (2, 1):
        on = day_ago(back)
        found(searcher, on, learners(60, age=35, areas=FAR, on=on))
        run.day(on)
    assert set(alerts(college, Code.PURPOSE_CHANGE).values_list("day", flat=True)) == {
        day_ago(2),
        day_ago(1),
    }


# --- false positives ---------------------------------------------------------------


def _adults_far(searcher, on, n=120, *, near=0):
    found(searcher, on, learners(n - near, age=30, areas=FAR, on=on))
    if near:
        found(searcher, on, learners(near, age=30, areas=NEAR, on=on))


def test_a_false_positive_stops_the_same_pattern_alerting_until_it_changes(
    searcher, college, caseworker
):
    run = Run()
    first = day_ago(3)
    _adults_far(searcher, first, near=18)  # 15% within 50 km
    run.day(first)
    spread = alerts(college, Code.GEOGRAPHIC_SPREAD).get()
    assert spread.value == Decimal("0.15")
    for alert in alerts(college):
        usage_alert_close(
            alert=alert,
            acting_user=caseworker,
            reason="A national recruitment agency for adult courses, checked by phone",
            false_positive=True,
        )
    # The next day, the same pattern: accepted, no new alert.
    second = day_ago(2)
    _adults_far(searcher, second, near=18)
    run.day(second)
    assert not alerts(college).filter(day=second).exists()
    assert run.counts.get("hits_accepted", 0) >= 1
    # Then it changes: nobody near any more, over 10 points further.
    third = day_ago(1)
    _adults_far(searcher, third, n=900)
    run.day(third)
    again = alerts(college, Code.GEOGRAPHIC_SPREAD).filter(day=third).get()
    assert again.value < spread.value - Decimal("0.10")


def test_an_alert_closed_without_being_a_false_positive_does_not_quieten_its_rule(
    searcher, college, caseworker
):
    run = Run()
    _adults_far(searcher, day_ago(2))
    run.day(day_ago(2))
    for alert in alerts(college):
        usage_alert_close(alert=alert, acting_user=caseworker, reason="Spoke to them")
    _adults_far(searcher, day_ago(1))
    run.day(day_ago(1))
    assert alerts(college, Code.AGE_PROFILE).filter(day=day_ago(1)).exists()


def test_the_purpose_rules_are_rows_with_history_and_can_be_switched_off(
    searcher, college
):
    for code in PURPOSE_RULES:
        rule = AuditRule.objects.get(code=code)
        assert rule.description
        assert rule.history.exists() or rule.pk
    rule = AuditRule.objects.get(code=Code.AGE_PROFILE)
    rule.enabled = False
    rule.save()
    on = day_ago(1)
    _adults_far(searcher, on)
    Run().day(on)
    assert not alerts(college, Code.AGE_PROFILE).exists()
    assert alerts(college, Code.GEOGRAPHIC_SPREAD).exists()


# --- admin ---------------------------------------------------------------------------


def _admin_url(model, pk):
    from django.urls import reverse

    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk]
    )


def test_the_alert_page_charts_the_profile_it_judged_beside_the_declared_purpose(
    searcher, college, admin_verified_client
):
    on = day_ago(1)
    ulns = learners(60, age=30, areas=FAR, on=on) + learners(
        60, age=16, areas=NEAR, on=on
    )
    found(searcher, on, ulns)
    Run().day(on)
    alert = alerts(college, Code.AGE_PROFILE).first() or alerts(college).first()
    assert alert is not None
    page = admin_verified_client.get(_admin_url(UsageAlert, alert.pk)).content.decode()
    assert 'id="purpose-profile"' in page
    assert "Ages of the learners found" in page
    assert "Distance from the registered address" in page
    assert "<svg" in page
    assert "the same figures as a table" in page
    assert "own_students" in page  # what it declared
    assert "20,000" in page
    assert searcher.email in page  # the per-user table
    for learner in Learner.objects.filter(uln__in=ulns[:5]):
        assert learner.postcode not in page
        assert learner.uln not in page


def test_the_organisation_page_charts_its_last_28_days(
    searcher, college, admin_verified_client
):
    ordinary_history(searcher, 3)
    page = admin_verified_client.get(
        _admin_url(college._meta.model, college.pk)
    ).content.decode()
    assert 'id="purpose-profile"' in page
    assert "120 learners found" in page or "of the 120 learners found" in page
    assert "14-16" in page
    assert (
        'style="' not in page.split('id="purpose-profile"')[1].split("</fieldset>")[0]
    )


def test_an_organisation_with_no_lookups_says_so(college, admin_verified_client):
    page = admin_verified_client.get(
        _admin_url(college._meta.model, college.pk)
    ).content.decode()
    assert "No learners found in these days." in page


def _audit_queries(on: date) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        Run().day(on)
    return len(queries)


def test_the_audits_queries_do_not_grow_with_the_organisations_that_hit():
    """The windows' words, the histories and the alerts are read and written for
    all organisations at once: three screening firms take the queries of one."""
    Run().day(day_ago(3))  # the rules are made on a day with no lookups

    def firms(n: int, on: date) -> list[Organisation]:
        made = []
        for _ in range(n):
            firm = OrganisationFactory.create(
                last_signed_version=AgreementVersionFactory.create(),
                estimated_learners_per_year=20_000,
            )
            member_of(firm, super_user=True)
            found(member_of(firm), on, learners(80, age=30, areas=FAR, on=on))
            made.append(firm)
        return made

    one = firms(1, day_ago(2))
    first = _audit_queries(day_ago(2))
    three = firms(3, day_ago(1))
    again = _audit_queries(day_ago(1))
    assert all(alerts(firm).count() == 3 for firm in one + three)
    assert again == first
