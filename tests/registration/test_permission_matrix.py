"""Every provider-facing page, for every kind of visitor.

Visitors: nobody signed in; a user of another organisation; a suspended user (an
account made inactive, or the super user of a suspended organisation); and the
person the page is for. Anything not yours is a 404 (architecture.md rule 6);
single-use link pages need no sign-in and give 410 once the link is spent.
"""

from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from lrs_portal.models import Notification
from registration.models import (
    Organisation,
    RegistrationApplication,
    Suspension,
    YearlyConfirmation,
)
from registration.services import (
    invitation_send,
    organisation_transition,
    signing_request_send,
    suspension_open,
)
from registration.services.recertification import recertification_open
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    issue_api_client,
    member_of,
)

pytestmark = pytest.mark.django_db

OK = "ok"  # 200, the page
LOGIN = "login"  # redirect to sign in
NOT_FOUND = "not found"
GONE = "gone"  # 410, "This link has expired or has already been used"
REDIRECT = "redirect"  # 302 somewhere other than sign-in
OWN = "own"  # 200, but about the visitor's own organisation, never ours
INVALID = "invalid"  # 400, the form's errors (an empty form posted)
OUR_NAME = "Northfield College Limited"

VISITORS = ["anonymous", "other_organisation", "inactive", "suspended_org", "right"]


@dataclass
class World:
    users: dict[str, Any]
    application: RegistrationApplication
    submitted: RegistrationApplication
    member_pk: int
    signing_token: str
    spent_signing_token: str
    invitation_token: str
    spent_invitation_token: str
    application_reference: str
    submitted_reference: str
    accreditation_pk: int
    suspension_pk: int
    api_client_pk: int
    confirmation_pk: int


def _token(reference: str, marker: str) -> str:
    """The token in the latest email of this kind."""
    body = Notification.objects.filter(reference=reference).order_by("-pk")[0].body
    return body.split(marker)[1].split("/")[0]


def _organisation(name, website):
    return OrganisationFactory.create(legal_name=name, website=website)


@pytest.fixture
def world(caseworker, settings):
    settings.COMPANIES_HOUSE_API_KEY = ""
    AgreementVersionFactory.create()
    ours = _organisation(OUR_NAME, "https://northfield.example.com")
    super_user = member_of(ours, super_user=True)
    member = member_of(ours)
    inactive_super_user = member_of(ours, super_user=True, is_active=False)

    other = member_of(
        _organisation("Other Training Ltd", "https://other.example.com"),
        super_user=True,
    )
    suspended = _organisation("Suspended Skills Ltd", "https://suspended.example.com")
    suspended_super_user = member_of(suspended, super_user=True)
    organisation_transition(
        organisation=suspended,
        to=Organisation.Status.SUSPENDED,
        acting_user=caseworker,
        reason="Excessive searches",
    )

    revoked = _organisation("Revoked Learning Ltd", "https://revoked.example.com")
    revoked_super_user = member_of(revoked, super_user=True)
    organisation_transition(
        organisation=revoked,
        to=Organisation.Status.REVOKED,
        acting_user=caseworker,
        reason="Passed on access",
    )

    member_suspension, _ = suspension_open(
        subject_type=Suspension.Subject.USER,
        organisation=ours,
        user=member,
        source=Suspension.Source.CASEWORKER,
        cause="caseworker",
        day=date(2026, 11, 27),
        reason="Searches at night",
        acting_user=caseworker,
    )

    applicant = UserFactory.create()
    application = RegistrationApplicationFactory.create(applicant=applicant)
    inactive_applicant = UserFactory.create(is_active=False)
    RegistrationApplicationFactory.create(applicant=inactive_applicant)
    submitter = UserFactory.create()
    submitted = RegistrationApplicationFactory.create(
        applicant=submitter, submitted=True
    )

    signing_request_send(acting_user=submitter, application=submitted)
    spent_signing = _token("agreement.signing_link", "/agreement/sign/")
    signing_request_send(acting_user=submitter, application=submitted)  # replaces it
    signing = _token("agreement.signing_link", "/agreement/sign/")

    for email in ["a.one@northfield.example.com", "b.two@northfield.example.com"]:
        invitation_send(
            organisation=ours, acting_user=super_user, email=email, full_name="A B"
        )
    invitations = Notification.objects.filter(reference="members.invitation")
    spent_invitation, invitation = (
        n.body.split("/invitation/")[1].split("/")[0]
        for n in invitations.order_by("pk")
    )
    Client().post(
        reverse("registration:accept-invitation", args=[spent_invitation]),
        {"password": "a-long-new-password-2026"},
    )

    campaign = recertification_open(organisation=ours)
    assert campaign is not None
    YearlyConfirmation.objects.create(
        organisation=ours, anniversary=date(2027, 1, 4), due_on=date(2027, 1, 4)
    )

    return World(
        users={
            "anonymous": None,
            "other_organisation": other,
            "suspended_org": suspended_super_user,
            "applicant": applicant,
            "inactive_applicant": inactive_applicant,
            "submitter": submitter,
            "super_user": super_user,
            "inactive_super_user": inactive_super_user,
            "member": member,
            "revoked_super_user": revoked_super_user,
        },
        application=application,
        submitted=submitted,
        member_pk=member.membership.pk,
        signing_token=signing,
        spent_signing_token=spent_signing,
        invitation_token=invitation,
        spent_invitation_token=spent_invitation,
        application_reference=application.reference,
        submitted_reference=submitted.reference,
        accreditation_pk=application.accreditations.earliest("pk").pk,
        suspension_pk=member_suspension.pk,
        api_client_pk=issue_api_client(super_user).api_client.pk,
        confirmation_pk=campaign.confirmations.get(user=member).pk,
    )


@dataclass(frozen=True)
class Page:
    name: str
    args: str = ""  # a World attribute holding the URL's argument
    method: str = "get"
    right: str = "applicant"  # the World user the page is for
    inactive: str = "inactive_applicant"
    expect: tuple[
        tuple[str, str], ...
    ] = ()  # (visitor, outcome) pairs overriding the defaults below

    def url(self, world):
        args = [getattr(world, self.args)] if self.args else []
        return reverse(f"registration:{self.name}", args=args)

    def expected(self, visitor):
        defaults = {
            "anonymous": LOGIN,
            "other_organisation": NOT_FOUND,
            "inactive": LOGIN,
            "suspended_org": NOT_FOUND,
            "right": OK,
        }
        return dict(self.expect).get(visitor, defaults[visitor])


APPLICANT_PAGES = [
    Page(name)
    for name in [
        "task-list",
        "organisation-details",
        "accreditation",
        "going-concern",
        "purpose",
        "learners-served",
        "signing-director",
        "check-answers",
    ]
]
ANYONE = tuple((visitor, OK) for visitor in VISITORS)
SPENT = tuple((visitor, GONE) for visitor in VISITORS)
PAGES = [
    Page(
        "create-account",
        expect=(
            ("anonymous", OK),
            ("other_organisation", REDIRECT),
            ("inactive", OK),
            ("suspended_org", REDIRECT),
            ("right", REDIRECT),
        ),
    ),
    *APPLICANT_PAGES,
    Page("application", args="application_reference"),
    Page("submitted", args="submitted_reference", right="submitter"),
    Page(
        "resend-signing-link",
        args="submitted_reference",
        method="post",
        right="submitter",
        expect=(("right", REDIRECT),),
    ),
    Page("remove-accreditation", args="accreditation_pk", method="post",
         expect=(("right", REDIRECT),)),
    Page("sign", args="signing_token", expect=ANYONE),
    Page("sign", args="spent_signing_token", expect=SPENT),
    Page("users", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("invite-user", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("remove-user", args="member_pk", right="super_user",
         inactive="inactive_super_user"),
    Page("recertification", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("recertification-confirm", args="confirmation_pk", method="post",
         right="super_user", inactive="inactive_super_user",
         expect=(("right", REDIRECT),)),
    Page("recertification-remove", args="confirmation_pk", right="super_user",
         inactive="inactive_super_user"),
    Page("yearly-confirmation", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("yearly-confirmation-nothing-changed", method="post", right="super_user",
         inactive="inactive_super_user",
         expect=(("other_organisation", REDIRECT), ("right", REDIRECT))),
    Page("yearly-confirmation-change", right="super_user",
         inactive="inactive_super_user", expect=(("other_organisation", REDIRECT),)),
    Page("yearly-confirmation-check", right="super_user",
         inactive="inactive_super_user",
         expect=(("other_organisation", REDIRECT), ("right", REDIRECT))),
    Page("yearly-confirmation-done", right="super_user",
         inactive="inactive_super_user",
         expect=(("other_organisation", REDIRECT), ("right", REDIRECT))),
    Page("user-terms", right="member", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("organisation-details-change", right="super_user",
         inactive="inactive_super_user", expect=(("other_organisation", OWN),)),
    Page("change-signing-director", right="super_user",
         inactive="inactive_super_user", expect=(("other_organisation", OWN),)),
    Page("reregister", right="revoked_super_user", inactive="inactive_super_user"),
    Page("suspension", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN), ("suspended_org", OWN))),
    Page("explain-suspension", args="suspension_pk", method="post",
         right="super_user", inactive="inactive_super_user",
         expect=(("right", INVALID),)),
    Page("accept-invitation", args="invitation_token", expect=ANYONE),
    Page("accept-invitation", args="spent_invitation_token", expect=SPENT),
    Page("api-clients", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("api-client-create", right="super_user", inactive="inactive_super_user",
         expect=(("other_organisation", OWN),)),
    Page("api-client-secret", args="api_client_pk", right="super_user",
         inactive="inactive_super_user"),
    Page("api-client-rotate", args="api_client_pk", right="super_user",
         inactive="inactive_super_user"),
    Page("api-client-revoke", args="api_client_pk", right="super_user",
         inactive="inactive_super_user"),
]  # fmt: skip


def _visitor(world, page, visitor):
    key = {
        "right": page.right,
        "inactive": page.inactive,
    }.get(visitor, visitor)
    return world.users[key]


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(
    "page", PAGES, ids=[f"{p.name}:{p.args or '-'}:{p.method}" for p in PAGES]
)
def test_each_page_answers_each_visitor_as_it_should(world, page, visitor):
    client = Client()
    user = _visitor(world, page, visitor)
    if user is not None:
        client.force_login(user)
    address = page.url(world)

    response = getattr(client, page.method)(address)

    outcome = page.expected(visitor)
    if outcome == OK:
        assert response.status_code == HTTPStatus.OK
    elif outcome == OWN:
        assert response.status_code == HTTPStatus.OK
        assert OUR_NAME not in response.content.decode()
    elif outcome == LOGIN:
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("two_factor:login"))
    elif outcome == REDIRECT:
        assert response.status_code == HTTPStatus.FOUND
        assert not response.url.startswith(reverse("two_factor:login"))
    elif outcome == NOT_FOUND:
        assert response.status_code == HTTPStatus.NOT_FOUND
    elif outcome == INVALID:
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Enter your explanation" in response.content.decode()
    else:
        assert response.status_code == HTTPStatus.GONE


def test_every_registration_url_is_in_the_matrix():
    from registration.urls import urlpatterns

    assert {p.name for p in urlpatterns} == {page.name for page in PAGES}
