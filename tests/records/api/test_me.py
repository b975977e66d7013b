from http import HTTPStatus

import pytest
from django.test import override_settings

from records.services import learner_search_by_uln
from tests.records.api.conftest import make_learner

pytestmark = pytest.mark.django_db


@override_settings(LOOKUP_USER_HOURLY_CAP=60, LOOKUP_ORG_DAILY_MINIMUM=100)
def test_me_names_the_organisation_the_member_and_what_the_caps_leave(
    api, member, organisation
):
    organisation.estimated_learners_per_year = 1
    organisation.save()
    make_learner()
    learner_search_by_uln(user=member, uln="9276308686", request_id="r")

    response = api.get("/api/v1/me")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "organisation": {"name": organisation.legal_name, "ukprn": organisation.ukprn},
        "member": {"email": member.email},
        "allowance": {
            "user_remaining": 59,
            "organisation_remaining": 99,
            "searches": 59,
        },
    }


def test_me_takes_no_other_method(api):
    response = api.post("/api/v1/me", {}, format="json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": 'Method "POST" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v2/me", "/api/", "/api/v1/me/"]
)
def test_an_address_with_no_operation_is_a_404_problem(client, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
