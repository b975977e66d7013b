import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from lrs_portal.demo import ACCOUNTS, DEMO_BACKUP_CODES, DEMO_PASSWORD
from lrs_portal.models import User
from tests.lrs_portal.auth_helpers import post_backup_code, post_credentials

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.label.startswith(("sessions.", "lrs_portal.UserSession"))
    }


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")

    assert not User.objects.filter(email=ACCOUNTS[0].email).exists()


def test_seed_demo_creates_one_account_per_role_and_prints_them(settings, capsys):
    settings.DEBUG = True

    call_command("seed_demo")

    out = capsys.readouterr().out
    for account in ACCOUNTS:
        assert account.email in out
        user = User.objects.get(email=account.email)
        assert sorted(user.groups.values_list("name", flat=True)) == sorted(
            account.roles
        )
    assert DEMO_PASSWORD in out
    assert DEMO_BACKUP_CODES[0] in out


def test_seed_demo_run_twice_creates_nothing_new(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    before = _row_counts()

    call_command("seed_demo")

    assert _row_counts() == before


def test_demo_staff_sign_in_with_a_printed_backup_code(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    caseworker = next(a for a in ACCOUNTS if a.email.startswith("caseworker"))

    post_credentials(client, caseworker.email, DEMO_PASSWORD)
    response = post_backup_code(client, DEMO_BACKUP_CODES[0])

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
