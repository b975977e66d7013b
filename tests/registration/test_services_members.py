from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.models import Notification, User, UserSession
from registration import permissions
from registration.models import Membership, Organisation
from registration.services import (
    invitation_accept,
    invitation_send,
    membership_accept_terms,
    membership_remove,
)
from registration.services.members import InvitationRefused
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-new-password-2026"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(website="https://northfield.example.com")


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


def _token_from_email() -> str:
    body = Notification.objects.get(reference="members.invitation").body
    return body.split("/invitation/")[1].split("/")[0]


def test_the_super_user_invites_a_named_person_on_the_organisations_domain(
    organisation, super_user
):
    invitation = invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email="Ann.Lee@Northfield.example.com",
        full_name="Ann Lee",
    )

    assert invitation.email == "ann.lee@northfield.example.com"
    note = Notification.objects.get(reference="members.invitation")
    assert note.to == "ann.lee@northfield.example.com"
    token = _token_from_email()
    assert token not in invitation.token_hash  # only the hash is stored


@pytest.mark.parametrize(
    "email", ["info@northfield.example.com", "ann@gmail.com", "ann@other.example.com"]
)
def test_invitations_refuse_shared_mailboxes_and_other_domains(
    organisation, super_user, email
):
    with pytest.raises(ValidationError):
        invitation_send(
            organisation=organisation,
            acting_user=super_user,
            email=email,
            full_name="Ann Lee",
        )
    assert not organisation.invitations.exists()


def test_only_the_super_user_can_invite(organisation):
    ordinary = member_of(organisation)

    with pytest.raises(PermissionError):
        invitation_send(
            organisation=organisation,
            acting_user=ordinary,
            email="ann.lee@northfield.example.com",
            full_name="Ann Lee",
        )


def test_a_super_user_of_another_organisation_cannot_invite(organisation):
    other_super = member_of(OrganisationFactory.create(), super_user=True)

    with pytest.raises(PermissionError):
        invitation_send(
            organisation=organisation,
            acting_user=other_super,
            email="ann.lee@northfield.example.com",
            full_name="Ann Lee",
        )


def test_accepting_creates_a_member_with_permissions_on_that_organisation_only(
    organisation, super_user
):
    invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email="ann.lee@northfield.example.com",
        full_name="Ann Lee",
    )

    user = invitation_accept(token=_token_from_email(), password=NEW_PASSWORD)

    assert user.check_password(NEW_PASSWORD)
    assert user.membership.organisation == organisation
    assert not user.membership.is_super_user
    assert list(user.groups.values_list("name", flat=True)) == [roles.PROVIDER_USER]
    assert list(permissions.organisations_visible_to(user)) == [organisation]
    assert not permissions.can_manage_users(user, organisation)


def test_an_invitation_works_once(organisation, super_user):
    invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email="ann.lee@northfield.example.com",
        full_name="Ann Lee",
    )
    token = _token_from_email()
    invitation_accept(token=token, password=NEW_PASSWORD)

    with pytest.raises(InvitationRefused):
        invitation_accept(token=token, password=NEW_PASSWORD)
    assert User.objects.filter(email="ann.lee@northfield.example.com").count() == 1


def test_an_expired_invitation_is_refused(organisation, super_user):
    invitation = invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email="ann.lee@northfield.example.com",
        full_name="Ann Lee",
    )
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save()

    with pytest.raises(InvitationRefused):
        invitation_accept(token=_token_from_email(), password=NEW_PASSWORD)


def test_an_invitation_is_refused_once_the_organisation_is_suspended(
    organisation, super_user
):
    invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email="ann.lee@northfield.example.com",
        full_name="Ann Lee",
    )
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    with pytest.raises(InvitationRefused):
        invitation_accept(token=_token_from_email(), password=NEW_PASSWORD)


def test_a_made_up_token_is_refused(db):
    with pytest.raises(InvitationRefused):
        invitation_accept(token="not-a-real-token", password=NEW_PASSWORD)


def test_removing_a_user_deactivates_them_and_ends_their_sessions(
    organisation, super_user, client
):
    member = member_of(organisation)
    client.force_login(member)

    membership_remove(membership=member.membership, acting_user=super_user)

    member.refresh_from_db()
    assert not member.is_active
    assert not Membership.objects.filter(user=member).exists()
    assert not UserSession.objects.filter(user=member).exists()
    assert not permissions.organisations_visible_to(member).exists()
    assert member.history.latest().history_user == super_user


def test_the_super_user_cannot_remove_themselves(organisation, super_user):
    with pytest.raises(InvitationRefused):
        membership_remove(membership=super_user.membership, acting_user=super_user)


def test_accepting_the_terms_is_recorded_once(organisation):
    member = member_of(organisation)
    membership = member.membership
    membership.terms_accepted_at = None
    membership.save()

    membership_accept_terms(membership=membership)
    first = membership.terms_accepted_at
    membership_accept_terms(membership=membership)

    assert first is not None
    assert membership.terms_accepted_at == first


def test_a_removed_user_can_be_invited_back(organisation, super_user):
    member = member_of(organisation)
    membership_remove(membership=member.membership, acting_user=super_user)
    Notification.objects.all().delete()

    invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email=member.email,
        full_name="Back Again",
    )
    returned = invitation_accept(token=_token_from_email(), password=NEW_PASSWORD)

    assert returned.pk == member.pk
    assert returned.is_active
    assert returned.check_password(NEW_PASSWORD)
    assert returned.membership.organisation == organisation
