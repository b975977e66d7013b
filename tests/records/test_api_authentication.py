"""ApiClientAuthentication: every refusal the pages apply, on the very next call;
and the log row naming the API client."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from lrs_portal.models import system_user
from records.api.authentication import ApiClientAuthentication, ApiClientRequired
from records.models import Learner, LearnerView
from records.services import (
    LookupRefused,
    learner_search_by_demographics,
    learner_search_by_uln,
    learner_view,
)
from registration.models import ApiClient, Organisation, Suspension
from registration.services import membership_remove, suspension_open
from registration.services.api_clients import (
    api_client_revoke,
    api_client_rotate_secret,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    api_token,
    issue_api_client,
    member_of,
)

pytestmark = pytest.mark.django_db
ULN = "9276308686"


class Probe(APIView):
    authentication_classes = (ApiClientAuthentication,)
    permission_classes = (ApiClientRequired,)

    def get(self, request):
        return Response({"member": request.user.email, "client": request.auth.pk})


probe = Probe.as_view()
factory = APIRequestFactory()


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def member(organisation):
    return member_of(organisation)


@pytest.fixture
def issued(member):
    return issue_api_client(member)


def token_for(client, issued, secret=None) -> str:
    response = api_token(client, issued.client_id, secret or issued.client_secret)
    assert response.status_code == HTTPStatus.OK, response.content
    return str(response.json()["access_token"])


@pytest.fixture
def token(client, issued):
    return token_for(client, issued)


def call(token=None, *, header=None, **extra):
    if header is None and token is not None:
        header = f"Bearer {token}"
    if header is not None:
        extra["HTTP_AUTHORIZATION"] = header
    response = probe(factory.get("/probe", **extra))
    response.render()
    return response


def assert_refused(response, status, code):
    assert response.status_code == status, response.data
    # As every API error is: a problem document (records.api.problems).
    assert response["Content-Type"] == "application/problem+json"
    assert response.data["code"] == code
    if status == HTTPStatus.UNAUTHORIZED:
        assert response["WWW-Authenticate"] == 'Bearer realm="LRS Portal API"'
    else:
        assert "WWW-Authenticate" not in response


def test_a_live_token_is_the_members_call_through_its_client(token, member, issued):
    response = call(token)
    assert response.status_code == HTTPStatus.OK
    assert response.data == {"member": member.email, "client": issued.api_client.pk}


# --- 401: no token, or not a live one ---------------------------------------------


def test_no_token_is_told_how_to_get_one():
    response = call()
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "token_missing")
    assert "POST /api/v1/token" in str(response.data["detail"])


def test_another_scheme_is_no_token(issued):
    assert_refused(
        call(header="Basic Zm9vOmJhcg=="), HTTPStatus.UNAUTHORIZED, "token_missing"
    )


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-token", "Bearer a b", "Bearer " + "x" * 300],
)
def test_a_bad_token_is_refused(token, header):
    assert_refused(call(header=header), HTTPStatus.UNAUTHORIZED, "token_invalid")


def test_an_expired_token_is_refused(token):
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert_refused(call(token), HTTPStatus.UNAUTHORIZED, "token_expired")


def test_a_token_of_an_application_that_is_no_api_client_is_refused(issued):
    from oauth2_provider.models import Application

    other = Application.objects.create(
        name="Not ours",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    AccessToken.objects.create(
        application=other,
        token="stray-token",
        expires=timezone.now() + timedelta(hours=1),
    )
    assert_refused(call("stray-token"), HTTPStatus.UNAUTHORIZED, "token_invalid")


# --- 403: the client itself --------------------------------------------------------


def test_a_revoked_clients_token_is_refused_on_its_next_call(token, issued, super_user):
    assert call(token).status_code == HTTPStatus.OK
    api_client_revoke(api_client=issued.api_client, acting_user=super_user, reason="x")
    response = call(token)
    assert_refused(response, HTTPStatus.FORBIDDEN, "client_revoked")
    assert "revoked" in str(response.data["detail"])


def test_an_expired_clients_token_is_refused(token, issued):
    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        expires_on=timezone.now().date() - timedelta(days=1)
    )
    assert_refused(call(token), HTTPStatus.FORBIDDEN, "client_expired")


def test_a_call_from_outside_the_ranges_is_refused(client, member, settings):
    issued = issue_api_client(member, allowed_ip_ranges="203.0.113.0/24")
    token = token_for_address(client, issued, "203.0.113.9")
    assert call(token, REMOTE_ADDR="203.0.113.10").status_code == HTTPStatus.OK
    assert_refused(
        call(token, REMOTE_ADDR="198.51.100.7"),
        HTTPStatus.FORBIDDEN,
        "address_not_allowed",
    )
    # A forwarded address is believed only from a trusted proxy.
    spoofed = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    assert call(token, **spoofed).status_code == HTTPStatus.FORBIDDEN
    settings.TRUSTED_PROXY_COUNT = 1
    assert call(token, **spoofed).status_code == HTTPStatus.OK


def token_for_address(client, issued, address) -> str:
    response = api_token(
        client, issued.client_id, issued.client_secret, REMOTE_ADDR=address
    )
    assert response.status_code == HTTPStatus.OK
    return str(response.json()["access_token"])


# --- 403: the refusals the pages apply to the member and organisation ---------------


def _suspend_organisation(organisation, member):
    suspension_open(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.CASEWORKER,
        cause="test",
        day=timezone.now().date(),
        reason="Misuse",
        acting_user=system_user(),
    )


def _suspend_member(organisation, member):
    suspension_open(
        subject_type=Suspension.Subject.USER,
        organisation=organisation,
        user=member,
        source=Suspension.Source.CASEWORKER,
        cause="test",
        day=timezone.now().date(),
        reason="Misuse",
        acting_user=system_user(),
    )


def _status(status):
    def change(organisation, member):
        organisation.status = status
        organisation.save()

    return change


def _remove_member(organisation, member):
    super_user = member_of(organisation, super_user=True)
    membership_remove(membership=member.membership, acting_user=super_user)


def _miss_resign_deadline(organisation, member):
    AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() - timedelta(days=1)
    )


def _unapprove_purpose(organisation, member):
    organisation.purpose_approved_at = None
    organisation.save()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_suspend_organisation, "organisation_suspended"),
        (_status(Organisation.Status.REVOKED), "organisation_revoked"),
        (_status(Organisation.Status.DEREGISTERED), "organisation_deregistered"),
        (_suspend_member, "user_suspended"),
        (_remove_member, "inactive"),
        (_miss_resign_deadline, "agreement_not_signed"),
        (_unapprove_purpose, "purpose_not_approved"),
    ],
)
def test_the_next_call_is_refused_as_the_pages_refuse(
    token, organisation, member, change, code
):
    assert call(token).status_code == HTTPStatus.OK
    change(organisation, member)
    response = call(token)
    assert_refused(response, HTTPStatus.FORBIDDEN, code)
    from records.permissions import REFUSALS

    assert str(response.data["detail"]) == REFUSALS[code].message


def test_a_member_without_a_membership_is_refused(token, member):
    member.membership.delete()
    assert_refused(call(token), HTTPStatus.FORBIDDEN, "not_a_member")


def test_a_member_who_moved_organisation_is_refused(token, member):
    membership = member.membership
    membership.organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory()
    )
    membership.save()
    assert_refused(call(token), HTTPStatus.FORBIDDEN, "not_a_member")


def test_terms_not_accepted_is_refused(token, member):
    membership = member.membership
    membership.terms_accepted_at = None
    membership.save()
    assert_refused(call(token), HTTPStatus.FORBIDDEN, "terms")


# --- rotated secrets ------------------------------------------------------------------


def test_tokens_of_the_old_secret_work_within_the_grace_and_stop_after(
    client, issued, super_user
):
    before = token_for(client, issued)
    api_client_rotate_secret(
        api_client=issued.api_client, grace_days=3, acting_user=super_user
    )
    during = token_for(client, issued)  # the old secret, still in its grace
    assert call(before).status_code == HTTPStatus.OK
    assert call(during).status_code == HTTPStatus.OK

    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(call(before), HTTPStatus.UNAUTHORIZED, "token_invalid")
    # Got after the change, it ends with its hour; the old secret gets no more.
    assert call(during).status_code == HTTPStatus.OK
    response = api_token(client, issued.client_id, issued.client_secret)
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_the_new_secrets_token_works_after_the_grace(client, issued, super_user):
    rotated = api_client_rotate_secret(
        api_client=issued.api_client, grace_days=1, acting_user=super_user
    )
    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    assert call(token_for(client, rotated)).status_code == HTTPStatus.OK


# --- no caching, last used ------------------------------------------------------------


def test_each_call_reads_the_client_again(token, issued, django_assert_num_queries):
    call(token)  # writes last used
    with django_assert_num_queries(2):  # the token with its client; the membership
        assert call(token).status_code == HTTPStatus.OK


def test_last_used_is_written_once_a_minute_not_once_a_call(token, issued):
    call(token)
    issued.api_client.refresh_from_db()
    first = issued.api_client.last_used_at
    assert first is not None
    call(token)
    issued.api_client.refresh_from_db()
    assert issued.api_client.last_used_at == first
    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        last_used_at=first - timedelta(minutes=2)
    )
    call(token)
    issued.api_client.refresh_from_db()
    assert issued.api_client.last_used_at > first


# --- the log row names the client --------------------------------------------------


def test_the_log_row_carries_the_api_client(issued, member):
    learner = Learner.objects.create(
        uln=ULN,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth=timezone.now().date().replace(year=2007),
        gender=2,
        postcode="LS2 9JT",
    )
    client = issued.api_client
    api = LearnerView.Channel.API
    learner_search_by_uln(
        user=member, uln=ULN, request_id="a", channel=api, api_client=client
    )
    learner_search_by_demographics(
        user=member,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth=learner.date_of_birth,
        gender=2,
        postcode="LS2 9JT",
        request_id="b",
        channel=api,
        api_client=client,
    )
    learner_view(
        user=member,
        learner_id=learner.pk,
        request_id="c",
        channel=api,
        api_client=client,
    )
    learner_search_by_uln(user=member, uln=ULN, request_id="d")
    rows = {row.request_id: row for row in LearnerView.objects.all()}
    assert {key: rows[key].api_client_id for key in "abcd"} == {
        "a": client.pk,
        "b": client.pk,
        "c": client.pk,
        "d": None,
    }
    assert rows["a"].channel == api


def test_a_refused_search_row_carries_the_api_client(issued, member, settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1
    client = issued.api_client
    learner_search_by_uln(user=member, uln=ULN, request_id="a", api_client=client)
    with pytest.raises(LookupRefused):
        learner_search_by_uln(user=member, uln=ULN, request_id="b", api_client=client)
    refused = LearnerView.objects.get(outcome=LearnerView.Outcome.REFUSED)
    assert refused.api_client_id == client.pk
