"""The department's quarterly recertification (issue 14, decision 0029): a
superuser confirms or removes each caseworker, assessor and panel member; those
not confirmed in time cannot use the admin site until confirmed, and both they
and the superusers are told, once."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.models import Notification, UserSession
from registration.models import RecertificationCampaign, RecertificationConfirmation
from registration.services.recertification import (
    RecertificationRefused,
    department_recertification_open,
    recertification_confirm,
    recertification_remove,
    recertification_run,
    staff_recertification_lapsed,
)
from tests.conftest import verified_client
from tests.factories import OrganisationFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db
STATUS = RecertificationConfirmation.Status
CHANGELIST = "admin:registration_recertificationconfirmation_changelist"


def _department():
    return RecertificationCampaign.objects.get(organisation__isnull=True)


def _confirmation(user):
    return RecertificationConfirmation.objects.get(
        user=user, campaign__organisation__isnull=True
    )


def _lapse():
    """The deadline passes (the campaign's dates move back fifteen days)."""
    campaign = _department()
    campaign.opened_at -= timedelta(days=15)
    campaign.due_at -= timedelta(days=15)
    campaign.save()


def _emails(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("to", flat=True))


def test_caseworkers_assessors_and_panel_members_are_asked_superusers_told(
    caseworker, assessor, panel_member, superuser
):
    UserFactory.create(roles=[roles.CASEWORKER], is_staff=True, is_active=False)
    member_of(OrganisationFactory.create())  # a provider user: their super user's
    another_superuser = UserFactory.create(superuser=True)

    recertification_run()
    recertification_run()  # the job run twice opens and sends once

    asked = RecertificationConfirmation.objects.filter(
        campaign__organisation__isnull=True
    ).values_list("user__email", flat=True)
    assert sorted(asked) == sorted(
        [caseworker.email, assessor.email, panel_member.email]
    )
    assert _emails("recertification.department.opened") == sorted(
        [superuser.email, another_superuser.email]
    )
    assert str(_department()).startswith("Department for Education staff")


def test_no_department_campaign_without_staff(superuser):
    assert department_recertification_open() is None
    assert not RecertificationCampaign.objects.exists()


def test_staff_unconfirmed_by_the_deadline_lose_the_admin_until_confirmed(
    caseworker, superuser
):
    department_recertification_open()
    client = verified_client(caseworker)
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK

    _lapse()
    assert staff_recertification_lapsed(caseworker)
    refused = client.get(reverse("admin:index"))
    assert refused.status_code == HTTPStatus.FOUND
    assert refused["Location"].startswith(reverse("admin:login"))
    told = client.get(reverse("admin:index"), follow=True)
    assert "until a superuser confirms you" in told.content.decode()
    assert told.redirect_chain[-1][0] != reverse("admin:index")

    recertification_confirm(
        confirmation=_confirmation(caseworker), acting_user=superuser
    )
    assert not staff_recertification_lapsed(caseworker)
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK


def test_the_late_and_the_superusers_are_told_once(caseworker, assessor, superuser):
    department_recertification_open()
    recertification_confirm(confirmation=_confirmation(assessor), acting_user=superuser)
    _lapse()

    recertification_run()
    recertification_run()

    assert _emails("recertification.staff.lapsed") == [caseworker.email]
    assert _emails("recertification.department.lapsed") == [superuser.email]


def test_a_superuser_confirms_and_removes_with_the_admin_actions(
    caseworker, assessor, superuser
):
    department_recertification_open()
    client = verified_client(caseworker)  # a session to be ended
    client.get(reverse("admin:index"))
    admin = verified_client(superuser)
    page = admin.get(reverse(CHANGELIST))
    assert page.status_code == HTTPStatus.OK
    assert "Confirm they still need department access" in page.content.decode()

    admin.post(
        reverse(CHANGELIST),
        {
            "action": "confirm_selected",
            "_selected_action": [_confirmation(assessor).pk],
        },
    )
    admin.post(
        reverse(CHANGELIST),
        {
            "action": "remove_selected",
            "_selected_action": [_confirmation(caseworker).pk],
        },
    )

    assert _confirmation(assessor).status == STATUS.CONFIRMED
    assert _confirmation(caseworker).status == STATUS.REMOVED
    caseworker.refresh_from_db()
    assert caseworker.is_staff is False
    assert not caseworker.groups.filter(name=roles.CASEWORKER).exists()
    assert caseworker.is_active  # the account stays; its department access goes
    assert not UserSession.objects.filter(user=caseworker).exists()
    assert _confirmation(caseworker).decided_by == superuser


def test_only_a_superuser_answers(caseworker, assessor, superuser):
    department_recertification_open()
    confirmation = _confirmation(assessor)

    with pytest.raises(PermissionError):
        recertification_confirm(confirmation=confirmation, acting_user=caseworker)
    provider_super_user = member_of(OrganisationFactory.create(), super_user=True)
    with pytest.raises(PermissionError):
        recertification_remove(
            confirmation=confirmation, acting_user=provider_super_user
        )
    # A caseworker sees the list but is offered no action, and a posted one
    # does nothing.
    client = verified_client(caseworker)
    page = client.get(reverse(CHANGELIST))
    assert "Confirm they still need department access" not in page.content.decode()
    client.post(
        reverse(CHANGELIST),
        {"action": "confirm_selected", "_selected_action": [confirmation.pk]},
    )
    assert _confirmation(assessor).status == STATUS.PENDING


def test_an_answer_given_twice_is_refused(assessor, superuser):
    department_recertification_open()
    recertification_confirm(confirmation=_confirmation(assessor), acting_user=superuser)
    with pytest.raises(RecertificationRefused):
        recertification_remove(
            confirmation=_confirmation(assessor), acting_user=superuser
        )
    assessor.refresh_from_db()
    assert assessor.is_staff


def test_provider_recertification_is_not_mixed_with_the_departments(
    caseworker, superuser
):
    organisation = OrganisationFactory.create()
    super_user = member_of(organisation, super_user=True)
    member_of(organisation)
    recertification_run()

    assert RecertificationCampaign.objects.count() == 2
    # The provider's page lists only its own users.
    client = verified_client(super_user)
    page = client.get(reverse("registration:recertification")).content.decode()
    assert caseworker.email not in page
    response = client.post(
        reverse(
            "registration:recertification-confirm", args=[_confirmation(caseworker).pk]
        )
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _confirmation(caseworker).status == STATUS.PENDING
    # Nor does the department's list show the provider's users.
    listed = verified_client(superuser).get(reverse(CHANGELIST)).context["cl"]
    assert [c.user for c in listed.result_list] == [caseworker]


def test_the_next_quarter_opens_a_new_department_campaign(caseworker, superuser):
    now = timezone.now()
    department_recertification_open(now=now)
    assert department_recertification_open(now=now) is None
    assert department_recertification_open(now=now + timedelta(days=92)) is not None
    assert (
        RecertificationCampaign.objects.filter(organisation__isnull=True).count() == 2
    )


def test_the_command_runs_the_job_and_says_what_it_did(caseworker, superuser, capsys):
    from django.core.management import call_command

    call_command("run_recertification")
    call_command("run_recertification")
    out = capsys.readouterr().out
    assert "department campaigns opened: 1" in out
    assert out.count("department campaigns opened") == 1
    assert "Nothing to do." in out
