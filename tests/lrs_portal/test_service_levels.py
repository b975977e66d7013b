"""Service levels on caseworkers' queues (issue 14, decision 0032): ages in
working days (England and Wales bank holidays), overdue items marked in words
and filtered, counts on the admin home, with a bounded number of queries.

Items are placed in time relative to today through the working-day helper, so
the tests hold on any day, weekends and bank holidays included."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import DataShareRequest
from lrs_portal.working_days import (
    ENGLAND_AND_WALES_BANK_HOLIDAYS,
    parse_holidays,
    working_day_back,
    working_days_between,
)
from registration.models import Organisation, RegistrationApplication, Suspension
from tests.approvals.factories import DataShareRequestFactory
from tests.conftest import verified_client
from tests.factories import OrganisationFactory, RegistrationApplicationFactory

pytestmark = pytest.mark.django_db
A = RegistrationApplication.Status
CHANGELIST = "admin:registration_registrationapplication_changelist"


# --- working days ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 12, 7), date(2026, 12, 7), 0),  # the same day
        (date(2026, 12, 7), date(2026, 12, 8), 1),  # Monday to Tuesday
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # Friday to Monday
        (date(2026, 12, 4), date(2026, 12, 6), 0),  # Friday to Sunday
        (date(2026, 12, 7), date(2026, 12, 21), 10),  # two weeks
        # Christmas Day (Friday) and Boxing Day's substitute (Monday 28th).
        (date(2026, 12, 24), date(2026, 12, 29), 1),
        # Good Friday and Easter Monday 2027.
        (date(2027, 3, 25), date(2027, 3, 30), 1),
        (date(2026, 12, 21), date(2026, 12, 7), 0),  # backwards
    ],
)
def test_working_days_between(start, end, days):
    assert working_days_between(start, end) == days


def test_the_holidays_come_from_the_setting(settings):
    settings.BANK_HOLIDAYS = ()
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 3


def test_the_overdue_boundary_agrees_with_the_count():
    """An item is overdue (more than n working days old) exactly when it began
    before the (n+1)th working day back from today."""
    for today in (date(2026, 12, 20) + timedelta(days=k) for k in range(20)):
        for days in (1, 5, 10):
            first_late = working_day_back(today, days + 1)
            for back in range(40):
                start = today - timedelta(days=back)
                assert (start < first_late) == (
                    working_days_between(start, today) > days
                ), (today, days, start)


def test_the_default_list_holds_eight_holidays_a_year():
    years = [day.year for day in ENGLAND_AND_WALES_BANK_HOLIDAYS]
    assert {year: years.count(year) for year in set(years)} == {
        2025: 8,
        2026: 8,
        2027: 8,
        2028: 8,
    }
    assert all(day.weekday() < 5 for day in ENGLAND_AND_WALES_BANK_HOLIDAYS)


def test_the_setting_reads_iso_dates_and_refuses_others():
    assert parse_holidays("2029-01-01, 2029-03-30") == (
        date(2029, 1, 1),
        date(2029, 3, 30),
    )
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_holidays("1 January 2029")


# --- the queues in admin ------------------------------------------------------------


def _waiting_since(working_days: int) -> datetime:
    """A moment that is exactly this many working days ago."""
    today = timezone.localdate()
    day = working_day_back(today, working_days + 1)
    return timezone.make_aware(datetime.combine(day, time(10)))


def _late_by_a_day(service_level: int) -> datetime:
    return _waiting_since(service_level) - timedelta(days=1)


def _application(since, **extra):
    return RegistrationApplicationFactory.create(
        **{"status": A.SUBMITTED, "submitted_at": since, **extra}
    )


def test_the_applications_queue_shows_ages_and_marks_the_overdue_in_words(caseworker):
    on_time = _application(_waiting_since(10), legal_name="ON TIME LIMITED")
    late = _application(_late_by_a_day(10), legal_name="LATE LIMITED")
    client = verified_client(caseworker)

    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Working days waiting" in page
    assert "10 of 10" in page
    assert "Overdue: 11 of 10" in page

    overdue = client.get(reverse(CHANGELIST), {"service_level": "overdue"})
    listed = [row.pk for row in overdue.context["cl"].result_list]
    assert listed == [late.pk]
    assert on_time.pk not in listed


def test_an_application_waiting_for_the_applicant_is_not_overdue(caseworker):
    _application(_late_by_a_day(10), status=A.MORE_INFO_REQUESTED)
    response = verified_client(caseworker).get(
        reverse(CHANGELIST), {"service_level": "overdue", "queue": "all"}
    )
    assert list(response.context["cl"].result_list) == []


def test_the_changelists_queries_do_not_grow_with_the_queue(
    caseworker, django_assert_max_num_queries
):
    client = verified_client(caseworker)
    for _ in range(2):
        _application(_late_by_a_day(10))
    client.get(reverse(CHANGELIST))  # warm the session and permissions
    with django_assert_max_num_queries(40) as few:
        client.get(reverse(CHANGELIST))
    for _ in range(8):
        _application(_late_by_a_day(10))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse(CHANGELIST))


def _suspension(organisation, since, status=Suspension.Status.OPEN):
    return Suspension.objects.create(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.USAGE_AUDIT,
        cause="org_volume",
        day=timezone.localdate(since),
        reason="Searches far above the declared volume",
        status=status,
        opened_at=since,
    )


def test_the_admin_home_counts_each_queue_and_links_to_its_overdue(caseworker):
    _application(_late_by_a_day(10))
    _application(_late_by_a_day(10))
    _application(_waiting_since(1))
    organisation = OrganisationFactory.create(status=Organisation.Status.SUSPENDED)
    _suspension(organisation, _late_by_a_day(5))
    _suspension(organisation, _late_by_a_day(6), status=Suspension.Status.UPHELD)
    DataShareRequestFactory.create(
        status=DataShareRequest.Status.SUBMITTED, stage_entered_at=_waiting_since(3)
    )

    response = verified_client(caseworker).get(reverse("admin:index"))
    rows = {row["label"]: row for row in response.context["service_levels"]}
    applications = rows["Registration applications waiting for vetting"]
    assert (applications["waiting"], applications["overdue"]) == (3, 2)
    suspensions = rows["Suspension cases waiting for a decision"]
    assert (suspensions["waiting"], suspensions["overdue"]) == (1, 1)
    shares = rows["Data share requests waiting in their stage"]
    assert (shares["waiting"], shares["overdue"]) == (1, 0)

    page = response.content.decode()
    assert "2 overdue" in page
    assert "None overdue" in page  # the data share requests, in words
    assert reverse(CHANGELIST) + "?queue=submitted&amp;service_level=overdue" in page
    followed = verified_client(caseworker).get(applications["link"])
    assert len(followed.context["cl"].result_list) == 2


def test_the_admin_homes_queries_do_not_grow_with_the_queues(
    caseworker, django_assert_max_num_queries
):
    client = verified_client(caseworker)
    _application(_late_by_a_day(10))
    client.get(reverse("admin:index"))
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("admin:index"))
    for _ in range(10):
        _application(_late_by_a_day(10))
        _application(_waiting_since(2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("admin:index"))


def test_an_assessor_counts_only_the_requests_they_can_see(assessor):
    DataShareRequestFactory.create(
        status=DataShareRequest.Status.ASSESSMENT,
        stage_entered_at=_late_by_a_day(20),
    )
    response = verified_client(assessor).get(reverse("admin:index"))
    rows = {row["label"]: row for row in response.context["service_levels"]}
    assert "Registration applications waiting for vetting" not in rows
    shares = rows["Data share requests waiting in their stage"]
    assert (shares["waiting"], shares["overdue"]) == (0, 0)


def test_the_deploy_check_warns_when_the_holidays_run_out(settings):
    from lrs_portal.checks import check_bank_holidays

    next_year = timezone.localdate().year + 1
    settings.BANK_HOLIDAYS = (date(next_year, 12, 25),)
    assert check_bank_holidays() == []
    settings.BANK_HOLIDAYS = (date(next_year - 1, 12, 25),)
    (warning,) = check_bank_holidays()
    assert warning.id == "lrs_portal.W008"
