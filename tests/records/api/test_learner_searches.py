from http import HTTPStatus

import pytest

from records.models import LearnerView
from tests.records.api.conftest import AMELIA, make_learner, post

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome
AMELIA_OUT = {**AMELIA, "uln": "9276308686"}


def search(api, body):
    return post(api, "learner-searches", body)


def test_a_uln_search_answers_the_learner_and_logs_one_api_row(api, member):
    make_learner()

    response = search(api, {"uln": "9276308686"})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "outcome": "exact_match",
        "code": "WSRC0004",
        "learners": [AMELIA_OUT],
    }
    assert response["Cache-Control"] == "no-store"
    row = LearnerView.objects.get()
    assert row.channel == LearnerView.Channel.API
    assert row.user == member
    assert row.action == LearnerView.Action.SEARCH_ULN
    assert row.outcome == OUTCOME.EXACT_MATCH


def test_a_uln_nobody_has_is_no_match_wsrc0001(api):
    response = search(api, {"uln": "1964986809"})

    assert response.json() == {
        "outcome": "no_match",
        "code": "WSRC0001",
        "learners": [],
    }
    assert LearnerView.objects.get().learner_uln == "1964986809"


def test_five_demographics_find_the_learner(api):
    make_learner()

    response = search(api, {**AMELIA, "given_name": "amelia", "postcode": "ls29jt"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["code"] == "WSRC0004"
    assert response.json()["learners"] == [AMELIA_OUT]
    row = LearnerView.objects.get()
    assert (row.action, row.channel) == ("search_demographics", "api")


def test_near_learners_are_possible_matches_wsrc0003_with_each_learner(api):
    make_learner("9276308686", postcode="LS2 9JT")
    make_learner("1964986809", postcode="M1 1AE")

    response = search(api, {**AMELIA, "postcode": "B1 1AA"})

    body = response.json()
    assert (body["outcome"], body["code"]) == ("possible_matches", "WSRC0003")
    assert sorted(learner["uln"] for learner in body["learners"]) == [
        "1964986809",
        "9276308686",
    ]


def test_more_than_ten_are_too_many_matches_wsrc0002_and_name_nobody(api):
    from tests.records.factories import nth_uln

    for n in range(11):
        make_learner(nth_uln(n), postcode=f"M{n + 1} 1AE")

    response = search(api, {**AMELIA, "postcode": "B1 1AA"})

    assert response.json() == {
        "outcome": "too_many_matches",
        "code": "WSRC0002",
        "learners": [],
    }


def _errors(response):
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == HTTPStatus.BAD_REQUEST
    assert problem["type"].endswith("/invalid-request")
    return {(e["field"], e["detail"]) for e in problem["errors"]}


@pytest.mark.parametrize(
    ("uln", "words"),
    [
        ("1234567890", "This ULN is not valid: check for a mistyped digit"),
        ("9999999999", "9999999999 is the temporary ULN, not a learner's own number"),
        ("0000000042", "A ULN cannot start with 0"),
        ("12345", "A ULN is 10 digits, like 9276308686"),
        ("", "Enter a ULN"),
        (9276308686, "A ULN is 10 digits, like 9276308686"),
        (None, "Enter a ULN"),
        (["9276308686"], "A ULN is 10 digits, like 9276308686"),
    ],
)
def test_a_bad_uln_is_400_in_the_pages_words_and_logs_nothing(api, uln, words):
    response = search(api, {"uln": uln})

    assert _errors(response) == {("uln", words)}
    assert not LearnerView.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"date_of_birth": "2007-02-30"},
            "date_of_birth",
            "Date of birth must be a real date",
        ),
        (
            {"date_of_birth": "2999-01-01"},
            "date_of_birth",
            "Date of birth must be in the past",
        ),
        (
            {"date_of_birth": "1899-12-31"},
            "date_of_birth",
            "Date of birth must be the same as or after 1 January 1900",
        ),
        (
            {"date_of_birth": "14/05/2007"},
            "date_of_birth",
            "Date of birth must be written as year-month-day, like 2007-05-14",
        ),
        (
            {"gender": 3},
            "gender",
            "Gender must be 0 (not known), 1 (male), 2 (female) or 9 (not specified)",
        ),
        (
            {"gender": "2"},
            "gender",
            "Gender must be 0 (not known), 1 (male), 2 (female) or 9 (not specified)",
        ),
        (
            {"gender": True},
            "gender",
            "Gender must be 0 (not known), 1 (male), 2 (female) or 9 (not specified)",
        ),
        ({"postcode": "not a postcode"}, "postcode", "Enter a real postcode"),
        (
            {"given_name": "Am3lia"},
            "given_name",
            "Given name must only include letters a to z, spaces, hyphens, "
            "apostrophes and full stops",
        ),
        (
            {"family_name": "H" * 36},
            "family_name",
            "Family name must be 35 characters or less",
        ),
        ({"family_name": ""}, "family_name", "Enter the learner's family name"),
        ({"given_name": 7}, "given_name", "Enter the learner's given name as text"),
    ],
)
def test_bad_demographics_are_400_naming_the_field(api, change, field, words):
    response = search(api, {**AMELIA, **change})

    assert _errors(response) == {(field, words)}
    assert not LearnerView.objects.exists()


def test_each_missing_demographic_is_named(api):
    response = search(api, {"given_name": "Amelia"})

    assert _errors(response) == {
        ("family_name", "Enter the learner's family name"),
        ("date_of_birth", "Enter the learner's date of birth"),
        ("gender", "Select the learner's gender"),
        ("postcode", "Enter the learner's postcode"),
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"uln": "9276308686", **AMELIA},
            {(None, "Search by ULN or by the five demographics, not both")},
        ),
        (
            {},
            {
                (
                    None,
                    "Send a ULN, or the five demographics: given_name, family_name, "
                    "date_of_birth, gender and postcode",
                )
            },
        ),
        (
            {"uln": "9276308686", "reason": "x"},
            {("reason", "This field is not part of the request")},
        ),
        (
            [{"uln": "9276308686"}],
            {(None, "Send a JSON object: a ULN, or the five demographics")},
        ),
        ("9276308686", {(None, "Send a JSON object: a ULN, or the five demographics")}),
    ],
)
def test_a_body_of_the_wrong_shape_is_400(api, body, expected):
    assert _errors(search(api, body)) == expected
    assert not LearnerView.objects.exists()


def test_a_body_that_is_not_json_is_400_and_another_type_415(api):
    broken = api.post(
        "/api/v1/learner-searches", b"{uln:", content_type="application/json"
    )
    form = api.post("/api/v1/learner-searches", {"uln": "9276308686"})

    assert broken.status_code == HTTPStatus.BAD_REQUEST
    assert broken["Content-Type"] == "application/problem+json"
    assert broken.json()["detail"].startswith("JSON parse error")
    assert form.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert form.json()["status"] == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


# --- linked learners (the LRS's MasterSubstituted) ---------------------------------


def _merged_into_amelia():
    from records.models import LearnerLink

    master = make_learner()
    merged = make_learner("1964986809", given_name="Amelie")
    LearnerLink.objects.create(learner=merged, master=master)
    return merged


def test_a_merged_uln_answers_the_master_with_wsrc0022(api):
    merged = _merged_into_amelia()

    response = search(api, {"uln": merged.uln})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "outcome": "linked_learner_match",
        "code": "WSRC0022",
        "learners": [AMELIA_OUT],
    }
    row = LearnerView.objects.get()
    assert (row.channel, row.outcome, row.learner_uln) == (
        LearnerView.Channel.API,
        OUTCOME.LINKED_LEARNER_MATCH,
        "9276308686",
    )


def test_a_batch_row_of_a_merged_uln_matches_the_master_with_wsrc0022(member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from records.batches import batch_run
    from records.models import Batch
    from tests.records.api.conftest import real_caller

    merged = _merged_into_amelia()
    caller = real_caller(member)
    sent = caller.http.post(
        "/api/v1/batches",
        {"file": SimpleUploadedFile("f.csv", f"uln\r\n{merged.uln}\r\n".encode())},
        format="multipart",
    )
    assert sent.status_code == HTTPStatus.ACCEPTED, sent.content
    batch_run(batch_id=Batch.objects.get().pk)

    results = caller.http.get(f"{sent['Location']}/results").json()["results"]

    assert [(r["outcome"], r["code"], r["matched_ulns"]) for r in results] == [
        ("linked_learner_match", "WSRC0022", ["9276308686"])
    ]
