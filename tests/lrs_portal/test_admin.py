from http import HTTPStatus

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from lrs_portal.admin import BaseAdmin
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _admin_url(model, view, *args):
    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args
    )


@pytest.fixture
def some_rows(superuser):
    UserFactory.create()
    NotificationFactory.create()


REGISTERED = sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label)


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_admin_page_loads_for_a_superuser(
    admin_verified_client, some_rows, model, model_admin
):
    client = admin_verified_client
    changelist = client.get(_admin_url(model, "changelist"))
    assert changelist.status_code == HTTPStatus.OK

    searched = client.get(_admin_url(model, "changelist"), {"q": "zz"})
    assert searched.status_code == HTTPStatus.OK

    if model_admin.has_add_permission(changelist.wsgi_request):
        assert client.get(_admin_url(model, "add")).status_code == HTTPStatus.OK

    obj = model._default_manager.first()
    if obj is not None:
        change = client.get(_admin_url(model, "change", obj.pk))
        assert change.status_code == HTTPStatus.OK
        if isinstance(model_admin, BaseAdmin):
            body = change.content.decode()
            assert _admin_url(model, "history", obj.pk) in body
            assert "Object permissions" in body
            history = client.get(_admin_url(model, "history", obj.pk))
            assert history.status_code == HTTPStatus.OK
            perms = client.get(_admin_url(model, "permissions", obj.pk))
            assert perms.status_code == HTTPStatus.OK


def test_the_user_admin_records_who_changed_a_user(admin_verified_client, superuser):
    person = UserFactory.create(full_name="Before Name")
    url = _admin_url(type(person), "change", person.pk)
    form = admin_verified_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        full_name="After Name",
        groups=[Group.objects.get(name="Caseworker").pk],
        date_joined_0=person.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=person.date_joined.strftime("%H:%M:%S"),
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = admin_verified_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    latest = person.history.latest()
    assert latest.full_name == "After Name"
    assert latest.history_user == superuser


def test_the_admin_is_branded_for_the_service(admin_verified_client):
    body = admin_verified_client.get(reverse("admin:index")).content.decode()

    assert "LRS Portal administration" in body


def test_notifications_are_read_only_in_admin(admin_verified_client):
    from lrs_portal.models import Notification

    note = NotificationFactory.create()

    assert admin_verified_client.get(_admin_url(Notification, "add")).status_code == (
        HTTPStatus.FORBIDDEN
    )
    response = admin_verified_client.post(
        _admin_url(Notification, "delete", note.pk), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Notification.objects.filter(pk=note.pk).exists()


def test_a_caseworker_without_mfa_cannot_open_the_admin(client, caseworker):
    client.force_login(caseworker)

    response = client.get(reverse("admin:index"))

    assert response.status_code == HTTPStatus.FOUND
    assert not response.url.startswith(reverse("admin:index"))


def test_a_caseworker_cannot_grant_themselves_staff_or_superuser(caseworker):
    from tests.conftest import verified_client

    client = verified_client(caseworker)
    url = _admin_url(type(caseworker), "change", caseworker.pk)
    form = client.get(url).context["adminform"].form

    assert "is_superuser" not in form.fields
    assert "groups" not in form.fields
    client.post(
        url,
        {
            "email": caseworker.email,
            "full_name": caseworker.full_name,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    caseworker.refresh_from_db()
    assert not caseworker.is_superuser


def test_a_superuser_can_grant_roles(admin_verified_client):
    person = UserFactory.create()
    form = (
        admin_verified_client.get(_admin_url(type(person), "change", person.pk))
        .context["adminform"]
        .form
    )

    assert "groups" in form.fields
    assert "is_superuser" in form.fields


def test_a_caseworker_cannot_change_a_staff_account_or_its_password(
    caseworker, superuser
):
    from tests.conftest import verified_client

    client = verified_client(caseworker)
    change = _admin_url(type(superuser), "change", superuser.pk)
    password = reverse("admin:auth_user_password_change", args=[superuser.pk])

    client.post(change, {"email": "attacker@example.com", "full_name": "X"})
    response = client.post(
        password,
        {"password1": "new-password-123456", "password2": "new-password-123456"},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    superuser.refresh_from_db()
    assert superuser.email != "attacker@example.com"
    assert not superuser.check_password("new-password-123456")


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["config", "qrcode"])
@pytest.mark.parametrize("pk", ["0", "99999999999999999999"])
def test_a_totp_device_page_for_no_device_is_not_found(admin_verified_client, page, pk):
    # django-otp's own admin read the device with objects.get: a server error.
    response = admin_verified_client.get(f"/admin/otp_totp/totpdevice/{pk}/{page}/")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_a_totp_device_page_still_shows_a_device(admin_verified_client, superuser):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=superuser).first()

    response = admin_verified_client.get(
        f"/admin/otp_totp/totpdevice/{device.pk}/config/"
    )

    assert response.status_code == HTTPStatus.OK
