"""The daily reminders (issue 14, decision 0032): idle drafts at 7 and 21 days,
requests for information unanswered for 14, signing links about to expire,
directors who have not signed a new version as its deadline nears. Each is an
email in the outbox of a listed kind with its Notify template, sent once however
often the job runs. Time is passed to the job, never waited for."""

import json
from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from lrs_portal.email_kinds import BY_NAME
from lrs_portal.jobs import JobLocked, advisory_lock
from lrs_portal.models import JobRun, Notification
from lrs_portal.services import notification_deliver
from lrs_portal.transitions import save_with_history
from registration.models import (
    Organisation,
    RegistrationApplication,
    Reminder,
    SigningRequest,
)
from registration.services.applications import application_request_information
from registration.services.reminders import reminders_run, reminders_send
from registration.services.tokens import token_new
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    member_of,
)

pytestmark = pytest.mark.django_db
A = RegistrationApplication.Status
DAY = timedelta(days=1)


def _later(days: float):
    return timezone.now() + timedelta(days=days)


def _sent(kind=None):
    rows = Notification.objects.order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows)


def _draft():
    return RegistrationApplicationFactory.create()


# --- drafts ---------------------------------------------------------------------


def test_a_draft_idle_for_7_days_is_reminded_once():
    draft = _draft()
    assert reminders_send(now=_later(6.9))["drafts_reminded"] == 0

    assert reminders_send(now=_later(7))["drafts_reminded"] == 1
    assert reminders_send(now=_later(8))["drafts_reminded"] == 0  # run again

    (email,) = _sent()
    assert email.kind == "application.draft_reminder"
    assert email.to == draft.applicant.email
    assert draft.reference in email.subject
    assert "/apply/" in email.body
    assert "7 days" in email.body


def test_the_last_reminder_at_21_days_and_only_it_when_the_first_was_missed():
    reminded = _draft()
    reminders_send(now=_later(7))
    late = _draft()  # never seen at 7 days: the job first finds it at 22

    reminders_send(now=_later(22))
    reminders_send(now=_later(23))

    assert [n.kind for n in _sent() if n.to == reminded.applicant.email] == [
        "application.draft_reminder",
        "application.draft_last_reminder",
    ]
    assert [n.kind for n in _sent() if n.to == late.applicant.email] == [
        "application.draft_last_reminder"
    ]
    assert "last reminder" in _sent("application.draft_last_reminder")[0].body


def test_a_change_to_the_draft_starts_the_count_again():
    draft = _draft()
    reminders_send(now=_later(7))
    # The applicant edits it 10 days on (its history row moved back to then).
    draft.legal_name = "NORTHFIELD COLLEGE LTD"
    save_with_history(draft, acting_user=draft.applicant, reason="Organisation")
    draft.history.filter(history_change_reason="Organisation").update(
        history_date=_later(10)
    )

    assert reminders_send(now=_later(16))["drafts_reminded"] == 0
    assert reminders_send(now=_later(17))["drafts_reminded"] == 1
    assert len(_sent("application.draft_reminder")) == 2


def test_no_draft_reminder_for_submitted_withdrawn_or_closed_accounts():
    RegistrationApplicationFactory.create(submitted=True)
    RegistrationApplicationFactory.create(status=A.WITHDRAWN)
    closed = _draft()
    closed.applicant.is_active = False
    closed.applicant.save()

    assert reminders_send(now=_later(30))["drafts_reminded"] == 0
    assert _sent() == []


# --- requests for information -----------------------------------------------------


def _sent_back(caseworker):
    application = RegistrationApplicationFactory.create(submitted=True)
    application_request_information(
        application=application,
        acting_user=caseworker,
        request_text="Send your latest accounts",
    )
    application.refresh_from_db()
    return application


def test_an_unanswered_request_for_information_is_reminded_at_14_days(caseworker):
    application = _sent_back(caseworker)
    # The applicant starts changing their answers: still unanswered.
    save_with_history(application, acting_user=application.applicant, reason="Edit")

    assert reminders_send(now=_later(13.9))["information_requests_reminded"] == 0
    assert reminders_send(now=_later(14))["information_requests_reminded"] == 1
    assert reminders_send(now=_later(15))["information_requests_reminded"] == 0

    (email,) = _sent("application.information_reminder")
    assert email.to == application.applicant.email
    assert f"/apply/{application.reference}/" in email.body
    assert "Send your latest accounts" not in email.body  # read it signed in


def test_a_second_request_is_reminded_afresh(caseworker):
    application = _sent_back(caseworker)
    reminders_send(now=_later(14))
    # Answered, then sent back again 20 days on.
    application.status = A.SUBMITTED
    save_with_history(application, acting_user=application.applicant, reason="Sent")
    application_request_information(
        application=application, acting_user=caseworker, request_text="And the ICO"
    )
    application.refresh_from_db()
    again = ["Sent", "And the ICO"]
    application.history.filter(history_change_reason__in=again).update(
        history_date=_later(20)
    )

    assert reminders_send(now=_later(33))["information_requests_reminded"] == 0
    assert reminders_send(now=_later(34))["information_requests_reminded"] == 1


def test_an_answered_request_is_not_reminded(caseworker):
    application = _sent_back(caseworker)
    application.status = A.SUBMITTED
    save_with_history(application, acting_user=application.applicant, reason="Sent")

    assert reminders_send(now=_later(30))["information_requests_reminded"] == 0


# --- signing links ---------------------------------------------------------------


def _link(application, *, expires_in_days, version=None, **extra):
    _, hashed = token_new()
    return SigningRequest.objects.create(
        application=application,
        agreement_version=version or AgreementVersionFactory.create(),
        director_name="SMITH, Jane Alice",
        email="jane.smith@northfield-college.example.com",
        token_hash=hashed,
        expires_at=_later(expires_in_days),
        **extra,
    )


def test_a_link_about_to_expire_reminds_the_director_and_the_applicant_once():
    application = RegistrationApplicationFactory.create(submitted=True)
    link = _link(application, expires_in_days=5)
    assert reminders_send()["signing_links_reminded"] == 0

    assert reminders_send(now=_later(2.5))["signing_links_reminded"] == 2
    assert reminders_send(now=_later(3))["signing_links_reminded"] == 0

    (director,) = _sent("agreement.signing_link_reminder")
    assert director.to == link.email
    assert BY_NAME[director.kind].to_director  # undelivered: caseworkers told
    (applicant,) = _sent("application.signing_link_expiring")
    assert applicant.to == application.applicant.email
    assert f"/apply/{application.reference}/" in applicant.body


@pytest.mark.parametrize(
    "extra", [{"used_at": timezone.now()}, {"cancelled_at": timezone.now()}]
)
def test_no_reminder_for_a_used_cancelled_or_expired_link(extra):
    application = RegistrationApplicationFactory.create(submitted=True)
    _link(application, expires_in_days=1, **extra)
    _link(application, expires_in_days=-1)

    assert reminders_send()["signing_links_reminded"] == 0


def test_no_signing_reminder_once_the_application_is_decided():
    application = RegistrationApplicationFactory.create(status=A.REJECTED)
    _link(application, expires_in_days=1)

    assert reminders_send()["signing_links_reminded"] == 0


# --- a new agreement version's deadline --------------------------------------------


@pytest.fixture
def versions():
    first = AgreementVersionFactory.create()
    second = AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() + timedelta(days=20)
    )
    return first, second


def _organisation(signed, **extra):
    organisation = OrganisationFactory.create(last_signed_version=signed, **extra)
    super_user = member_of(organisation, super_user=True)
    member_of(organisation)  # not a super user: not told
    return organisation, super_user


def test_directors_and_super_users_are_reminded_14_then_3_days_before(versions):
    first, second = versions
    organisation, super_user = _organisation(first)
    _organisation(second)  # signed already

    assert reminders_send(now=_later(5))["resign_deadlines_reminded"] == 0
    assert reminders_send(now=_later(6))["resign_deadlines_reminded"] == 1
    assert reminders_send(now=_later(7))["resign_deadlines_reminded"] == 0
    assert reminders_send(now=_later(17))["resign_deadlines_reminded"] == 1
    assert reminders_send(now=_later(18))["resign_deadlines_reminded"] == 0
    assert reminders_send(now=_later(21))["resign_deadlines_reminded"] == 0  # past

    sent = _sent("agreement.resign_reminder")
    assert sorted(n.to for n in sent) == sorted(
        [organisation.signing_director_email, super_user.email] * 2
    )
    assert f"version {second.number}" in sent[0].subject


def test_a_suspended_organisation_is_reminded_a_revoked_one_is_not(versions):
    first, _ = versions
    suspended, _ = _organisation(first, status=Organisation.Status.SUSPENDED)
    _organisation(first, status=Organisation.Status.REVOKED)
    _organisation(first, status=Organisation.Status.DEREGISTERED)

    assert reminders_send(now=_later(10))["resign_deadlines_reminded"] == 1
    assert {n.to for n in _sent()} >= {suspended.signing_director_email}
    assert len(_sent()) == 2


def test_no_reminder_for_a_version_without_a_deadline():
    first = AgreementVersionFactory.create()
    AgreementVersionFactory.create()
    _organisation(first)

    assert reminders_send(now=_later(1))["resign_deadlines_reminded"] == 0


# --- the job ----------------------------------------------------------------------


def test_the_job_is_recorded_and_a_second_run_sends_nothing(caseworker):
    _draft()
    _sent_back(caseworker)
    later = _later(15)

    first = reminders_run(now=later)
    second = reminders_run(now=later)

    assert first.outcome == JobRun.Outcome.SUCCEEDED
    assert first.counts == {"drafts_reminded": 1, "information_requests_reminded": 1}
    assert second.counts == {}
    assert len(_sent()) == 2
    assert Reminder.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_while_another_holds_the_lock_sends_nothing():
    _draft()
    with advisory_lock("lrs.job.reminders") as held:
        assert held
        with pytest.raises(JobLocked):
            reminders_run(now=_later(8))
    assert _sent() == []


def test_the_beat_runs_the_task_daily():
    from registration.tasks import reminders_task

    entry = settings.CELERY_BEAT_SCHEDULE["reminders-daily"]
    assert entry["task"] == reminders_task.name


def test_every_reminder_goes_to_notify_with_its_kinds_template(settings, caseworker):
    """Through the outbox to GOV.UK Notify (recorded responses): each reminder
    uses the template of its own kind."""
    from tests.lrs_portal.test_notify_email import CREATED, EMAILS, KEY, TEMPLATES

    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = TEMPLATES
    first = AgreementVersionFactory.create()
    current = AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() + timedelta(days=10)
    )
    _organisation(first)
    _draft()
    _sent_back(caseworker)
    application = RegistrationApplicationFactory.create(submitted=True)
    _link(application, expires_in_days=1, version=current)
    reminders_send()  # the signing link's two, the deadline's
    reminders_send(now=_later(14))  # the 7-day draft, the request for information
    reminders_send(now=_later(21))  # the 21-day draft
    kinds = {
        "application.draft_reminder",
        "application.draft_last_reminder",
        "application.information_reminder",
        "application.signing_link_expiring",
        "agreement.signing_link_reminder",
        "agreement.resign_reminder",
    }
    assert {n.kind for n in _sent()} == kinds

    with responses.RequestsMock() as notify:
        notify.post(EMAILS, json=CREATED, status=201)
        for email in _sent():
            assert notification_deliver(notification_id=email.pk)
        used = [json.loads(call.request.body) for call in notify.calls]

    assert {(u["email_address"], u["template_id"]) for u in used} == {
        (n.to, TEMPLATES[n.kind]) for n in _sent()
    }
    assert all(n.status == Notification.Status.SENT for n in _sent())


def test_the_command_sends_what_is_due_and_says_so(capsys):
    from django.core.management import call_command

    call_command("send_reminders")
    assert "No reminders were due." in capsys.readouterr().out
    draft = _draft()
    draft.history.update(history_date=_later(-8))
    call_command("send_reminders")
    call_command("send_reminders")
    assert "drafts reminded: 1" in capsys.readouterr().out
    assert len(_sent("application.draft_reminder")) == 1
