"""The OpenAPI document: public, read-only, accurate. schemathesis generates
requests from it for every operation and checks each answer against it (no
server error, every status, header and body as documented)."""

from http import HTTPStatus
from itertools import cycle
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from records.batches import batch_fail, batch_run, batch_submit
from records.models import Batch
from tests.records.api.conftest import bearer_token, make_learner

pytestmark = pytest.mark.django_db


def test_the_schema_is_public_openapi_3_with_every_operation(client):
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/json")

    assert response.status_code == HTTPStatus.OK
    document = response.json()
    assert document["openapi"].startswith("3.")
    operations = {
        (method, path) for path, item in document["paths"].items() for method in item
    }
    assert operations >= {
        ("get", "/api/v1/me"),
        ("post", "/api/v1/learner-searches"),
        ("post", "/api/v1/learning-events"),
        ("post", "/api/v1/batches"),
        ("get", "/api/v1/batches/{id}"),
        ("get", "/api/v1/batches/{id}/results"),
    }
    for item in document["paths"].values():
        for operation in item.values():
            # No search term can go in an address: no operation takes a query.
            parameters = operation.get("parameters", [])
            assert not [p for p in parameters if p["in"] == "query"]
            assert {"401", "403", "429", "default"} <= set(operation["responses"])
            assert operation["responses"]["429"]["headers"]["Retry-After"]["required"]


def test_the_schema_cannot_be_changed(client):
    response = client.post("/api/v1/schema", {}, content_type="application/json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_docs_page_is_served_from_our_own_files_under_the_csp(client):
    page = client.get("/api/v1/docs")
    script = client.get("/api/v1/docs?script=")

    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in (
        html
    )
    assert "https://" not in html  # no CDN
    assert "<style" not in html  # style-src 'self' would refuse it
    assert "<script>" not in html  # every script is a file
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert script.status_code == HTTPStatus.OK
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema" in script.content.decode()


# --- schemathesis ------------------------------------------------------------


@pytest.fixture
def token(member):
    """A real client's bearer token, got through Django's test client before
    connection_kept: the test client connects close_old_connections again
    after each of its requests."""
    return bearer_token(member)


@pytest.fixture
def connection_kept(token):
    """The WSGI app closes the database connection after each request, which
    would end the test's transaction; Django's test client stops that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _batches(member: Any) -> list[Batch]:
    """A finished batch with a row of each kind, a failed one, a queued one."""
    line = "Amelia,Hughes,2007-05-14,2,LS2 9JT,=1"
    header = "given_name,family_name,date_of_birth,gender,postcode,reference"
    data = f"{header}\r\n{line}\r\nA,B,2007-02-30,2,LS2 9JT,x\r\n".encode()
    finished, failed, queued = (
        batch_submit(user=member, data=data, filename="f.csv", request_id="s")
        for _ in range(3)
    )
    batch_run(batch_id=finished.pk)
    batch_fail(failed, "Stopped")
    return [finished, failed, queued]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_schema_says(
    member, token, settings, connection_kept, mode
):
    settings.ALLOWED_HOSTS = ["localhost"]  # schemathesis's WSGI client's host
    make_learner()
    # Batches that exist, so that a status and results are answered (and checked
    # against the schema) as well as the 404 of a random id.
    batches = cycle([str(b.public_id) for b in _batches(member)] + [None])
    accepts = cycle(["application/json", "text/csv", None])
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema", get_wsgi_application())
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:
        takes_nothing = operation.method.upper() == "GET" and not list(
            operation.path_parameters
        )
        if mode is GenerationMode.NEGATIVE and takes_nothing:
            continue  # GET /me takes nothing that could be made invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def answers_as_documented(case: Any) -> None:
            batch_id = next(batches)
            if mode is GenerationMode.POSITIVE and case.path_parameters and batch_id:
                case.path_parameters["id"] = batch_id
            accept = next(accepts)
            # A body the schema allows can still break a rule it cannot say (a
            # ULN's check digit, a date in the future): 400 is right for those.
            case.call_and_validate(
                headers={**headers, **({"Accept": accept} if accept else {})},
                excluded_checks=[checks.positive_data_acceptance],
            )

        answers_as_documented()
