"""No ULN, name, date of birth or postcode in any address or server log line
(issue 12, "Controls"): every log record the service writes while answering
searches, good and bad, refused and found, is read back."""

import logging
from http import HTTPStatus

import pytest
from django.test import override_settings

from tests.records.api.conftest import AMELIA, make_learner, post

pytestmark = pytest.mark.django_db

PERSONAL = [
    "9276308686",
    "1234567890",
    "Amelia",
    "Hughes",
    "Zebedee",
    "2007-05-14",
    "LS2 9JT",
    "LS29JT",
    "ls2",
]


@override_settings(LOOKUP_USER_HOURLY_CAP=3)
def test_searches_leave_no_personal_data_in_the_server_log(api, caplog, capfd):
    make_learner()
    caplog.set_level(logging.DEBUG)
    calls = [
        ("learner-searches", {"uln": "9276308686"}),
        ("learner-searches", {"uln": "1234567890"}),  # bad check digit: 400
        ("learner-searches", {**AMELIA, "postcode": "ls2 9jt"}),
        ("learner-searches", {**AMELIA, "date_of_birth": "2007-05-14x"}),  # 400
        (
            "learning-events",
            {"uln": "9276308686", "given_name": "Amelia", "family_name": "Hughes"},
        ),
        (
            "learning-events",
            {"uln": "9276308686", "given_name": "Zebedee", "family_name": "Hughes"},
        ),
        (
            "learner-searches",
            {"uln": "9276308686", "given_name": "Amelia"},
        ),  # both: 400
        ("learner-searches", {"uln": "9276308686"}),
        ("learner-searches", {"uln": "9276308686"}),  # past the cap: 429
    ]

    statuses = [post(api, name, body).status_code for name, body in calls]

    assert HTTPStatus.BAD_REQUEST in statuses
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    logged = caplog.text + "".join(
        f"{r.getMessage()} {r.args} {vars(r)}" for r in caplog.records
    )
    out, err = capfd.readouterr()
    assert "learner-searches" in logged + err  # the log was captured at all
    for value in PERSONAL:
        assert value not in logged
        assert value not in out + err


@override_settings(LOOKUP_USER_HOURLY_CAP=100)
def test_a_batch_leaves_no_personal_data_in_the_server_log(member, caplog, capfd):
    """Sent, run (the worker's code, here) and its results read as JSON and CSV."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from records.batches import batch_run
    from records.models import Batch
    from tests.records.api.conftest import real_caller

    make_learner()
    caplog.set_level(logging.DEBUG)
    caller = real_caller(member)
    lines = [
        "given_name,family_name,date_of_birth,gender,postcode,reference",
        "Amelia,Hughes,2007-05-14,2,ls2 9jt,R1",
        "Zebedee,Hughes,2007-05-14x,2,LS2 9JT,R2",  # a row error
    ]
    sent = caller.http.post(
        "/api/v1/batches",
        {"file": SimpleUploadedFile("f.csv", "\r\n".join(lines).encode())},
        format="multipart",
    )
    assert sent.status_code == HTTPStatus.ACCEPTED, sent.content
    batch_run(batch_id=Batch.objects.get().pk)
    as_json = caller.http.get(f"{sent['Location']}/results")
    as_csv = caller.http.get(f"{sent['Location']}/results", HTTP_ACCEPT="text/csv")
    assert (as_json.status_code, as_csv.status_code) == (HTTPStatus.OK,) * 2

    logged = caplog.text + "".join(
        f"{r.getMessage()} {r.args} {vars(r)}" for r in caplog.records
    )
    out, err = capfd.readouterr()
    assert "api/v1/batches" in logged + err  # the log was captured at all
    assert "9276308686" in as_json.content.decode()  # the answer has it; logs not
    for value in PERSONAL:
        assert value not in logged
        assert value not in out + err
    assert all(value not in sent["Location"] for value in PERSONAL)
