"""The yearly confirmation of registration (issue 14, decision 0031): opening
before the anniversary, the reminders, the answers and the caseworker's case,
the suspension through the housekeeping ladder (and its dry run), the job run
twice, admin and the timeline."""

from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import JobRun, Notification
from records.permissions import REFUSALS, lookup_refusal
from registration.admin.timeline import organisation_timeline
from registration.models import (
    Organisation,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services import reverification_resolve, suspension_reinstate
from registration.services.housekeeping import housekeeping_plan, housekeeping_run
from registration.services.yearly_confirmation import (
    CAUSE,
    Answers,
    YearlyConfirmationRefused,
    anniversary_next,
    reminder_days,
    suspension_day,
    yearly_confirmation_answer,
    yearly_confirmation_open,
    yearly_confirmation_run,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    member_of,
    officer_item,
    officers_snapshot,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
STATUS = YearlyConfirmation.Status
Reason = ReverificationCase.Reason


def _at(day: date) -> datetime:
    """Noon, UK time, on the day."""
    return timezone.make_aware(datetime.combine(day, time(12)))


def _registered_days_ago(days: int, **kwargs) -> Organisation:
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory(),
        registered_at=timezone.now() - timedelta(days=days),
        **kwargs,
    )


@pytest.fixture
def organisation():
    # The anniversary is 20 days away: its confirmation opens now.
    return _registered_days_ago(345)


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True, full_name="Sam Super")


@pytest.fixture
def confirmation(organisation, super_user):
    opened = yearly_confirmation_open(organisation=organisation)
    assert opened is not None
    return opened


def _due(organisation, due_on: date, **kwargs) -> YearlyConfirmation:
    return YearlyConfirmation.objects.create(
        organisation=organisation,
        anniversary=due_on,
        due_on=due_on,
        opened_at=_at(due_on - timedelta(days=30)),
        **kwargs,
    )


def _nothing_changed(organisation) -> Answers:
    return Answers(
        purpose_change=None,
        learners_per_year=organisation.estimated_learners_per_year,
        awarding_organisations_change=None,
        director_in_office=True,
    )


# --- dates ----------------------------------------------------------------------------


def test_the_anniversary_is_the_next_one_on_or_after_today():
    registered = date(2025, 3, 10)
    assert anniversary_next(registered, date(2025, 3, 10)) == date(2026, 3, 10)
    assert anniversary_next(registered, date(2026, 3, 10)) == date(2026, 3, 10)
    assert anniversary_next(registered, date(2026, 3, 11)) == date(2027, 3, 10)
    assert anniversary_next(registered, date(2025, 12, 7)) == date(2026, 3, 10)


def test_a_leap_day_registration_falls_due_on_28_february_in_other_years():
    assert anniversary_next(date(2024, 2, 29), date(2024, 6, 1)) == date(2025, 2, 28)
    assert anniversary_next(date(2024, 2, 29), date(2027, 6, 1)) == date(2028, 2, 29)


def test_reminders_fall_a_week_before_it_is_due_on_the_day_and_before_suspension(
    confirmation,
):
    due = confirmation.due_on
    assert suspension_day(confirmation) == due + timedelta(days=30)
    assert reminder_days(confirmation) == [
        due - timedelta(days=7),
        due,
        due + timedelta(days=23),
    ]


# --- opening --------------------------------------------------------------------------


def test_it_opens_thirty_days_before_the_anniversary_and_emails_each_super_user(
    organisation, super_user
):
    second = member_of(organisation, super_user=True)
    closed = member_of(organisation, super_user=True, is_active=False)
    user = member_of(organisation)
    anniversary = anniversary_next(
        timezone.localdate(organisation.registered_at), timezone.localdate()
    )

    too_early = _at(anniversary - timedelta(days=31))
    assert yearly_confirmation_open(organisation=organisation, now=too_early) is None
    opened = yearly_confirmation_open(
        organisation=organisation, now=_at(anniversary - timedelta(days=30))
    )

    assert opened is not None
    assert (opened.anniversary, opened.due_on) == (anniversary, anniversary)
    assert opened.status == STATUS.PENDING
    emails = Notification.objects.filter(kind="yearly_confirmation.opened")
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        [super_user.email, second.email]
    )
    assert not emails.filter(to__in=[closed.email, user.email]).exists()
    email = emails.first()
    assert email.reference == f"yearly_confirmation.{opened.pk}.opened"
    assert "/organisation/confirmation/" in email.body
    assert f"{anniversary.day} {anniversary:%B %Y}" in email.body
    record = opened.history.get()
    assert record.history_change_reason == "Year's confirmation opened"
    assert record.history_user.email == "system@lrs-portal.invalid"


def test_an_organisation_registered_less_than_eleven_months_ago_is_not_asked():
    organisation = _registered_days_ago(200)
    member_of(organisation, super_user=True)

    assert yearly_confirmation_open(organisation=organisation) is None
    assert not YearlyConfirmation.objects.exists()


def test_the_job_run_twice_opens_one_and_sends_one_email(organisation, super_user):
    suspended = _registered_days_ago(345, status=Organisation.Status.SUSPENDED)
    member_of(suspended, super_user=True)

    first = yearly_confirmation_run()
    second = yearly_confirmation_run()

    assert first.opened == 1
    assert second.opened == 0
    confirmation = YearlyConfirmation.objects.get()
    assert confirmation.organisation == organisation
    assert Notification.objects.filter(kind="yearly_confirmation.opened").count() == 1
    runs = JobRun.objects.filter(job="yearly_confirmation").order_by("pk")
    assert [run.counts for run in runs] == [{"confirmations_opened": 1}, {}]


# --- reminders ------------------------------------------------------------------------


def _reminders():
    return Notification.objects.filter(kind="yearly_confirmation.reminder")


def test_each_reminder_is_sent_once_on_its_day(confirmation, super_user):
    due = confirmation.due_on

    yearly_confirmation_run(now=_at(due - timedelta(days=8)))
    assert not _reminders().exists()

    yearly_confirmation_run(now=_at(due - timedelta(days=7)))
    yearly_confirmation_run(now=_at(due - timedelta(days=7)))
    [week_before] = _reminders()
    assert week_before.to == super_user.email
    assert f"It is due on {due.day} {due:%B %Y}" in week_before.body

    yearly_confirmation_run(now=_at(due))
    yearly_confirmation_run(now=_at(due + timedelta(days=23)))
    assert _reminders().count() == 3
    last = _reminders().latest("pk")
    suspended = due + timedelta(days=30)
    assert last.subject == (
        "Your organisation's LRS access will be suspended on "
        f"{suspended.day} {suspended:%B %Y}"
    )
    assert last.reference.endswith(f"{due + timedelta(days=23):%Y%m%d}")
    yearly_confirmation_run(now=_at(due + timedelta(days=29)))
    assert _reminders().count() == 3


def test_a_missed_day_sends_the_latest_reminder_only(confirmation):
    due = confirmation.due_on

    yearly_confirmation_run(now=_at(due + timedelta(days=2)))

    [reminder] = _reminders()
    assert reminder.reference.endswith(f"{due:%Y%m%d}")


def test_an_answered_confirmation_is_not_reminded(confirmation, super_user):
    yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=_nothing_changed(confirmation.organisation),
    )

    yearly_confirmation_run(now=_at(confirmation.due_on))

    assert not _reminders().exists()


# --- answers --------------------------------------------------------------------------


def test_nothing_changed_confirms_it(confirmation, super_user, organisation):
    organisation_officers(organisation)

    answered = yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=_nothing_changed(organisation),
    )

    assert answered.status == STATUS.CONFIRMED
    assert answered.answered_by == super_user
    assert answered.changes == ""
    assert answered.on_record["director_at_companies_house"] == "current"
    assert not ReverificationCase.objects.exists()
    assert not Notification.objects.filter(kind="yearly_confirmation.changed").exists()
    latest = answered.history.latest()
    assert latest.history_user == super_user
    assert latest.history_change_reason.startswith("Confirmed by the super user")
    organisation.refresh_from_db()
    assert not organisation.flagged_for_review


def test_a_change_opens_a_case_for_caseworkers_and_waits_for_them(
    confirmation, super_user, organisation, caseworker
):
    organisation_officers(organisation)
    # Its approved application lists Pearson (PEA-1234) among others.
    RegistrationApplicationFactory.create(organisation=organisation, status="approved")

    answered = yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=Answers(
            purpose_change=None,
            learners_per_year=5000,
            awarding_organisations_change="We joined City & Guilds (CG77).",
            director_in_office=True,
        ),
    )

    assert answered.status == STATUS.CHANGED
    case = answered.reverification_case
    assert case.reason == Reason.YEARLY_CONFIRMATION_CHANGED
    assert case.source == "yearly confirmation"
    assert "1,200 on record, now 5,000" in case.details
    assert "Pearson (PEA-1234)" in case.details
    assert "City & Guilds (CG77)" in case.details
    organisation.refresh_from_db()
    assert organisation.flagged_for_review
    assert organisation.estimated_learners_per_year == 1200  # not until vetted
    [email] = Notification.objects.filter(kind="yearly_confirmation.changed")
    assert email.to == caseworker.email
    assert email.reference == f"yearly_confirmation.{answered.pk}.changed"
    assert reverse("admin:registration_reverificationcase_change", args=[case.pk]) in (
        email.body
    )

    reverification_resolve(
        case=case, acting_user=caseworker, resolution="Checked with the provider"
    )

    organisation.refresh_from_db()
    assert organisation.estimated_learners_per_year == 5000
    assert not organisation.flagged_for_review
    assert organisation.history.filter(
        history_change_reason__contains="on resolving the yearly confirmation"
    ).exists()


def test_a_director_companies_house_no_longer_lists_is_a_change(
    confirmation, super_user, organisation
):
    officers_snapshot(
        organisation.companies_house_number,
        officer_item("JONES, Other", "/company/x/appointments/other"),
    )

    answered = yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=_nothing_changed(organisation),
    )

    assert answered.status == STATUS.CHANGED
    assert answered.on_record["director_at_companies_house"] == "not_current"
    assert "Companies House no longer lists SMITH, Jane Alice" in answered.changes
    reasons = set(organisation.reverification_cases.values_list("reason", flat=True))
    assert reasons == {Reason.YEARLY_CONFIRMATION_CHANGED, Reason.DIRECTOR_LEFT}


def test_a_director_the_super_user_says_has_left_is_a_change(
    confirmation, super_user, organisation
):
    organisation_officers(organisation)

    answered = yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=Answers(
            purpose_change="",
            learners_per_year=1200,
            awarding_organisations_change=None,
            director_in_office=False,
        ),
    )

    assert answered.status == STATUS.CHANGED
    assert "the super user says SMITH, Jane Alice is no longer" in answered.changes
    assert organisation.reverification_cases.filter(
        reason=Reason.DIRECTOR_LEFT
    ).exists()


def test_it_cannot_be_answered_twice_nor_by_a_user_who_is_not_super_user(
    confirmation, super_user, organisation
):
    organisation_officers(organisation)
    with pytest.raises(PermissionError):
        yearly_confirmation_answer(
            confirmation=confirmation,
            acting_user=member_of(organisation),
            answers=_nothing_changed(organisation),
        )
    with pytest.raises(PermissionError):
        yearly_confirmation_answer(
            confirmation=confirmation,
            acting_user=member_of(OrganisationFactory.create(), super_user=True),
            answers=_nothing_changed(organisation),
        )
    yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=_nothing_changed(organisation),
    )
    with pytest.raises(YearlyConfirmationRefused):
        yearly_confirmation_answer(
            confirmation=confirmation,
            acting_user=super_user,
            answers=_nothing_changed(organisation),
        )
    assert confirmation.history.count() == 2  # opened, answered


# --- the housekeeping ladder ----------------------------------------------------------


def test_thirty_days_after_it_was_due_housekeeping_suspends(organisation, super_user):
    today = timezone.now().date()
    not_yet = OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
    _due(not_yet, today - timedelta(days=29))
    _due(organisation, today - timedelta(days=30))

    outcome = housekeeping_run()

    organisation.refresh_from_db()
    not_yet.refresh_from_db()
    assert organisation.status == Organisation.Status.SUSPENDED
    assert not_yet.status == Organisation.Status.REGISTERED
    suspension = Suspension.objects.get()
    assert (suspension.source, suspension.cause) == ("housekeeping", CAUSE)
    assert suspension.day == today - timedelta(days=30)
    assert "yearly confirmation" in suspension.reason
    assert outcome.run.counts == {"suspended_yearly_confirmation": 1}
    assert Notification.objects.filter(
        kind="suspension.opened", to=super_user.email
    ).exists()
    member = super_user.membership
    member.organisation.refresh_from_db()
    assert lookup_refusal(super_user, member) == REFUSALS["organisation_suspended"]

    again = housekeeping_run()
    assert Suspension.objects.count() == 1
    assert again.run.counts == {}


def test_the_dry_run_lists_the_suspension_and_changes_nothing(organisation):
    _due(organisation, timezone.now().date() - timedelta(days=31))

    out = StringIO()
    call_command("housekeeping", "--dry-run", stdout=out)

    assert f"Suspend {organisation}: The yearly confirmation" in out.getvalue()
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    assert not Suspension.objects.exists()
    assert not JobRun.objects.filter(job="housekeeping").exists()


def test_confirming_lifts_the_suspension_at_once(organisation, super_user):
    organisation_officers(organisation)
    pending = _due(organisation, timezone.now().date() - timedelta(days=30))
    housekeeping_run()
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.SUSPENDED

    yearly_confirmation_answer(
        confirmation=pending,
        acting_user=super_user,
        answers=_nothing_changed(organisation),
    )

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    suspension = Suspension.objects.get()
    assert suspension.status == Suspension.Status.LIFTED
    assert housekeeping_plan() == []


def test_a_caseworkers_reinstatement_is_not_undone(
    organisation, super_user, caseworker
):
    _due(organisation, timezone.now().date() - timedelta(days=30))
    housekeeping_run()
    suspension = Suspension.objects.get()
    suspension_reinstate(
        suspension=suspension, acting_user=caseworker, reason="Agreed extra time"
    )

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    assert Suspension.objects.count() == 1


# --- admin and the timeline -----------------------------------------------------------


def test_caseworkers_see_each_confirmation_and_the_progress_read_only(
    confirmation, caseworker, organisation
):
    from tests.conftest import verified_client

    other = _registered_days_ago(100)
    _due(other, timezone.now().date() - timedelta(days=3))
    client = verified_client(caseworker)

    listing = client.get(reverse("admin:registration_yearlyconfirmation_changelist"))

    assert listing.status_code == 200
    text = listing.content.decode()
    assert organisation.legal_name in text
    assert other.legal_name in text
    assert "1 waiting and not yet due, 1 past due" in text
    page = client.get(
        reverse("admin:registration_yearlyconfirmation_change", args=[confirmation.pk])
    )
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    added = client.post(
        reverse("admin:registration_yearlyconfirmation_add"), {"status": "confirmed"}
    )
    assert added.status_code == 403
    assert YearlyConfirmation.objects.count() == 2


def test_the_timeline_shows_it_opened_and_answered(
    confirmation, super_user, organisation
):
    organisation_officers(organisation)
    yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=_nothing_changed(organisation),
    )

    entries = [entry.what for entry in organisation_timeline(organisation)]

    due = confirmation.due_on
    assert f"Yearly confirmation opened, due {due.day} {due:%B %Y}" in entries
    assert (
        f"Yearly confirmation due {due.day} {due:%B %Y}: Confirmed, nothing changed"
        in entries
    )


def test_the_command_runs_the_daily_step(confirmation):
    out = StringIO()
    call_command("send_yearly_confirmations", stdout=out)
    assert out.getvalue() == "No confirmations to open and no reminders were due.\n"
    assert JobRun.objects.filter(job="yearly_confirmation").count() == 1


def test_the_case_a_change_opens_is_in_the_caseworkers_queue(
    confirmation, super_user, organisation, caseworker
):
    from tests.conftest import verified_client

    organisation_officers(organisation)
    answered = yearly_confirmation_answer(
        confirmation=confirmation,
        acting_user=super_user,
        answers=Answers(
            purpose_change="We now also enrol apprentices for employers.",
            learners_per_year=1200,
            awarding_organisations_change=None,
            director_in_office=True,
        ),
    )
    client = verified_client(caseworker)

    queue = client.get(
        reverse("admin:registration_reverificationcase_changelist")
    ).content.decode()
    case = client.get(
        reverse(
            "admin:registration_reverificationcase_change",
            args=[answered.reverification_case.pk],
        )
    ).content.decode()

    assert "Registration changed at the yearly confirmation" in queue
    assert organisation.legal_name in queue
    assert "We now also enrol apprentices for employers." in case
    assert "Resolve" in case
