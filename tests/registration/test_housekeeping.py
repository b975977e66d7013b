"""The deregistration ladder (issue 5): each step, the dry run, and running twice."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lrs_portal.models import JobRun, Notification, User, UserSession, system_user
from registration.models import (
    CompaniesHouseSnapshot,
    Membership,
    Organisation,
    ReverificationCase,
    Suspension,
)
from registration.services import (
    membership_record_lookup,
    reverification_open,
    suspension_open,
    suspension_reinstate,
)
from registration.services.housekeeping import housekeeping_run
from registration.services.housekeeping import steps as housekeeping_steps
from tests.factories import (
    AgreementVersionFactory,
    IcoRegistrationFactory,
    OrganisationFactory,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _close_without_warning(settings):
    # These tests are of the ladder's other steps and of closing itself: 180 days
    # and no warning first. The warning has its tests in test_unused_accounts.py.
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS = 180
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS = 0


S = Organisation.Status
NOW = timezone.now


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def today():
    return timezone.now().date()


def provider(**kwargs) -> tuple[Organisation, User]:
    """A registered organisation with a super user who signed in today."""
    organisation = OrganisationFactory.create(**kwargs)
    super_user = member_of(organisation, super_user=True, last_login=NOW())
    return organisation, super_user


def emails_to(user: User, about: str = "") -> list[Notification]:
    """The emails queued for the user, or those whose reference ends with about."""
    emails = Notification.objects.filter(to=user.email).order_by("pk")
    return list(emails.filter(reference__endswith=about) if about else emails)


def assert_by_the_system(record, reason_contains: str) -> None:
    assert record.history_user == system_user()
    assert reason_contains in record.history_change_reason


def age_suspension(suspension: Suspension, days: int) -> None:
    Suspension.objects.filter(pk=suspension.pk).update(opened_at=days_ago(days))


@pytest.fixture
def versions():
    """Version 1 signed by everyone; version 2 to be re-signed by yesterday."""
    first = AgreementVersionFactory.create(number=1)
    second = AgreementVersionFactory.create(
        number=2, resign_deadline=today() - timedelta(days=1)
    )
    return first, second


# --- the agreement ------------------------------------------------------------------


def test_not_re_signing_by_the_deadline_suspends_and_tells_the_super_user(versions):
    first, _ = versions
    organisation, super_user = provider(last_signed_version=first)

    outcome = housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.SUSPENDED
    suspension = Suspension.objects.get()
    assert suspension.source == Suspension.Source.HOUSEKEEPING
    assert suspension.cause == "agreement_not_signed"
    assert suspension.day == today() - timedelta(days=1)
    assert "Version 2" in suspension.reason
    [email] = emails_to(super_user)
    assert email.subject == ("Your access to the Learning Records Service is suspended")
    assert "Version 2" in email.body
    assert_by_the_system(organisation.history.latest(), "Version 2")
    assert_by_the_system(suspension.history.latest(), "Version 2")
    assert outcome.run.counts == {"suspended_agreement_not_signed": 1}


def test_before_the_deadline_nothing_happens(versions):
    first, second = versions
    second.resign_deadline = today()
    second.save()
    organisation, _ = provider(last_signed_version=first)

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert not Suspension.objects.exists()


def test_an_organisation_that_signed_the_current_version_is_left_alone(versions):
    _, second = versions
    organisation, _ = provider(last_signed_version=second)

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED


def test_signing_after_the_suspension_lifts_it_and_access_returns(versions):
    first, second = versions
    organisation, super_user = provider(last_signed_version=first)
    housekeeping_run()
    organisation.refresh_from_db()
    organisation.last_signed_version = second
    organisation.save()

    outcome = housekeeping_run()

    suspension = Suspension.objects.get()
    assert suspension.status == Suspension.Status.LIFTED
    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert_by_the_system(suspension.history.latest(), "signed version 2")
    assert_by_the_system(organisation.history.latest(), "signed version 2")
    told = emails_to(super_user)[-1].body
    assert told.startswith("We have lifted the suspension of")
    assert "Access is back now" in told
    assert outcome.run.counts == {"suspensions_lifted": 1}


def test_a_caseworkers_reinstatement_is_not_undone_by_a_later_run(versions, caseworker):
    first, _ = versions
    organisation, _ = provider(last_signed_version=first)
    housekeeping_run()
    suspension_reinstate(
        suspension=Suspension.objects.get(),
        acting_user=caseworker,
        reason="Signed on paper; the portal will catch up",
    )

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert Suspension.objects.get().status == Suspension.Status.REINSTATED


# --- suspended too long --------------------------------------------------------------


def _suspended(organisation: Organisation, by: User) -> Suspension:
    suspension, _ = suspension_open(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.CASEWORKER,
        cause="caseworker",
        day=today(),
        reason="Searches for a third party",
        acting_user=by,
    )
    return suspension


@pytest.mark.parametrize(("days", "deregistered"), [(61, True), (59, False)])
def test_a_suspension_unresolved_for_60_days_deregisters(
    caseworker, days, deregistered
):
    organisation, super_user = provider()
    age_suspension(_suspended(organisation, caseworker), days)

    housekeeping_run()

    organisation.refresh_from_db()
    assert (organisation.status == S.DEREGISTERED) is deregistered
    told = [e for e in emails_to(super_user) if "deregistered" in e.subject]
    assert len(told) == (1 if deregistered else 0)
    if deregistered:
        assert_by_the_system(
            organisation.history.latest(), "with no resolution for 60 days"
        )


def test_the_number_of_days_is_a_setting(caseworker, settings):
    settings.HOUSEKEEPING_SUSPENDED_DAYS = 10
    organisation, _ = provider()
    age_suspension(_suspended(organisation, caseworker), 11)

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.DEREGISTERED


def test_a_reinstated_suspension_does_not_deregister(caseworker):
    organisation, _ = provider()
    suspension = _suspended(organisation, caseworker)
    age_suspension(suspension, 90)
    suspension_reinstate(suspension=suspension, acting_user=caseworker, reason="Fine")

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED


# --- the company and the ICO registration --------------------------------------------


def test_a_company_no_longer_active_suspends_then_deregisters(caseworker):
    organisation, super_user = provider()
    case = reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.COMPANY_NOT_ACTIVE,
        details="Companies House lists the company as dissolved.",
        source="nightly re-verification",
        acting_user=system_user(),
    )

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.SUSPENDED
    suspension = Suspension.objects.get()
    assert suspension.cause == "company_not_active"
    assert suspension.day == case.opened_at.date()
    assert "dissolved" in suspension.reason
    assert_by_the_system(organisation.history.latest(), "dissolved")

    age_suspension(suspension, 61)
    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.DEREGISTERED
    assert [e.reference.rsplit(".", 1)[-1] for e in emails_to(super_user)] == [
        "opened",
        "deregistered",
    ]


def _snapshot(organisation: Organisation, status: str, days: int) -> None:
    CompaniesHouseSnapshot.objects.create(
        company_number=organisation.companies_house_number,
        kind=CompaniesHouseSnapshot.Kind.PROFILE,
        data={"company_status": status},
        fetched_at=days_ago(days),
    )


def test_the_latest_snapshot_alone_suspends_from_the_day_it_changed():
    organisation, _ = provider()
    _snapshot(organisation, "active", 10)
    _snapshot(organisation, "liquidation", 5)
    _snapshot(organisation, "liquidation", 1)

    housekeeping_run()

    suspension = Suspension.objects.get()
    assert suspension.cause == "company_not_active"
    assert suspension.day == days_ago(5).date()
    assert "liquidation" in suspension.reason


def test_an_active_latest_snapshot_does_not_suspend():
    organisation, _ = provider()
    _snapshot(organisation, "dissolved", 10)
    _snapshot(organisation, "active", 1)

    housekeeping_run()

    assert not Suspension.objects.exists()


@pytest.mark.parametrize(("lapsed_days", "suspended"), [(31, True), (30, False)])
def test_an_ico_registration_lapsed_past_the_grace_period_suspends(
    lapsed_days, suspended
):
    organisation, _ = provider()
    lapsed_on = today() - timedelta(days=lapsed_days)
    IcoRegistrationFactory.create(
        registration_number=organisation.ico_number, end_date=lapsed_on
    )

    housekeeping_run()

    organisation.refresh_from_db()
    assert (organisation.status == S.SUSPENDED) is suspended
    if suspended:
        suspension = Suspension.objects.get()
        assert (suspension.cause, suspension.day) == ("ico_lapsed", lapsed_on)


def test_an_ico_registration_gone_from_the_register_suspends_after_the_grace():
    organisation, _ = provider()
    IcoRegistrationFactory.create()  # the register is imported
    case = reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.ICO_LAPSED,
        details="The ICO register no longer lists it.",
        source="nightly re-verification",
        acting_user=system_user(),
    )
    ReverificationCase.objects.filter(pk=case.pk).update(opened_at=days_ago(31))

    housekeeping_run()

    assert Suspension.objects.get().cause == "ico_lapsed"


# --- dormant organisations ---------------------------------------------------------


def dormant(**kwargs) -> tuple[Organisation, User]:
    """Registered 13 months ago; its only user last signed in then."""
    organisation = OrganisationFactory.create(registered_at=days_ago(400), **kwargs)
    super_user = member_of(organisation, super_user=True, last_login=days_ago(400))
    return organisation, super_user


def test_no_sign_ins_or_searches_for_12_months_brings_one_warning():
    organisation, super_user = dormant()

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert organisation.dormancy_warned_at is not None
    [email] = emails_to(super_user, "dormancy_warning")
    assert "will end unless it is used" in email.subject
    assert_by_the_system(organisation.history.latest(), "not used for 12 months")


def test_a_recent_search_keeps_the_organisation_from_being_dormant():
    organisation, super_user = dormant()
    membership_record_lookup(membership=Membership.objects.get(user=super_user))

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.dormancy_warned_at is None


def test_a_new_organisation_nobody_has_used_yet_is_not_dormant():
    organisation = OrganisationFactory.create()
    member_of(organisation, super_user=True)

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.dormancy_warned_at is None


@pytest.mark.parametrize(("warned_days", "deregistered"), [(31, True), (29, False)])
def test_still_dormant_30_days_after_the_warning_deregisters(warned_days, deregistered):
    organisation, super_user = dormant(dormancy_warned_at=days_ago(warned_days))

    housekeeping_run()

    organisation.refresh_from_db()
    assert (organisation.status == S.DEREGISTERED) is deregistered
    assert len(emails_to(super_user, "deregistered")) == (1 if deregistered else 0)
    if deregistered:
        assert_by_the_system(organisation.history.latest(), "after the warning")


def test_signing_in_after_the_warning_clears_it():
    organisation, super_user = dormant(dormancy_warned_at=days_ago(31))
    super_user.last_login = days_ago(2)
    super_user.save()

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert organisation.dormancy_warned_at is None
    assert_by_the_system(organisation.history.latest(), "Used again")


# --- unused accounts ---------------------------------------------------------------


@pytest.mark.parametrize(("unused_days", "closed"), [(181, True), (179, False)])
def test_an_account_unused_for_180_days_is_closed(unused_days, closed):
    organisation, super_user = provider()
    user = member_of(organisation, last_login=days_ago(unused_days))
    Client().force_login(user)
    user.last_login = days_ago(unused_days)  # force_login signed them in now
    user.save()

    housekeeping_run()

    user.refresh_from_db()
    assert user.is_active is not closed
    assert UserSession.objects.filter(user=user).exists() is not closed
    told = [e for e in emails_to(super_user) if "account was closed" in e.subject]
    assert len(told) == (1 if closed else 0)
    if closed:
        assert_by_the_system(user.history.latest(), "not used for 180 days")


def test_an_account_never_signed_in_counts_from_when_it_was_made():
    organisation, _ = provider()
    user = member_of(organisation, date_joined=days_ago(181))

    housekeeping_run()

    user.refresh_from_db()
    assert user.is_active is False


def test_a_recent_search_keeps_an_account_open():
    organisation, _ = provider()
    user = member_of(organisation, last_login=days_ago(200))
    membership_record_lookup(membership=Membership.objects.get(user=user))

    housekeeping_run()

    user.refresh_from_db()
    assert user.is_active is True


def test_staff_superusers_and_the_system_user_are_never_closed():
    organisation, _ = provider()
    staff = member_of(organisation, is_staff=True, last_login=days_ago(400))
    boss = member_of(organisation, is_superuser=True, last_login=days_ago(400))
    machine = system_user()
    machine.is_active = True  # as if someone had switched it on
    machine.date_joined = days_ago(400)
    machine.save()
    Membership.objects.create(user=machine, organisation=organisation)

    housekeeping_run()

    for user in (staff, boss, machine):
        user.refresh_from_db()
        assert user.is_active is True


# --- the dry run, running twice, failing half way ----------------------------------


@pytest.fixture
def one_of_each(versions, caseworker):
    first, _ = versions
    unsigned, _ = provider(last_signed_version=first)
    stale, _ = provider(last_signed_version=versions[1])
    age_suspension(_suspended(stale, caseworker), 61)
    quiet, _ = dormant(last_signed_version=versions[1])
    active, _ = provider(last_signed_version=versions[1])
    unused = member_of(active, last_login=days_ago(200))
    return unsigned, stale, quiet, unused


def _state():
    return (
        list(Organisation.objects.values_list("pk", "status", "dormancy_warned_at")),
        list(User.objects.values_list("pk", "is_active")),
        Suspension.objects.count(),
        Notification.objects.count(),
        Organisation.history.count(),
        Suspension.history.count(),
        User.history.count(),
        JobRun.objects.count(),
    )


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(one_of_each):
    unsigned, stale, quiet, unused = one_of_each
    before = _state()
    out = StringIO()

    call_command("housekeeping", "--dry-run", stdout=out)

    assert _state() == before
    lines = out.getvalue().splitlines()
    assert f"Would: Suspend {unsigned}: Version 2" in lines[0]
    assert any(line.startswith(f"Would: Deregister {stale}:") for line in lines)
    assert any(line.startswith(f"Would: Warn {quiet}:") for line in lines)
    assert any(f"Would: Close the account of user {unused.pk} " in x for x in lines)
    assert lines[-1] == "Dry run: nothing was changed and no email was sent."


def test_running_twice_does_everything_once(one_of_each):
    unsigned, stale, quiet, unused = one_of_each
    out = StringIO()

    call_command("housekeeping", stdout=out)
    after_first = _state()
    second = housekeeping_run()

    assert "Done." in out.getvalue()
    first = JobRun.objects.filter(job="housekeeping").order_by("pk").first()
    assert first.counts == {
        "suspended_agreement_not_signed": 1,
        "deregistered_suspended": 1,
        "dormancy_warnings": 1,
        # The unused member; the dormant organisation's only super user is kept
        # open to answer the warning.
        "accounts_deactivated": 1,
    }
    assert second.actions == []
    assert second.run.counts == {}
    for organisation in (unsigned, stale, quiet):
        organisation.refresh_from_db()
    unused.refresh_from_db()
    assert (unsigned.status, stale.status) == (S.SUSPENDED, S.DEREGISTERED)
    assert quiet.dormancy_warned_at is not None
    assert unused.is_active is False
    # Only the second JobRun is new: one suspension, one email, one warning each.
    assert _state()[:-1] == after_first[:-1]


def test_a_run_that_fails_half_way_completes_next_time_with_nothing_twice(
    monkeypatch,
):
    first_org, first_user = dormant()
    second_org, second_user = dormant()
    real_send = housekeeping_steps.notification_send
    sent: list[str] = []

    def failing_send(**kwargs):
        if kwargs["to"] == second_user.email:
            raise ConnectionError("outbox unavailable")
        sent.append(kwargs["to"])
        return real_send(**kwargs)

    monkeypatch.setattr(housekeeping_steps, "notification_send", failing_send)
    with pytest.raises(ConnectionError):
        housekeeping_run()
    monkeypatch.undo()

    failed = JobRun.objects.get(job="housekeeping")
    assert failed.outcome == JobRun.Outcome.FAILED
    second_org.refresh_from_db()
    assert second_org.dormancy_warned_at is None  # its step rolled back whole

    housekeeping_run()

    for organisation, user in ((first_org, first_user), (second_org, second_user)):
        organisation.refresh_from_db()
        assert organisation.dormancy_warned_at is not None
        assert len(emails_to(user, "dormancy_warning")) == 1


def test_the_task_runs_the_ladder(versions):
    from registration.tasks import housekeeping_task

    first, _ = versions
    organisation, _ = provider(last_signed_version=first)

    housekeeping_task()

    organisation.refresh_from_db()
    assert organisation.status == S.SUSPENDED


def test_with_nothing_due_the_command_says_so():
    out = StringIO()

    call_command("housekeeping", stdout=out)

    assert out.getvalue().strip() == "Nothing to do."
    assert JobRun.objects.get(job="housekeeping").outcome == JobRun.Outcome.SUCCEEDED


# --- the member's last lookup (records calls it) ------------------------------------


def test_recording_a_lookup_writes_the_day_once_and_keeps_no_history():
    _, user = provider()
    membership = Membership.objects.get(user=user)
    history_before = membership.history.count()

    wrote = membership_record_lookup(membership=membership)
    again = membership_record_lookup(membership=membership)

    membership.refresh_from_db()
    assert (wrote, again) == (True, False)
    assert membership.last_lookup_on == today()
    assert membership.history.count() == history_before


def test_a_lookup_on_a_later_day_moves_the_date_on():
    _, user = provider()
    membership = Membership.objects.get(user=user)
    membership_record_lookup(membership=membership, when=days_ago(3))

    wrote = membership_record_lookup(membership=membership)

    membership.refresh_from_db()
    assert wrote is True
    assert membership.last_lookup_on == today()


# --- each step checks again when it is done ------------------------------------------


def test_signing_at_last_lifts_and_does_not_deregister_in_the_same_run(versions):
    first, second = versions
    organisation, _ = provider(last_signed_version=first)
    housekeeping_run()
    age_suspension(Suspension.objects.get(), 61)
    organisation.refresh_from_db()
    organisation.last_signed_version = second
    organisation.save()

    outcome = housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert outcome.run.counts == {"suspensions_lifted": 1}


def test_a_reinstatement_between_the_plan_and_the_step_is_not_undone(caseworker):
    from registration.services.housekeeping import housekeeping_plan

    organisation, _ = provider()
    suspension = _suspended(organisation, caseworker)
    age_suspension(suspension, 61)
    plan = housekeeping_plan()
    suspension_reinstate(suspension=suspension, acting_user=caseworker, reason="OK")

    done = [action.apply(system_user()) for action in plan]

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert done == [False]


def test_a_lift_of_a_case_decided_since_the_plan_is_skipped(versions, caseworker):
    from registration.services.housekeeping import housekeeping_plan

    first, second = versions
    organisation, _ = provider(last_signed_version=first)
    housekeeping_run()
    organisation.refresh_from_db()
    organisation.last_signed_version = second
    organisation.save()
    plan = housekeeping_plan()
    suspension_reinstate(
        suspension=Suspension.objects.get(), acting_user=caseworker, reason="OK"
    )

    done = [action.apply(system_user()) for action in plan]

    assert done == [False]
    assert Suspension.objects.get().status == Suspension.Status.REINSTATED


def test_the_command_names_no_email_address(caseworker):
    organisation = OrganisationFactory.create()
    member = member_of(organisation, last_login=days_ago(400))
    out = StringIO()

    call_command("housekeeping", "--dry-run", stdout=out)

    assert f"user {member.pk}" in out.getvalue()
    assert member.email not in out.getvalue()


# --- the ladder's steps, emails and re-application agree (issue 19) ---------------


def test_a_dormant_organisations_only_super_user_is_warned_and_left_open():
    _, super_user = dormant()

    outcome = housekeeping_run()

    super_user.refresh_from_db()
    assert super_user.is_active is True
    [warning] = emails_to(super_user)  # and no "account was closed"
    assert warning.reference.endswith("dormancy_warning")
    assert "your account stays open until then" in warning.body
    assert "email us" not in warning.body
    assert "accounts_deactivated" not in outcome.run.counts


def test_of_two_unused_super_users_one_is_closed_and_the_last_kept():
    organisation, first = dormant()
    second = member_of(organisation, super_user=True, last_login=days_ago(400))

    housekeeping_run()
    housekeeping_run()

    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.is_active, second.is_active] == [False, True]


def test_warned_then_deregistered_the_super_user_registers_again_from_the_email():
    organisation, super_user = dormant()
    housekeeping_run()
    Organisation.objects.filter(pk=organisation.pk).update(
        dormancy_warned_at=days_ago(31)
    )

    housekeeping_run()

    organisation.refresh_from_db()
    super_user.refresh_from_db()
    assert organisation.status == S.DEREGISTERED
    assert super_user.is_active is True
    [email] = emails_to(super_user, "deregistered")
    assert "/organisation/register-again/" in email.body
    assert "stays open" in email.body
    browser = Client()
    browser.force_login(super_user)
    response = browser.post("/organisation/register-again/")
    assert response.status_code == 302
    application = organisation.applications.get()
    assert application.kind == application.Kind.REREGISTRATION
    assert application.ukprn == organisation.ukprn
    assert application.legal_name == organisation.legal_name


def test_an_ordinary_unused_member_of_a_dormant_organisation_is_still_closed():
    organisation, super_user = dormant()
    member = member_of(organisation, last_login=days_ago(400))

    housekeeping_run()

    member.refresh_from_db()
    super_user.refresh_from_db()
    assert (member.is_active, super_user.is_active) == (False, True)
