from http import HTTPStatus

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_carry_a_nonce_based_content_security_policy(client):
    response = client.get(reverse("lrs_portal:start"))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert len(nonce) >= 16
    # Both GOV.UK Frontend scripts carry the nonce; nothing inline is allowed.
    assert response.content.decode().count(f'nonce="{nonce}"') == 2
    assert "'unsafe-inline'" not in policy


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get(reverse("lrs_portal:start"))["Content-Security-Policy"]
    second = client.get(reverse("lrs_portal:start"))["Content-Security-Policy"]

    assert first != second


def test_public_pages_send_the_other_security_headers(client):
    response = client.get(reverse("lrs_portal:start"), secure=True)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_responses_carry_the_request_id(client):
    response = client.get(reverse("lrs_portal:start"))

    assert len(response["X-Request-ID"]) == 36


def test_only_admin_pages_allow_inline_styles(admin_verified_client):
    response = admin_verified_client.get(reverse("admin:index"))

    assert response.status_code == HTTPStatus.OK
    directives = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert "unsafe-inline" not in directives["script-src"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_to_https(client):
    response = client.get(reverse("lrs_portal:start"))

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response.url.startswith("https://")


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, provider_user):
    from tests.factories import PASSWORD
    from tests.lrs_portal.auth_helpers import post_credentials

    client.get(reverse("two_factor:login"))
    post_credentials(client, provider_user.email, PASSWORD)

    session_cookie = client.cookies["sessionid"]
    assert session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert session_cookie["secure"]  # DEBUG off: cookies are secure by default
    assert client.cookies["csrftoken"]["samesite"] == "Lax"
