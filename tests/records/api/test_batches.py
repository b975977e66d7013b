"""Batch matching through the web service: POST /api/v1/batches, its status and
its results, through the same service functions as the portal's batch pages
(records.batches), with the API client on the batch and on every log row."""

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from records.batch_views import result_lines
from records.batches import batch_results, batch_run
from records.models import Batch, BatchRow, LearnerView
from registration.models import ApiClient
from registration.services.api_clients import api_client_revoke
from tests.factories import member_of
from tests.records.api.conftest import Caller, make_learner, real_caller
from tests.records.factories import nth_uln

pytestmark = pytest.mark.django_db
DEMOGRAPHIC_HEADER = "given_name,family_name,date_of_birth,gender,postcode,reference"


@pytest.fixture(autouse=True)
def _roomy_caps(settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1000
    settings.LOOKUP_ORG_DAILY_MINIMUM = 1000


@pytest.fixture
def caller(member) -> Caller:
    return real_caller(member)


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def send(caller: Caller, data: bytes, name: str = "enrolments.csv"):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return caller.http.post("/api/v1/batches", {"file": upload}, format="multipart")


def sent(caller: Caller, *lines: str) -> Batch:
    response = send(caller, csv_bytes(*lines))
    assert response.status_code == HTTPStatus.ACCEPTED, response.content
    return Batch.objects.get(public_id=response.json()["id"])


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def status_of(caller: Caller, batch: Batch):
    return caller.http.get(f"/api/v1/batches/{batch.public_id}")


def results_of(caller: Caller, batch: Batch, accept: str = "application/json"):
    return caller.http.get(
        f"/api/v1/batches/{batch.public_id}/results", HTTP_ACCEPT=accept
    )


# --- sending a file ------------------------------------------------------------


def test_a_file_is_queued_with_202_its_id_and_its_address(
    caller, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(caller, csv_bytes("uln,reference", f"{nth_uln(1)},S1"))

    assert response.status_code == HTTPStatus.ACCEPTED
    answer = response.json()
    batch = Batch.objects.get(public_id=answer["id"])
    assert response["Location"] == f"/api/v1/batches/{batch.public_id}"
    assert response["Cache-Control"] == "no-store"
    assert answer["status"] == "queued"
    assert (answer["rows"], answer["rows_done"], answer["kind"]) == (1, 0, "uln")
    assert batch.submitted_by == member
    assert batch.api_client == caller.api_client
    assert len(callbacks) == 1  # the worker's task, once committed
    assert not LearnerView.objects.exists()  # nothing searched yet


def test_every_row_is_searched_by_the_worker_and_logged_with_the_client(caller, member):
    found = make_learner()
    batch = sent(caller, "uln,reference", f"{found.uln},A", f"{nth_uln(7)},B")

    batch_run(batch_id=batch.pk)

    answer = status_of(caller, batch).json()
    assert (answer["status"], answer["rows_done"], answer["rows"]) == ("complete", 2, 2)
    assert answer["percent_done"] == 100
    rows = LearnerView.objects.all()
    assert {(r.channel, r.api_client_id, r.user_id) for r in rows} == {
        (LearnerView.Channel.BATCH, caller.api_client.pk, member.pk)
    }
    assert sorted(r.learner_uln for r in rows) == sorted([found.uln, nth_uln(7)])


def test_the_results_are_json_in_input_order_with_each_rows_error(caller):
    found = make_learner()
    batch = sent(
        caller,
        DEMOGRAPHIC_HEADER,
        "Amelia,Hughes,2007-05-14,2,LS2 9JT,first",
        "Nobody,Known,2001-01-01,1,LS1 1AA,second",
        "Amelia,Hughes,2007-02-30,2,LS2 9JT,third",
    )
    batch_run(batch_id=batch.pk)

    response = results_of(caller, batch)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    results = response.json()["results"]
    assert [r["reference"] for r in results] == ["first", "second", "third"]
    assert results[0] == {
        "line": 2,
        "reference": "first",
        "outcome": "exact_match",
        "code": "WSRC0004",
        "matched_ulns": [found.uln],
        "error": None,
    }
    assert (results[1]["outcome"], results[1]["code"]) == ("no_match", "WSRC0001")
    assert results[2]["outcome"] is None
    assert "real date" in results[2]["error"]  # the page's words
    assert LearnerView.objects.count() == 2  # the line in error is not a search


def test_the_results_as_csv_are_the_pages_file_formula_safe(caller):
    make_learner()
    batch = sent(caller, "uln,reference", "9276308686,=HYPERLINK(1)", "9276308686,+1")
    batch_run(batch_id=batch.pk)

    response = results_of(caller, batch, accept="text/csv")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = response.content.decode()
    assert body == "".join(result_lines(batch_results(batch)))
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["line", "reference", "outcome", "code", "matched_ulns", "error"]
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1)", "'+1"]


def test_results_are_409_until_the_batch_finishes_and_410_once_deleted(caller):
    batch = sent(caller, "uln", nth_uln(1))

    early = problem(results_of(caller, batch), HTTPStatus.CONFLICT)
    assert early["code"] == "batch_not_finished"

    batch_run(batch_id=batch.pk)
    Batch.objects.filter(pk=batch.pk).update(rows_deleted_at=timezone.now())
    BatchRow.objects.filter(batch=batch).delete()
    gone = problem(results_of(caller, batch, accept="text/csv"), HTTPStatus.GONE)
    assert gone["code"] == "batch_results_deleted"


def test_a_caller_accepting_neither_json_nor_csv_is_told_so_in_a_problem(caller):
    batch = sent(caller, "uln", nth_uln(1))

    response = results_of(caller, batch, accept="text/html")

    assert problem(response, HTTPStatus.NOT_ACCEPTABLE)["status"] == 406


# --- refused whole ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"learner\r\n1\r\n", "The file has a column \u201clearner\u201d"),
        (b"uln\r\n", "has no learners in it"),
        (b"uln\r\n9276308686\r\n".decode().encode("utf-16"), "must be a CSV file"),
    ],
)
def test_a_file_that_cannot_be_read_is_400_naming_the_field_and_stores_nothing(
    caller, data, words
):
    document = problem(send(caller, data), HTTPStatus.BAD_REQUEST)

    assert document["errors"][0]["field"] == "file"
    assert words in document["errors"][0]["detail"]
    assert not Batch.objects.exists()


def test_no_file_or_another_field_is_400(caller):
    missing = problem(
        caller.http.post("/api/v1/batches", {}, format="multipart"),
        HTTPStatus.BAD_REQUEST,
    )
    upload = SimpleUploadedFile("f.csv", b"uln\r\n9276308686\r\n")
    extra = problem(
        caller.http.post(
            "/api/v1/batches", {"file": upload, "note": "x"}, format="multipart"
        ),
        HTTPStatus.BAD_REQUEST,
    )

    assert missing["errors"] == [
        {"field": "file", "detail": "Select a CSV file", "code": "required"}
    ]
    assert extra["errors"][0]["field"] == "note"
    assert not Batch.objects.exists()


def test_a_json_body_is_415(caller):
    response = caller.http.post("/api/v1/batches", {"uln": "1"}, format="json")

    assert problem(response, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)["status"] == 415


def test_a_file_past_the_members_cap_is_429_saying_how_many_fit(
    caller, member, settings
):
    settings.LOOKUP_USER_HOURLY_CAP = 3
    make_learner()
    assert (
        caller.http.post(
            "/api/v1/learner-searches", {"uln": "9276308686"}, format="json"
        ).json()["code"]
        == "WSRC0004"
    )

    response = send(caller, csv_bytes("uln", *(nth_uln(n) for n in range(5))))

    document = problem(response, HTTPStatus.TOO_MANY_REQUESTS)
    assert document["code"] == "user_cap"
    assert document["type"].endswith("/lookup-cap-reached")
    assert (document["rows"], document["rows_that_fit"]) == (5, 2)
    assert "at most 2 learners" in document["detail"]  # the page's words
    assert int(response["Retry-After"]) >= 1
    assert not Batch.objects.exists()
    assert LearnerView.objects.count() == 1  # the single search; no row searched


def test_a_file_past_the_organisations_cap_is_429(caller, organisation, settings):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 2
    organisation.estimated_learners_per_year = 1
    organisation.save()

    response = send(caller, csv_bytes("uln", *(nth_uln(n) for n in range(3))))

    document = problem(response, HTTPStatus.TOO_MANY_REQUESTS)
    assert document["code"] == "organisation_cap"
    assert document["rows_that_fit"] == 2
    assert not Batch.objects.exists()


# --- whose batch -------------------------------------------------------------------


def test_a_client_of_another_organisation_gets_404_for_the_batch(caller, organisation):
    from tests.factories import OrganisationFactory

    batch = sent(caller, "uln", nth_uln(1))
    batch_run(batch_id=batch.pk)
    other = OrganisationFactory.create(
        last_signed_version=organisation.last_signed_version
    )
    theirs = real_caller(member_of(other, super_user=True))

    assert problem(status_of(theirs, batch), HTTPStatus.NOT_FOUND)["status"] == 404
    assert problem(results_of(theirs, batch), HTTPStatus.NOT_FOUND)["status"] == 404


def test_a_colleagues_batch_is_404_but_the_super_users_client_sees_it(
    caller, organisation
):
    batch = sent(caller, "uln", nth_uln(1))
    colleague = real_caller(member_of(organisation))
    super_user = real_caller(member_of(organisation, super_user=True))

    assert status_of(colleague, batch).status_code == HTTPStatus.NOT_FOUND
    assert status_of(super_user, batch).status_code == HTTPStatus.OK


def test_revoking_the_client_stops_its_batch_before_the_next_chunk(
    caller, organisation, settings
):
    settings.BATCH_CHUNK_ROWS = 2
    batch = sent(caller, "uln", *(nth_uln(n) for n in range(5)))
    api_client_revoke(
        api_client=caller.api_client,
        acting_user=member_of(organisation, super_user=True),
        reason="Left on a laptop",
    )

    batch_run(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == Batch.Status.FAILED
    assert "revoked" in batch.failure_reason
    assert not LearnerView.objects.exists()


def test_an_expired_client_stops_its_batch(caller):
    batch = sent(caller, "uln", nth_uln(1))
    ApiClient.objects.filter(pk=caller.api_client.pk).update(
        expires_on=timezone.now().date() - timedelta(days=1)
    )

    batch_run(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == Batch.Status.FAILED
    assert "expired" in batch.failure_reason
