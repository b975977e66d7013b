"""The super user's 'Confirm your users' page (decision 0029)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registration.models import Membership, RecertificationConfirmation
from registration.services.recertification import recertification_open
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = pytest.mark.django_db
STATUS = RecertificationConfirmation.Status


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True, full_name="Sam Super")


@pytest.fixture
def user(organisation, super_user):
    return member_of(organisation, full_name="Una User")


@pytest.fixture
def confirmation(organisation, user):
    recertification_open(organisation=organisation)
    return RecertificationConfirmation.objects.get(user=user)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_each_user_with_their_last_sign_in_and_lookup(
    super_user, user, confirmation
):
    Membership.objects.filter(user=user).update(
        last_lookup_on=timezone.localdate() - timedelta(days=3)
    )
    page = _client(super_user).get(reverse("registration:recertification"))
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Una User" in text
    assert "Sam Super" not in text
    assert "Never" in text  # not signed in yet
    day = timezone.localdate() - timedelta(days=3)
    assert f"{day.day} {day:%B %Y}" in text


def test_confirming_from_the_page(super_user, user, confirmation):
    client = _client(super_user)
    response = client.post(
        reverse("registration:recertification-confirm", args=[confirmation.pk])
    )
    assert response.status_code == HTTPStatus.FOUND
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.CONFIRMED
    page = client.get(reverse("registration:recertification"))
    assert "You have answered for all your users" in page.content.decode()
    again = client.post(
        reverse("registration:recertification-confirm", args=[confirmation.pk])
    )
    assert again.status_code == HTTPStatus.NOT_FOUND


def test_removing_from_the_page(super_user, user, confirmation):
    client = _client(super_user)
    address = reverse("registration:recertification-remove", args=[confirmation.pk])
    assert "Are you sure" in client.get(address).content.decode()
    assert client.post(address).status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert not user.is_active


def test_a_late_user_is_shown_as_unable_to_look_up(super_user, user, confirmation):
    Membership.objects.filter(user=user).update(recertify_by=timezone.now())
    page = _client(super_user).get(reverse("registration:recertification"))
    assert "Cannot look up learners" in page.content.decode()


def test_an_ordinary_user_cannot_answer(organisation, user, confirmation):
    other = member_of(organisation)
    response = _client(other).post(
        reverse("registration:recertification-confirm", args=[confirmation.pk])
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.PENDING


def test_another_organisations_super_user_gets_404(confirmation):
    stranger = member_of(OrganisationFactory(), super_user=True)
    response = _client(stranger).post(
        reverse("registration:recertification-confirm", args=[confirmation.pk])
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
