"""The account page leads a provider super user to every page they manage, and a
provider user who opens one of those pages learns who can (issue 17)."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from registration.models import Organisation
from registration.services import organisation_transition
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = pytest.mark.django_db

# Pages under /organisation/ reached another way: a download from the usage page,
# a return that only a revoked or deregistered organisation may start, and a form
# reached from its list (the API clients page), and the steps of the yearly
# confirmation, reached from its first page.
REACHED_FROM_ELSEWHERE = {
    "records:usage-csv",
    "registration:reregister",
    "registration:api-client-create",
    "registration:yearly-confirmation-nothing-changed",
    "registration:yearly-confirmation-change",
    "registration:yearly-confirmation-check",
    "registration:yearly-confirmation-done",
}


def _organisation_pages():
    """Each URL name under /organisation/ that takes no argument."""
    for entry in get_resolver().url_patterns:
        if not isinstance(entry, URLResolver):
            continue
        for pattern in entry.url_patterns:
            route = str(entry.pattern) + str(pattern.pattern)
            if (
                isinstance(pattern, URLPattern)
                and route.startswith("organisation/")
                and "<" not in route
            ):
                yield f"{entry.namespace}:{pattern.name}"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


def _account(user):
    client = Client()
    client.force_login(user)
    return client.get(reverse("lrs_portal:account")).content.decode()


def test_the_super_users_account_links_every_page_they_manage(organisation):
    html = _account(member_of(organisation, super_user=True))

    names = set(_organisation_pages()) - REACHED_FROM_ELSEWHERE
    assert {"registration:users", "records:usage"} <= names
    for name in names:
        assert f'href="{reverse(name)}"' in html, name


def test_a_revoked_organisations_super_user_is_led_to_register_again(
    organisation, caseworker
):
    super_user = member_of(organisation, super_user=True)
    organisation_transition(
        organisation=organisation,
        to=Organisation.Status.REVOKED,
        acting_user=caseworker,
        reason="Passed on access",
    )

    html = _account(super_user)

    assert f'href="{reverse("registration:reregister")}"' in html
    assert f'href="{reverse("registration:users")}"' not in html


def test_an_ordinary_users_account_does_not_offer_the_super_users_pages(organisation):
    html = _account(member_of(organisation))

    assert f'href="{reverse("registration:users")}"' not in html
    assert f'href="{reverse("records:usage")}"' not in html
    assert "super user manages" in html


@pytest.mark.parametrize(
    "name",
    [
        "records:usage",
        "registration:users",
        "registration:organisation-details-change",
        "registration:change-signing-director",
        "registration:suspension",
    ],
)
def test_a_provider_user_on_a_super_users_page_learns_who_can_use_it(
    organisation, name
):
    client = Client()
    client.force_login(member_of(organisation))

    response = client.get(reverse(name))

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "super user" in html
    assert f'href="{reverse("lrs_portal:account")}"' in html


def test_another_organisations_objects_are_still_not_found(organisation):
    stranger = member_of(OrganisationFactory.create())
    client = Client()
    client.force_login(member_of(organisation, super_user=True))

    address = reverse("registration:remove-user", args=[stranger.membership.pk])
    response = client.post(address)

    assert response.status_code == HTTPStatus.NOT_FOUND
