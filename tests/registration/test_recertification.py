"""Quarterly recertification (issue 14, decision 0029): the campaign, the answers,
the gate, the lapse emails, and the job run twice."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from lrs_portal.models import JobRun, Notification
from records.permissions import REFUSALS, lookup_refusal
from records.services import LookupRefused, learner_search_by_uln
from registration.models import (
    Membership,
    Organisation,
    RecertificationCampaign,
    RecertificationConfirmation,
)
from registration.services.recertification import (
    RecertificationRefused,
    quarter_start,
    recertification_confirm,
    recertification_open,
    recertification_remove,
    recertification_run,
)
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = pytest.mark.django_db
STATUS = RecertificationConfirmation.Status
ULN = "9276308686"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def user(organisation, super_user):
    return member_of(organisation)


def _confirmation(user) -> RecertificationConfirmation:
    return RecertificationConfirmation.objects.get(user=user)


def _late(days: int = 15) -> datetime:
    return timezone.now() + timedelta(days=days)


def test_quarter_start():
    assert quarter_start(date(2026, 12, 7)) == date(2026, 10, 1)
    assert quarter_start(date(2027, 1, 1)) == date(2027, 1, 1)
    assert quarter_start(date(2026, 6, 30)) == date(2026, 4, 1)


def test_opening_asks_for_each_user_but_not_the_super_users(
    organisation, super_user, user
):
    other = member_of(organisation)
    campaign = recertification_open(organisation=organisation)
    assert campaign is not None
    asked = set(campaign.confirmations.values_list("user__email", flat=True))
    assert asked == {user.email, other.email}
    assert campaign.due_at - campaign.opened_at == timedelta(days=14)
    assert Membership.objects.get(user=user).recertify_by == campaign.due_at
    email = Notification.objects.get(kind="recertification.opened")
    assert email.to == super_user.email
    assert "2 users" in email.body
    assert campaign.history.count() == 1


def test_no_campaign_for_an_organisation_with_only_super_users(
    organisation, super_user
):
    assert recertification_open(organisation=organisation) is None
    assert not RecertificationCampaign.objects.exists()


def test_a_user_may_look_up_until_the_deadline_then_not(user):
    campaign = recertification_open(organisation=user.membership.organisation)
    assert lookup_refusal(user, user.membership) is None
    membership = Membership.objects.get(user=user)
    membership.recertify_by = timezone.now() - timedelta(seconds=1)
    membership.save()
    user.refresh_from_db()
    assert lookup_refusal(user, user.membership) == REFUSALS["not_recertified"]
    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=user, uln=ULN, request_id="r1")
    assert refused.value.refusal.code == "not_recertified"
    assert campaign is not None


def test_confirming_gives_lookups_back(user, super_user):
    recertification_open(organisation=user.membership.organisation)
    Membership.objects.filter(user=user).update(recertify_by=timezone.now())
    recertification_confirm(confirmation=_confirmation(user), acting_user=super_user)
    confirmation = _confirmation(user)
    assert confirmation.status == STATUS.CONFIRMED
    assert confirmation.decided_by == super_user
    membership = Membership.objects.get(user=user)
    assert membership.recertify_by is None
    assert lookup_refusal(user, membership) is None
    with pytest.raises(RecertificationRefused):
        recertification_confirm(confirmation=confirmation, acting_user=super_user)


def test_removing_removes_the_member_through_the_removal_service(user, super_user):
    recertification_open(organisation=user.membership.organisation)
    recertification_remove(confirmation=_confirmation(user), acting_user=super_user)
    assert _confirmation(user).status == STATUS.REMOVED
    user.refresh_from_db()
    assert not user.is_active
    assert not Membership.objects.filter(user=user).exists()


def test_only_a_super_user_of_the_organisation_answers(user, super_user, organisation):
    recertification_open(organisation=organisation)
    other = member_of(organisation)
    elsewhere = member_of(OrganisationFactory(), super_user=True)
    for wrong in (other, elsewhere):
        with pytest.raises(PermissionError):
            recertification_confirm(confirmation=_confirmation(user), acting_user=wrong)
    assert _confirmation(user).status == STATUS.PENDING


def test_a_suspended_super_user_cannot_answer(user, super_user, organisation):
    recertification_open(organisation=organisation)
    Membership.objects.filter(user=super_user).update(suspended_at=timezone.now())
    with pytest.raises(PermissionError):
        recertification_confirm(
            confirmation=_confirmation(user), acting_user=super_user
        )


def test_the_job_run_twice_opens_and_tells_once(user, super_user, organisation):
    first = recertification_run()
    second = recertification_run()
    assert first.opened == 1
    assert second.opened == 0
    assert RecertificationCampaign.objects.count() == 1
    assert RecertificationConfirmation.objects.count() == 1
    assert Notification.objects.filter(kind="recertification.opened").count() == 1
    assert first.run is not None
    assert first.run.counts == {"campaigns_opened": 1}

    late = _late()
    recertification_run(now=late)
    recertification_run(now=late)
    told = Notification.objects.filter(kind="recertification.user.lapsed")
    assert list(told.values_list("to", flat=True)) == [user.email]
    lapsed = Notification.objects.filter(kind="recertification.lapsed")
    assert list(lapsed.values_list("to", flat=True)) == [super_user.email]
    runs = JobRun.objects.filter(job="recertification", outcome="succeeded")
    assert runs.count() == 4
    user.refresh_from_db()
    membership = Membership.objects.get(user=user)
    assert membership.recertify_by is not None
    assert membership.recertify_by < late


def test_the_next_quarter_opens_a_new_campaign_and_keeps_the_earlier_deadline(
    user, super_user, organisation
):
    recertification_run()
    first_due = Membership.objects.get(user=user).recertify_by
    next_quarter = datetime.combine(
        quarter_start(timezone.localdate()) + timedelta(days=95), datetime.min.time()
    ).replace(tzinfo=UTC)
    recertification_run(now=next_quarter)
    assert RecertificationCampaign.objects.count() == 2
    assert Membership.objects.get(user=user).recertify_by == first_due
    # One answer covers both quarters.
    recertification_confirm(
        confirmation=RecertificationConfirmation.objects.filter(user=user).first(),
        acting_user=super_user,
    )
    assert not RecertificationConfirmation.objects.filter(status=STATUS.PENDING)


def test_suspended_organisations_are_not_asked(user, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(
        status=Organisation.Status.SUSPENDED
    )
    assert recertification_run().opened == 0
