from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from lrs_portal.models import UserSession
from lrs_portal.services import user_end_sessions
from tests.factories import PASSWORD
from tests.lrs_portal.auth_helpers import post_credentials

pytestmark = pytest.mark.django_db


def test_sessions_are_stored_in_the_database_with_their_user(provider_user):
    client = Client()
    post_credentials(client, provider_user.email, PASSWORD)

    assert UserSession.objects.filter(user=provider_user).count() == 1


def test_ending_a_users_sessions_signs_them_out_everywhere(provider_user):
    laptop, phone, colleague = Client(), Client(), Client()
    post_credentials(laptop, provider_user.email, PASSWORD)
    post_credentials(phone, provider_user.email, PASSWORD, ip="192.0.2.11")
    other = type(provider_user).objects.create_user(
        "colleague@college.example.com", PASSWORD, full_name="C"
    )
    post_credentials(colleague, other.email, PASSWORD)

    ended = user_end_sessions(user=provider_user)

    assert ended == 2
    for client in (laptop, phone):
        response = client.get(reverse("lrs_portal:account"))
        assert response.status_code == HTTPStatus.FOUND
    assert colleague.get(reverse("lrs_portal:account")).status_code == HTTPStatus.OK


def test_clearing_expired_sessions_keeps_live_ones(provider_user):
    from datetime import timedelta

    from django.utils import timezone

    from lrs_portal.services import sessions_clear_expired

    live = Client()
    post_credentials(live, provider_user.email, PASSWORD)
    UserSession.objects.create(
        session_key="x" * 32,
        session_data="",
        expire_date=timezone.now() - timedelta(days=1),
        user=provider_user,
    )

    assert sessions_clear_expired() == 1
    assert live.get(reverse("lrs_portal:account")).status_code == HTTPStatus.OK
