"""Unused accounts: warned HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS before they are
closed, once for each spell of disuse (decision 0030)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lrs_portal.models import JobRun, Notification
from registration.models import Membership
from registration.services import membership_record_lookup
from registration.services.housekeeping import housekeeping_plan, housekeeping_run
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _periods(settings):
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS = 90
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS = 14


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def organisation_with_super_user(**kwargs):
    organisation = OrganisationFactory.create(**kwargs)
    boss = member_of(organisation, super_user=True, last_login=timezone.now())
    return organisation, boss


def warnings_to(user):
    return Notification.objects.filter(
        to=user.email, kind="housekeeping.user.unused_warning"
    )


def age_warnings(user, days: int) -> None:
    warnings_to(user).update(created_at=days_ago(days))


@pytest.mark.parametrize(("unused_days", "warned"), [(77, True), (75, False)])
def test_an_account_is_warned_14_days_before_it_would_close(unused_days, warned):
    organisation, boss = organisation_with_super_user()
    user = member_of(organisation, last_login=days_ago(unused_days))

    housekeeping_run()

    user.refresh_from_db()
    assert user.is_active is True
    assert warnings_to(user).count() == (1 if warned else 0)
    assert not warnings_to(boss).exists()
    if warned:
        body = warnings_to(user).get().body
        assert "sign in before" in body
        assert organisation.legal_name in body


def test_running_twice_warns_once_and_closes_after_the_warning_period():
    organisation, boss = organisation_with_super_user()
    user = member_of(organisation, last_login=days_ago(200))

    first = housekeeping_run()
    second = housekeeping_run()

    user.refresh_from_db()
    # Never warned before, so not closed yet however long unused.
    assert user.is_active is True
    assert first.run.counts == {"accounts_warned_unused": 1}
    assert second.actions == []
    assert warnings_to(user).count() == 1

    age_warnings(user, 13)
    assert housekeeping_plan() == []

    age_warnings(user, 14)
    housekeeping_run()
    housekeeping_run()
    user.refresh_from_db()
    assert user.is_active is False
    closed = Notification.objects.filter(kind="housekeeping.user.deactivated")
    assert sorted(closed.values_list("to", flat=True)) == sorted(
        [boss.email, user.email]
    )
    body = closed.first().body
    assert "super user" in body
    assert "history is kept" in body.lower()
    assert JobRun.objects.filter(job="housekeeping").count() == 4


def test_signing_in_after_the_warning_keeps_the_account_and_a_new_spell_warns_again():
    organisation, _ = organisation_with_super_user()
    user = member_of(organisation, last_login=days_ago(80))
    housekeeping_run()
    age_warnings(user, 20)

    user.last_login = timezone.now()
    user.save()
    housekeeping_run()
    user.refresh_from_db()
    assert user.is_active is True

    user.last_login = days_ago(78)
    user.save()
    housekeeping_run()
    assert warnings_to(user).count() == 2


def test_a_search_counts_as_use():
    organisation, _ = organisation_with_super_user()
    user = member_of(organisation, last_login=days_ago(200))
    membership_record_lookup(membership=Membership.objects.get(user=user))

    assert housekeeping_plan() == []


def test_the_last_super_user_is_neither_warned_nor_closed():
    organisation = OrganisationFactory.create()
    boss = member_of(organisation, super_user=True, last_login=days_ago(200))

    housekeeping_run()

    boss.refresh_from_db()
    assert boss.is_active is True
    assert not warnings_to(boss).exists()


def test_staff_are_never_warned(caseworker):
    caseworker.last_login = days_ago(200)
    caseworker.save()

    housekeeping_run()

    caseworker.refresh_from_db()
    assert caseworker.is_active is True
    assert not warnings_to(caseworker).exists()


def test_the_dry_run_warns_nobody():
    organisation, _ = organisation_with_super_user()
    user = member_of(organisation, last_login=days_ago(200))

    outcome = housekeeping_run(dry_run=True)

    assert [a.key for a in outcome.actions] == ["accounts_warned_unused"]
    assert not warnings_to(user).exists()
