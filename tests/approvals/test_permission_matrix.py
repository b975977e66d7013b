"""Every request URL, for every kind of visitor.

Requester pages: nobody signed in goes to sign in; anyone but a requester of the
requesting organisation gets 404 (architecture.md rule 6), department staff
included. Admin pages: caseworkers see every request; an assessor or panel
member sees only the requests assigned to them, and gets 404 for the rest.
"""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import DataShareRequest, ResearchOrganisation
from lrs_portal import roles
from tests.approvals.conftest import Cast, make_requester, staff
from tests.conftest import verified_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUEST_PAGES = [
    "request",
    "tasks",
    "datasets",
    "researchers",
    "check-answers",
    "withdraw",
    "certificate",
    "section:project",
    "section:dates",
]
POST_ONLY = ["remove-dataset", "remove-researcher"]
STRANGERS = [
    "outsider",
    "other_requester",
    "caseworker",
    "assessor",
    "panel_member",
    "siro",
    "superuser",
]


def _visitor(kind: str, cast: Cast) -> Client:
    client = Client()
    users = {
        "outsider": lambda: UserFactory.create(),
        "other_requester": lambda: make_requester(
            ResearchOrganisation.objects.create(name="Elsewhere", kind="charity")
        ),
        "caseworker": lambda: cast.caseworker,
        "assessor": lambda: cast.assessor,
        "panel_member": lambda: cast.members[1],
        "siro": lambda: cast.siro,
        "superuser": lambda: UserFactory.create(superuser=True),
        "requester": lambda: cast.requester,
    }
    if kind == "anonymous":
        return client
    user = users[kind]()
    if user.requires_mfa:  # staff have signed in with their second factor
        return verified_client(user)
    client.force_login(user)
    return client


def _url(page: str, share: DataShareRequest) -> str:
    name, _, key = page.partition(":")
    args = [share.reference, key] if key else [share.reference]
    if name == "remove-dataset":
        args.append(share.datasets.get().pk)
    if name == "remove-researcher":
        args.append(share.researchers.get().pk)
    return reverse(f"approvals:{name}", args=args)


@pytest.mark.parametrize("page", REQUEST_PAGES)
@pytest.mark.parametrize("visitor", ["anonymous", *STRANGERS])
def test_request_pages_are_not_found_for_anyone_else(cast: Cast, page, visitor):
    cast.to_panel()  # the assessor and panel members are assigned to it

    response = _visitor(visitor, cast).get(_url(page, cast.request))

    if visitor == "anonymous":
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("two_factor:login"))
    else:
        assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("page", POST_ONLY)
@pytest.mark.parametrize("visitor", STRANGERS)
def test_post_only_pages_are_not_found_for_anyone_else(cast: Cast, page, visitor):
    url = _url(page, cast.request)

    response = _visitor(visitor, cast).post(url)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert cast.request.datasets.exists()
    assert cast.request.researchers.exists()


@pytest.mark.parametrize("page", POST_ONLY)
def test_post_only_pages_refuse_get(cast: Cast, page):
    response = _visitor("requester", cast).get(_url(page, cast.request))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("page", REQUEST_PAGES)
def test_request_pages_work_for_the_requesting_organisation(cast: Cast, page):
    response = _visitor("requester", cast).get(_url(page, cast.request))

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    if response.status_code == HTTPStatus.FOUND:  # not applicable now: its status
        assert response.url == _url("request", cast.request)


@pytest.mark.parametrize("visitor", STRANGERS)
def test_the_list_and_start_are_for_requesters_only(cast: Cast, visitor):
    client = _visitor(visitor, cast)
    if visitor == "other_requester":  # their own (empty) list
        assert client.get(reverse("approvals:requests")).status_code == 200
        return

    assert client.get(reverse("approvals:requests")).status_code == 404
    assert client.post(reverse("approvals:start-request")).status_code == 404
    assert DataShareRequest.objects.count() == 1


def test_a_former_requester_loses_sight_of_the_requests(cast: Cast):
    from approvals.permissions import requester_permissions_revoke

    requester_permissions_revoke(user=cast.requester, organisation=cast.organisation)

    response = _visitor("requester", cast).get(_url("request", cast.request))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_requester_whose_affiliation_ends_loses_sight_at_once(cast: Cast):
    from approvals.models import Affiliation

    Affiliation.objects.filter(user=cast.requester).delete()  # left the organisation

    response = _visitor("requester", cast).get(_url("request", cast.request))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_requester_moved_to_another_organisation_in_admin_loses_the_old_one(
    cast: Cast,
):
    from approvals.models import Affiliation
    from tests.approvals.factories import ResearchOrganisationFactory

    affiliation = Affiliation.objects.get(user=cast.requester)
    other = ResearchOrganisationFactory.create()
    admin = verified_client(UserFactory.create(superuser=True))
    url = reverse("admin:approvals_affiliation_change", args=[affiliation.pk])

    response = admin.post(url, {"user": cast.requester.pk, "organisation": other.pk})

    assert response.status_code == HTTPStatus.FOUND
    assert not cast.requester.has_perm(
        "approvals.request_data_researchorganisation", cast.organisation
    )
    page = _visitor("requester", cast).get(_url("request", cast.request))
    assert page.status_code == HTTPStatus.NOT_FOUND


def test_the_register_is_public(cast: Cast):
    assert Client().get(reverse("approvals:published")).status_code == 200
    assert Client().get(reverse("approvals:published-csv")).status_code == 200


# --- the admin -----------------------------------------------------------------------

ADMIN_PAGES = ["change", "history"]
WORKFLOW_PAGES = [
    "return_for_information",
    "accept",
    "assign_assessor",
    "assess",
    "place_on_meeting",
    "declare_conflict",
    "vote",
    "escalation",
    "decide",
    "release",
    "accept_certificate",
]


def _admin_url(name: str, share: DataShareRequest) -> str:
    return reverse(f"admin:approvals_datasharerequest_{name}", args=[share.pk])


@pytest.mark.parametrize("page", ADMIN_PAGES + WORKFLOW_PAGES)
@pytest.mark.parametrize("role", [roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER])
def test_admin_pages_of_a_request_not_assigned_are_not_found(cast: Cast, page, role):
    cast.to_panel()

    response = verified_client(staff(role)).get(_admin_url(page, cast.request))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_member_from_the_requesting_organisation_is_offered_no_vote(cast: Cast):
    from tests.approvals.factories import AffiliationFactory

    member = cast.members[3]
    AffiliationFactory.create(user=member, organisation=cast.organisation)
    cast.to_panel()
    client = verified_client(member)

    page = client.get(_admin_url("change", cast.request))
    vote = client.post(_admin_url("vote", cast.request), {"vote": "approve"})

    assert page.status_code == HTTPStatus.OK
    assert "/vote/" not in page.text
    assert vote.status_code == HTTPStatus.FORBIDDEN
    assert not cast.request.votes.exists()


@pytest.mark.parametrize("who", ["caseworker", "assessor", "panel_member", "siro"])
def test_the_request_page_is_shown_to_those_assigned(cast: Cast, who):
    cast.to_panel()
    user = {
        "caseworker": cast.caseworker,
        "assessor": cast.assessor,
        "panel_member": cast.members[2],
        "siro": cast.siro,
    }[who]

    response = verified_client(user).get(_admin_url("change", cast.request))

    assert response.status_code == HTTPStatus.OK
    assert cast.request.reference in response.text


def test_the_changelist_of_an_assessor_lists_only_their_requests(cast: Cast):
    cast.to_panel()
    from tests.approvals.factories import DataShareRequestFactory

    unassigned = DataShareRequestFactory.create(complete=True)

    response = verified_client(cast.assessor).get(
        reverse("admin:approvals_datasharerequest_changelist")
    )

    assert response.status_code == HTTPStatus.OK
    assert cast.request.reference in response.text
    assert unassigned.reference not in response.text


def test_a_requester_cannot_reach_the_admin(cast: Cast):
    response = _visitor("requester", cast).get(_admin_url("change", cast.request))

    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response.url or "login" in response.url


def test_the_siro_role_needs_mfa_and_may_accept_risk(siro):
    assert siro.requires_mfa
    assert siro.has_perm("approvals.accept_risk_datasharerequest")
    assert not siro.has_perm("approvals.triage_datasharerequest")


@pytest.mark.parametrize("role", [roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER])
def test_a_history_version_of_a_request_not_assigned_is_not_found(cast: Cast, role):
    cast.to_panel()
    version = cast.request.history.earliest("history_date")
    url = reverse(
        "admin:approvals_datasharerequest_simple_history",
        args=[cast.request.pk, version.history_id],
    )

    response = verified_client(staff(role)).get(url)

    assert response.status_code == HTTPStatus.NOT_FOUND
