"""Issue 12: a search through the web service and a batch row are seen
everywhere a page's search is: the organisation's usage page and log download
(with the channel and the API client on each row), the nightly audit's counts,
and the learner access report."""

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.audit import usage_days_write
from records.batches import batch_run
from records.models import Batch, LearnerView
from records.reports import learner_access_report
from records.services import learner_search_by_uln
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.api.conftest import make_learner, real_caller

pytestmark = pytest.mark.django_db
ULN = "9276308686"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def member(organisation):
    return member_of(organisation)


@pytest.fixture
def searched(organisation, member):
    """One search of the same learner each way: a page, an API call, a batch row."""
    make_learner(ULN)
    learner_search_by_uln(user=member, uln=ULN, request_id="page-1")
    caller = real_caller(member, name="Enrolment MIS")
    answer = caller.http.post("/api/v1/learner-searches", {"uln": ULN}, format="json")
    assert answer.status_code == HTTPStatus.OK, answer.content
    sent = caller.http.post(
        "/api/v1/batches",
        {"file": SimpleUploadedFile("f.csv", f"uln\r\n{ULN}\r\n".encode())},
        format="multipart",
    )
    assert sent.status_code == HTTPStatus.ACCEPTED, sent.content
    batch_run(batch_id=Batch.objects.get().pk)  # the worker's work, here
    assert LearnerView.objects.count() == 3
    return caller


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_usage_page_and_the_log_download_show_every_channel(
    organisation, member, searched
):
    super_client = _signed_in(member_of(organisation, super_user=True))
    today = datetime.now(UTC).date()

    page = unescape(super_client.get(reverse("records:usage")).content.decode())
    row = re.search(rf"<th[^>]*>{today.day} {today:%B %Y}</th>(.*?)</tr>", page, re.S)
    assert row is not None
    assert int(re.findall(r">(\d+)</td>", row[1])[0]) == 3  # searches today

    response = super_client.get(reverse("records:usage-csv"))
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert sorted((r["Channel"], r["API client"]) for r in rows) == [
        ("Batch file", "Enrolment MIS"),
        ("Portal page", ""),
        ("Web service (API)", "Enrolment MIS"),
    ]
    assert {r["User email"] for r in rows} == {member.email}


def test_the_nightly_audit_counts_every_channel(member, searched):
    scan = usage_days_write(datetime.now(UTC).date())

    (counts,) = [c for c in scan.counted if c.user_id == member.pk]
    assert counts.searches == 3


def test_the_learner_access_report_lists_every_channel(organisation, searched):
    rows = list(learner_access_report(uln=ULN))

    assert sorted(row["channel"] for row in rows) == [
        "Batch file",
        "Portal page",
        "Web service (API)",
    ]
    assert {row["organisation_ukprn"] for row in rows} == {organisation.ukprn}
