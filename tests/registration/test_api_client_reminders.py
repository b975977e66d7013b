"""Expiry reminders for API clients: 30 and 7 days before, once each, from the
nightly housekeeping job, to the super users and the member responsible."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lrs_portal.models import Notification
from registration.services.api_clients import api_client_revoke
from registration.services.housekeeping import housekeeping_plan, housekeeping_run
from tests.factories import OrganisationFactory, issue_api_client, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    return OrganisationFactory.create()


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True, last_login=timezone.now())


@pytest.fixture
def member(organisation):
    return member_of(organisation, last_login=timezone.now())


def expiring_in(member, days):
    return issue_api_client(
        member, expires_on=timezone.now().date() + timedelta(days=days)
    ).api_client


def reminders():
    return list(
        Notification.objects.filter(kind="api_client.expiry").order_by("to", "pk")
    )


def test_the_30_day_reminder_goes_to_the_super_user_and_the_member_once(
    super_user, member
):
    client = expiring_in(member, 30)
    housekeeping_run()
    housekeeping_run()  # the job run twice sends nothing more
    sent = reminders()
    assert sorted(n.to for n in sent) == sorted([super_user.email, member.email])
    assert "College MIS" in sent[0].body
    assert f"{client.expires_on:%d %B %Y}" in sent[0].subject
    client.refresh_from_db()
    assert client.reminded_30_days_at is not None
    assert client.reminded_7_days_at is None


def test_the_7_day_reminder_follows_once(super_user, member):
    client = expiring_in(member, 30)
    housekeeping_run()
    client.expires_on = timezone.now().date() + timedelta(days=7)
    client.save()
    housekeeping_run()
    housekeeping_run()
    assert len(reminders()) == 4  # two people, two reminders
    client.refresh_from_db()
    assert client.reminded_7_days_at is not None


def test_a_client_made_close_to_expiry_gets_only_the_nearer_reminder(
    super_user, member
):
    expiring_in(member, 5)
    housekeeping_run()
    housekeeping_run()
    assert len(reminders()) == 2  # the 7-day one, to each of two people


def test_no_reminder_far_from_expiry_or_for_a_revoked_client(super_user, member):
    expiring_in(member, 31)
    revoked = expiring_in(member, 6)
    api_client_revoke(api_client=revoked, acting_user=super_user, reason="Replaced")
    housekeeping_run()
    assert reminders() == []


def test_a_dry_run_lists_the_reminder_and_sends_nothing(super_user, member):
    expiring_in(member, 7)
    planned = [a.description for a in housekeeping_plan()]
    assert any("API client “College MIS” expires on" in line for line in planned)
    housekeeping_run(dry_run=True)
    assert reminders() == []


def test_a_member_who_is_the_super_user_gets_one_email(super_user):
    expiring_in(super_user, 7)
    housekeeping_run()
    assert [n.to for n in reminders()] == [super_user.email]


def test_two_organisations_each_hear_only_of_their_own(super_user, member):
    other_super = member_of(OrganisationFactory.create(), super_user=True)
    expiring_in(member, 7)
    housekeeping_run()
    assert other_super.email not in {n.to for n in reminders()}
