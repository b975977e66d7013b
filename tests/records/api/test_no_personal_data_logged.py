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
