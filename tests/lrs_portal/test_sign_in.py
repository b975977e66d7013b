from datetime import timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from two_factor.utils import get_otpauth_url

from tests.factories import PASSWORD, TOTPDeviceFactory, UserFactory, add_backup_codes
from tests.lrs_portal.auth_helpers import post_backup_code, post_credentials

pytestmark = pytest.mark.django_db


def test_it_signs_in_a_provider_user_with_email_and_password(client, provider_user):
    response = post_credentials(client, provider_user.email, PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("lrs_portal:account")
    page = client.get(reverse("lrs_portal:account"))
    assert provider_user.full_name in page.content.decode()


def test_it_accepts_the_email_address_in_any_case(client, provider_user):
    response = post_credentials(client, provider_user.email.upper(), PASSWORD)

    assert response.status_code == HTTPStatus.FOUND


def test_it_shows_a_govuk_error_for_a_wrong_password(client, provider_user):
    response = post_credentials(client, provider_user.email, "not-the-password")

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "_auth_user_id" not in client.session


def test_it_signs_out_only_by_post(client, provider_user):
    client.force_login(provider_user)

    assert client.get(reverse("lrs_portal:sign-out")).status_code == 405
    response = client.post(reverse("lrs_portal:sign-out"))

    assert response.url == reverse("lrs_portal:signed-out")
    assert client.get(reverse("lrs_portal:account")).status_code == HTTPStatus.FOUND


def test_it_requires_sign_in_for_the_account_page(client):
    response = client.get(reverse("lrs_portal:account"))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("two_factor:login"))


def _fail_until_locked(client, email, ip="192.0.2.10"):
    for _ in range(5):
        post_credentials(client, email, "wrong-password", ip=ip)


def test_it_locks_the_account_and_address_after_five_failures(client, provider_user):
    _fail_until_locked(client, provider_user.email)

    response = post_credentials(client, provider_user.email, PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_block_the_same_user_from_another_address(
    client, provider_user
):
    _fail_until_locked(client, provider_user.email, ip="192.0.2.10")

    response = post_credentials(client, provider_user.email, PASSWORD, ip="192.0.2.99")

    assert response.status_code == HTTPStatus.FOUND


def test_a_lockout_does_not_block_other_users_at_the_same_address(
    client, provider_user
):
    colleague = UserFactory.create()
    _fail_until_locked(client, provider_user.email)

    response = post_credentials(client, colleague.email, PASSWORD)

    assert response.status_code == HTTPStatus.FOUND


def test_the_lockout_ends_after_the_cooldown(client, provider_user, settings):
    _fail_until_locked(client, provider_user.email)
    assert (
        post_credentials(client, provider_user.email, PASSWORD).status_code
        == HTTPStatus.TOO_MANY_REQUESTS
    )

    # Move the recorded failures back past the cool-off period.
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time = past
        attempt.save()

    response = post_credentials(client, provider_user.email, PASSWORD)
    assert response.status_code == HTTPStatus.FOUND


def test_staff_with_a_device_must_give_a_code_before_signing_in(client, caseworker):
    TOTPDeviceFactory.create(user=caseworker)

    response = post_credentials(client, caseworker.email, PASSWORD)

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session
    assert 'name="token-otp_token"' in response.content.decode()


def test_staff_sign_in_with_a_backup_code_and_reach_the_admin(client, superuser):
    TOTPDeviceFactory.create(user=superuser)
    add_backup_codes(superuser, "code1234")

    post_credentials(client, superuser.email, PASSWORD)
    response = post_backup_code(client, "code1234")

    assert response.status_code == HTTPStatus.FOUND
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK


def test_a_backup_code_works_only_once(client, superuser):
    TOTPDeviceFactory.create(user=superuser)
    add_backup_codes(superuser, "code1234")
    post_credentials(client, superuser.email, PASSWORD)
    post_backup_code(client, "code1234")
    client.post(reverse("lrs_portal:sign-out"))

    post_credentials(client, superuser.email, PASSWORD)
    response = post_backup_code(client, "code1234")

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session


def test_the_admin_refuses_staff_who_have_not_verified_mfa(client, superuser):
    client.force_login(superuser)  # password only: no second factor this session

    response = client.get(reverse("admin:index"))

    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/" not in response.url or "login" in response.url


def test_staff_without_a_device_are_sent_to_set_one_up(client, caseworker):
    post_credentials(client, caseworker.email, PASSWORD)

    response = client.get(reverse("lrs_portal:account"))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("two_factor:setup")


def test_department_roles_need_mfa_even_without_staff_status(client):
    assessor = UserFactory.create(roles=("DSAP assessor",))
    client.force_login(assessor)

    response = client.get(reverse("lrs_portal:account"))

    assert response.url == reverse("two_factor:setup")


def test_providers_do_not_need_mfa(client, provider_user):
    client.force_login(provider_user)

    assert client.get(reverse("lrs_portal:account")).status_code == HTTPStatus.OK


def test_an_unverified_session_of_a_user_with_a_device_is_ended(client, caseworker):
    TOTPDeviceFactory.create(user=caseworker)
    client.force_login(caseworker)

    response = client.get(reverse("lrs_portal:account"))

    assert response.url.startswith(reverse("two_factor:login"))
    assert "_auth_user_id" not in client.session


def test_password_reset_emails_a_single_use_link(client, provider_user, mailoutbox):
    response = client.post(
        reverse("lrs_portal:password-reset"), {"email": provider_user.email}
    )

    assert response.url == reverse("lrs_portal:password-reset-done")
    assert len(mailoutbox) == 1
    assert "/account/reset/" in mailoutbox[0].body


def test_password_reset_does_not_reveal_unknown_addresses(client, mailoutbox):
    response = client.post(
        reverse("lrs_portal:password-reset"), {"email": "nobody@example.com"}
    )

    assert response.url == reverse("lrs_portal:password-reset-done")
    assert mailoutbox == []


def test_changing_the_case_of_the_email_does_not_evade_a_lockout(client, provider_user):
    _fail_until_locked(client, provider_user.email)

    response = post_credentials(client, provider_user.email.upper(), PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_lockout_records_the_account_it_was_for(client, provider_user):
    _fail_until_locked(client, provider_user.email.title())

    assert AccessAttempt.objects.get().username == provider_user.email


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", "", "Enter your email address"),
        ("someone@example.com", "", "Enter your password"),
        ("someone@example.com", "wrong", "Enter a correct email address and password"),
    ],
)
def test_sign_in_errors_use_govuk_wording(client, db, email, password, message):
    body = post_credentials(client, email, password).content.decode()

    assert message in body
    assert "govuk-error-summary" in body


def test_a_wrong_code_gets_a_govuk_error(client, caseworker):
    TOTPDeviceFactory.create(user=caseworker)
    post_credentials(client, caseworker.email, PASSWORD)

    response = client.post(
        reverse("two_factor:login"),
        {"sign_in-current_step": "token", "token-otp_token": "12"},
    )

    assert "Enter the code as 6 digits, like 123456" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_set_up_qr_code_names_the_service_not_the_host(client, caseworker):
    client.force_login(caseworker)
    session = client.session
    session["django_two_factor-qr_secret_key"] = "JBSWY3DPEHPK3PXP"
    session.save()

    with mock.patch(
        "two_factor.views.core.get_otpauth_url", wraps=get_otpauth_url
    ) as otpauth:
        response = client.get(reverse("two_factor:qr"))

    assert response.status_code == HTTPStatus.OK
    assert "<svg" in response.content.decode()
    assert otpauth.call_args.kwargs["issuer"] == "LRS Portal"


def test_staff_with_only_backup_codes_are_sent_to_set_up_not_looped(client, caseworker):
    add_backup_codes(caseworker, "code1234")
    post_credentials(client, caseworker.email, PASSWORD)

    response = client.get(reverse("lrs_portal:account"))

    assert response.url == reverse("two_factor:setup")
    assert client.session.get("_auth_user_id") == str(caseworker.pk)


def test_behind_a_trusted_proxy_lockout_uses_the_forwarded_client_address(
    client, provider_user, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        client.post(
            reverse("two_factor:login"),
            {
                "sign_in-current_step": "auth",
                "auth-username": provider_user.email,
                "auth-password": "wrong",
            },
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )

    attempt = AccessAttempt.objects.get()
    assert attempt.ip_address == "203.0.113.9"
    # Another client behind the same proxy is not locked out.
    response = client.post(
        reverse("two_factor:login"),
        {
            "sign_in-current_step": "auth",
            "auth-username": provider_user.email,
            "auth-password": PASSWORD,
        },
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == HTTPStatus.FOUND


# --- issue 16: a failed sign-in is always recorded -------------------------------

LONG_EMAIL = "a" * 300 + "@example.com"


@pytest.mark.postgres
def test_an_email_longer_than_axes_can_store_is_a_field_error_not_a_500(client):
    response = post_credentials(client, LONG_EMAIL, "wrong-password")

    assert response.status_code == HTTPStatus.OK
    assert "Email address must be 254 characters or fewer" in response.content.decode()
    assert AccessAttempt.objects.get().username == LONG_EMAIL[:255]


@pytest.mark.parametrize(
    "email",
    [LONG_EMAIL, "someone\x00@example.com", "some\x01one@example.com"],
    ids=["too long", "NUL", "control character"],
)
def test_a_sign_in_the_form_refuses_still_counts_towards_the_lockout(client, email):
    _fail_until_locked(client, email)

    response = post_credentials(client, email, "wrong-password")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert AccessAttempt.objects.get().failures_since_start >= 5


def test_a_refused_email_does_not_lock_out_the_real_account(client, provider_user):
    _fail_until_locked(client, provider_user.email + "\x01")

    response = post_credentials(client, provider_user.email, PASSWORD)

    assert response.status_code == HTTPStatus.FOUND


def test_after_wrong_codes_even_the_right_one_waits_and_the_page_says_how_long(
    client, caseworker
):
    from django_otp.oath import totp

    device = TOTPDeviceFactory.create(user=caseworker)
    post_credentials(client, caseworker.email, PASSWORD)
    client.post(
        reverse("two_factor:login"),
        {"sign_in-current_step": "token", "token-otp_token": "000000"},
    )
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Eight failures in a row: django-otp waits 2**7 = 128 seconds.
    device.throttling_failure_count = 8
    device.throttling_failure_timestamp = timezone.now()
    device.save()

    response = client.post(
        reverse("two_factor:login"),
        {
            "sign_in-current_step": "token",
            "token-otp_token": f"{totp(device.bin_key):06d}",
        },
    )

    body = response.content.decode()
    assert "You entered a wrong code too many times. Wait 3 minutes" in body
    assert "_auth_user_id" not in client.session  # the lockout stays


def test_the_wait_is_said_in_words_rounded_up():
    from lrs_portal.forms import wait_words

    now = timezone.now()
    with mock.patch("lrs_portal.forms.timezone.now", return_value=now):
        assert wait_words(now + timedelta(seconds=0.2)) == "1 second"
        assert wait_words(now + timedelta(seconds=3.5)) == "4 seconds"
        assert wait_words(now + timedelta(seconds=60)) == "1 minute"
        assert wait_words(now + timedelta(seconds=61)) == "2 minutes"
        assert wait_words(now - timedelta(seconds=5)) == "1 second"


def _reset_link(client, user, mailoutbox):
    client.post(reverse("lrs_portal:password-reset"), {"email": user.email})
    link = next(
        line for line in mailoutbox[-1].body.split() if "/account/reset/" in line
    )
    path = "/" + link.split("/", 3)[3]
    return client.get(path, follow=True).redirect_chain[-1][0]


def test_a_new_password_after_a_reset_gets_one_govuk_error(
    client, provider_user, mailoutbox
):
    form_url = _reset_link(client, provider_user, mailoutbox)

    response = client.post(
        form_url, {"new_password1": "123456789012", "new_password2": "123456789012"}
    )

    html = response.content.decode()
    summary = html.split('govuk-error-summary__list">', 1)[1].split("</ul>")[0]
    assert summary.count("<li>") == 1
    assert "New password must include letters, not only numbers" in summary
    assert 'href="#id_new_password1"' in summary
    assert "This password" not in html


def test_a_new_password_that_does_not_match_says_so_in_govuk_words(
    client, provider_user, mailoutbox
):
    form_url = _reset_link(client, provider_user, mailoutbox)

    response = client.post(
        form_url,
        {"new_password1": "a-long-new-password-2026", "new_password2": "different"},
    )

    assert "The passwords do not match" in response.content.decode()
    provider_user.refresh_from_db()
    assert not provider_user.check_password("a-long-new-password-2026")
