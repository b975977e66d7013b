import shutil
import subprocess

import pytest
from django.apps import apps
from django.conf import settings as settings_module
from django.core.management import CommandError, call_command
from django.urls import reverse

from approvals.models import MINIMUM_QUORUM
from lrs_portal import roles
from lrs_portal.celery import app as celery_app
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


@pytest.fixture
def eager_outbox():
    """As `make run` runs: no broker, so the outbox's tasks run at once."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


# A real commit, as in `make run`: the outbox sends when seed_demo's transaction
# commits, which must happen while its output still goes to the file.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("log_truncate_allowed")
def test_seed_demo_prints_sign_ins_not_the_emails_it_sent(
    settings, capsys, tmp_path, eager_outbox
):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.LETTERS_DIR = tmp_path / "letters"
    outbox = tmp_path / "outbox.txt"

    call_command("seed_demo", outbox=str(outbox))

    out = capsys.readouterr().out
    sent = outbox.read_text()
    # The screen holds what a person needs to start: each account and what to try.
    for account in ACCOUNTS:
        assert f"{account.email:45} {account.try_this}" in out
    assert "Subject:" not in out
    assert "--- Letter" not in out
    assert len(out.splitlines()) < 40
    assert str(outbox) in out
    # The emails and the director's letter went to the file instead.
    assert "Subject: Sign the Learning Records Service agreement" in sent
    assert "--- Letter (agreement.signing_code)" in sent


def test_every_panel_member_of_the_quorum_can_sign_in(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    panel = [a for a in ACCOUNTS if roles.DSAP_PANEL_MEMBER in a.roles]
    assert len(panel) >= MINIMUM_QUORUM

    for number, member in enumerate(panel, start=1):
        client.logout()
        post_credentials(client, member.email, DEMO_PASSWORD)
        response = post_backup_code(client, DEMO_BACKUP_CODES[number])
        assert response.status_code == 302, member.email
        assert client.get(reverse("admin:index")).status_code == 200


def test_a_demo_member_made_without_a_password_is_given_one(settings):
    settings.DEBUG = True
    user = User.objects.create_user("panel.two@education.example.com", None)
    assert not user.has_usable_password()

    call_command("seed_demo")

    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_make_run_serves_on_the_port_asked_for_and_emails_follow_it():
    make = shutil.which("make")
    assert make is not None
    plan = subprocess.run(
        [make, "-n", "run", "PORT=8001"],  # -n: print the commands, run nothing
        cwd=settings_module.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "runserver 127.0.0.1:8001" in plan
    assert "SERVICE_URL=http://127.0.0.1:8001" in plan
    assert "8000" not in plan
