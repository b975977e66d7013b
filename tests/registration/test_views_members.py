from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import Notification, User
from registration.models import Invitation, Membership
from registration.services import invitation_send
from tests.factories import OrganisationFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-new-password-2026"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(
        legal_name="Northfield College Limited",
        website="https://northfield.example.com",
    )


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True, full_name="Sam Super")


@pytest.fixture
def member(organisation):
    return member_of(organisation, full_name="Uma User")


def not_yet(user):
    """A member who has not accepted the user terms yet."""
    user.membership.terms_accepted_at = None
    user.membership.save(update_fields=["terms_accepted_at"])


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def super_client(super_user):
    return signed_in(super_user)


def url(name, *args):
    return reverse(f"registration:{name}", args=args)


def body(response):
    return response.content.decode()


def assert_field_errors(response, *fields):
    assert response.status_code == HTTPStatus.OK
    html = body(response)
    assert 'class="govuk-error-summary"' in html
    for field in fields:
        assert f'id="id_{field}_error"' in html, field


def invite(organisation, super_user, email="ann.lee@northfield.example.com"):
    invitation_send(
        organisation=organisation,
        acting_user=super_user,
        email=email,
        full_name="Ann Lee",
    )
    note = Notification.objects.filter(reference="members.invitation").latest("pk")
    return note.body.split("/invitation/")[1].split("/")[0]


# --- The list of users --------------------------------------------------------


def test_the_super_user_sees_members_roles_terms_and_pending_invitations(
    super_client, organisation, super_user, member
):
    invite(organisation, super_user)

    html = body(super_client.get(url("users")))

    assert "Sam Super" in html
    assert "Uma User" in html
    assert member.email in html
    assert "Super user" in html
    assert "Ann Lee" in html
    assert "ann.lee@northfield.example.com" in html
    assert url("remove-user", member.membership.pk) in html
    assert url("remove-user", super_user.membership.pk) not in html


def test_an_ordinary_user_cannot_see_or_manage_the_users(member):
    client = signed_in(member)

    for response in [
        client.get(url("users")),
        client.get(url("invite-user")),
        client.post(url("invite-user"), {"full_name": "X", "email": "x@y.example"}),
    ]:
        # Their own organisation's page: they learn who manages it (issue 17).
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "Only your organisation's super user" in response.content.decode()
    assert not Invitation.objects.exists()


# --- Inviting -----------------------------------------------------------------


def test_the_super_user_invites_a_named_person(super_client, organisation):
    response = super_client.post(
        url("invite-user"),
        {"full_name": "Ann Lee", "email": "Ann.Lee@northfield.example.com"},
        follow=True,
    )

    assert "We have emailed an invitation to ann.lee@northfield.example.com" in body(
        response
    )
    invitation = Invitation.objects.get()
    assert invitation.organisation == organisation
    assert Notification.objects.get(reference="members.invitation").to == (
        "ann.lee@northfield.example.com"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter their full name"),
        ({"full_name": "Ann", "email": "not an email"}, "correct format"),
        (
            {"full_name": "Ann", "email": "info@northfield.example.com"},
            "shared mailbox",
        ),
        ({"full_name": "Ann", "email": "ann@gmail.com"}, "own domain"),
        ({"full_name": "Ann", "email": "ann@other.example.com"}, "own domain"),
    ],
)
def test_bad_invitations_show_errors_and_send_nothing(super_client, data, message):
    response = super_client.post(url("invite-user"), data)

    assert_field_errors(response, "email")
    assert message in body(response)
    assert not Invitation.objects.exists()


def test_someone_who_already_has_an_account_is_not_invited(super_client, member):
    response = super_client.post(
        url("invite-user"), {"full_name": "Uma User", "email": member.email}
    )

    assert_field_errors(response, "email")
    assert "already has an LRS Portal account" in body(response)


# --- Removing -----------------------------------------------------------------


def test_the_super_user_removes_a_user_after_confirming(super_client, member):
    membership = member.membership

    page = super_client.get(url("remove-user", membership.pk))
    assert "Are you sure you want to remove Uma User?" in body(page)
    response = super_client.post(url("remove-user", membership.pk), follow=True)

    assert "You removed Uma User" in body(response)
    member.refresh_from_db()
    assert not member.is_active
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_super_user_cannot_remove_themselves(super_client, super_user):
    membership = super_user.membership

    for response in [
        super_client.get(url("remove-user", membership.pk)),
        super_client.post(url("remove-user", membership.pk)),
    ]:
        assert response.status_code == HTTPStatus.NOT_FOUND
    super_user.refresh_from_db()
    assert super_user.is_active


def test_a_user_of_another_organisation_cannot_be_removed(super_client):
    stranger = member_of(OrganisationFactory.create())

    response = super_client.post(url("remove-user", stranger.membership.pk))

    assert response.status_code == HTTPStatus.NOT_FOUND
    stranger.refresh_from_db()
    assert stranger.is_active


# --- Accepting an invitation --------------------------------------------------


def test_the_invited_person_creates_their_account_and_accepts_the_terms(
    client, organisation, super_user
):
    token = invite(organisation, super_user)

    page = client.get(url("accept-invitation", token))
    html = body(page)
    assert "Ann Lee" in html
    assert "ann.lee@northfield.example.com" in html
    assert "Northfield College Limited" in html
    assert page["Referrer-Policy"] == "strict-origin"

    response = client.post(url("accept-invitation", token), {"password": NEW_PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("user-terms")
    user = User.objects.get(email="ann.lee@northfield.example.com")
    assert user.check_password(NEW_PASSWORD)
    assert user.membership.organisation == organisation
    assert user.membership.terms_accepted_at is None

    terms = body(client.get(url("user-terms")))
    assert "never share" in terms.lower()
    assert "privacy notice" in terms
    response = client.post(url("user-terms"), {"next": ""})

    user.membership.refresh_from_db()
    assert user.membership.terms_accepted_at is not None
    assert response.url == reverse("lrs_portal:account")


def test_an_invitation_works_only_once(client, organisation, super_user):
    token = invite(organisation, super_user)
    client.post(url("accept-invitation", token), {"password": NEW_PASSWORD})

    again = Client().get(url("accept-invitation", token))
    second = Client().post(url("accept-invitation", token), {"password": NEW_PASSWORD})

    assert again.status_code == second.status_code == HTTPStatus.GONE
    assert "This link has expired or has already been used" in body(again)
    assert User.objects.filter(email="ann.lee@northfield.example.com").count() == 1


def test_an_expired_invitation_is_refused(client, organisation, super_user):
    token = invite(organisation, super_user)
    invitation = Invitation.objects.get()
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save(update_fields=["expires_at"])

    response = client.post(url("accept-invitation", token), {"password": NEW_PASSWORD})

    assert response.status_code == HTTPStatus.GONE
    assert not User.objects.filter(email=invitation.email).exists()


def test_an_unknown_invitation_is_gone(client):
    assert client.get(url("accept-invitation", "nope")).status_code == HTTPStatus.GONE


@pytest.mark.parametrize(
    "password", ["", "short", "123456789012345", "ann.lee@northfield.example.com"]
)
def test_a_weak_password_is_refused_and_the_invitation_kept(
    client, organisation, super_user, password
):
    token = invite(organisation, super_user)

    response = client.post(url("accept-invitation", token), {"password": password})

    assert_field_errors(response, "password")
    assert not User.objects.filter(email="ann.lee@northfield.example.com").exists()
    assert Invitation.objects.get().is_usable


def test_an_invitation_to_an_existing_account_explains_why_not(
    client, organisation, super_user
):
    token = invite(organisation, super_user)
    UserFactory.create(email="ann.lee@northfield.example.com")

    response = client.post(url("accept-invitation", token), {"password": NEW_PASSWORD})

    assert_field_errors(response)
    assert "An account with this email address already exists" in body(response)


# --- The user terms -----------------------------------------------------------


def test_a_member_who_has_not_accepted_the_terms_is_sent_to_them_first(
    organisation,
):
    super_user = member_of(organisation, super_user=True)
    not_yet(super_user)
    client = signed_in(super_user)

    response = client.get(url("users"))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == f"{url('user-terms')}?next=%2Forganisation%2Fusers%2F"
    html = body(client.get(response.url))
    assert 'value="/organisation/users/"' in html
    accepted = client.post(url("user-terms"), {"next": "/organisation/users/"})
    assert accepted.url == "/organisation/users/"
    assert client.get(url("users")).status_code == HTTPStatus.OK


def test_the_terms_never_send_anyone_to_another_site(organisation):
    super_user = member_of(organisation, super_user=True)
    not_yet(super_user)
    client = signed_in(super_user)

    response = client.post(url("user-terms"), {"next": "https://evil.example.com/"})

    assert response.url == url("users")


def test_someone_with_no_organisation_has_no_terms_page(outsider):
    assert signed_in(outsider).get(url("user-terms")).status_code == (
        HTTPStatus.NOT_FOUND
    )
