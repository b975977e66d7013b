import csv
import io
import uuid
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.batches import batch_run
from records.models import Batch
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import LearnerFactory, nth_uln

pytestmark = pytest.mark.django_db
CONFIRMED = {"privacy_notice": "on", "own_student": "on"}


@pytest.fixture(autouse=True)
def _roomy_caps(settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1000
    settings.LOOKUP_ORG_DAILY_MINIMUM = 1000


@pytest.fixture
def organisation():
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create()
    )


@pytest.fixture
def searcher(organisation):
    return member_of(organisation)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, content: bytes, **extra):
    data = {"file": SimpleUploadedFile("enrolments.csv", content), **CONFIRMED}
    data.update(extra)
    return client.post(reverse("records:batch-new"), data)


def sent_batch(user, lines=None) -> Batch:
    content = "\r\n".join(["uln,reference", *(lines or [f"{nth_uln(0)},A"])])
    response = upload(signed_in(user), content.encode())
    assert response.status_code == HTTPStatus.FOUND
    return Batch.objects.get()


def test_the_upload_page_offers_both_templates_and_the_guidance(searcher):
    body = signed_in(searcher).get(reverse("records:batch-new")).content.decode()

    assert reverse("records:batch-template", args=["uln"]) in body
    assert reverse("records:batch-template", args=["demographics"]) in body
    assert "CSV UTF-8" in body
    assert "privacy notice" in body


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("uln", ["uln", "reference"]),
        (
            "demographics",
            [
                "given_name",
                "family_name",
                "date_of_birth",
                "gender",
                "postcode",
                "reference",
            ],
        ),
    ],
)
def test_each_template_is_a_file_the_upload_accepts(searcher, kind, header):
    client = signed_in(searcher)

    template = client.get(reverse("records:batch-template", args=[kind]))
    response = upload(client, template.content)

    assert template["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(template.content.decode()))) == header
    assert response.status_code == HTTPStatus.FOUND
    assert Batch.objects.get().kind == kind


def test_an_unknown_template_is_not_found(searcher):
    response = signed_in(searcher).get(
        reverse("records:batch-template", args=["excel"])
    )

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_sent_batch_is_shown_by_an_id_that_holds_no_learner_data(searcher):
    uln = nth_uln(0)
    response = upload(signed_in(searcher), f"uln\r\n{uln}\r\n".encode())

    batch = Batch.objects.get()
    assert response["Location"] == reverse("records:batch", args=[batch.public_id])
    assert uln not in response["Location"]
    page = signed_in(searcher).get(response["Location"]).content.decode()
    assert "Searching for learners" in page
    assert "0 of 1 lines done" in page
    assert reverse("records:batch-status", args=[batch.public_id]) in page
    assert "batch-progress.js" in page


def test_a_malformed_file_is_refused_with_the_reason_and_nothing_is_kept(searcher):
    response = upload(signed_in(searcher), b"student,number\r\n1,2\r\n")

    body = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "There is a problem" in body
    assert "The first line of the file must name its columns" in body
    assert not Batch.objects.exists()


def test_the_confirmations_and_the_file_are_required(searcher):
    response = signed_in(searcher).post(reverse("records:batch-new"), {})

    body = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a CSV file" in body
    assert "Confirm you have given every learner in this file" in body


def test_a_file_past_the_caps_is_refused_saying_how_many_would_fit(searcher, settings):
    settings.LOOKUP_USER_HOURLY_CAP = 2
    lines = "\r\n".join(nth_uln(n) for n in range(3))

    response = upload(signed_in(searcher), f"uln\r\n{lines}\r\n".encode())

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Send a file of at most 2 learners" in response.content.decode()
    assert not Batch.objects.exists()


def test_a_member_of_a_suspended_organisation_sees_why_and_no_form(
    searcher, organisation
):
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    response = signed_in(searcher).get(reverse("records:batch-new"))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "access to the LRS is suspended" in response.content.decode()


def _batch_urls(batch: Batch) -> list[str]:
    return [
        reverse(name, args=[batch.public_id])
        for name in ("records:batch", "records:batch-status", "records:batch-results")
    ]


def test_another_organisations_batch_is_not_found(searcher):
    batch = sent_batch(searcher)
    batch_run(batch_id=batch.pk)
    stranger = member_of(
        OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
    )

    for url in _batch_urls(batch):
        assert signed_in(stranger).get(url).status_code == HTTPStatus.NOT_FOUND
    list_page = signed_in(stranger).get(reverse("records:batches")).content.decode()
    assert str(batch.public_id) not in list_page


def test_a_colleague_sees_only_their_own_batches_and_the_super_user_sees_all(
    searcher, organisation
):
    batch = sent_batch(searcher)
    batch_run(batch_id=batch.pk)
    colleague = member_of(organisation)
    boss = member_of(organisation, super_user=True)

    for url in _batch_urls(batch):
        assert signed_in(colleague).get(url).status_code == HTTPStatus.NOT_FOUND
        assert signed_in(boss).get(url).status_code == HTTPStatus.OK


def test_a_batch_id_nobody_has_is_not_found(searcher):
    url = reverse("records:batch", args=[uuid.uuid4()])

    assert signed_in(searcher).get(url).status_code == HTTPStatus.NOT_FOUND


def test_the_status_says_how_far_the_batch_got(searcher):
    batch = sent_batch(searcher, [f"{nth_uln(n)},R{n}" for n in range(3)])
    client = signed_in(searcher)
    url = reverse("records:batch-status", args=[batch.public_id])

    before = client.get(url).json()
    batch_run(batch_id=batch.pk)
    after = client.get(url).json()

    assert before == {
        "status": "queued",
        "rows": 3,
        "rows_done": 0,
        "percent_done": 0,
        "failure_reason": "",
    }
    assert after["status"] == "complete"
    assert after["rows_done"] == 3


def test_the_results_download_is_in_input_order_and_formula_safe(searcher):
    learner = LearnerFactory.create(uln=nth_uln(1))
    batch = sent_batch(
        searcher,
        [
            f'{nth_uln(0)},"=HYPERLINK(""http://x"")"',
            f"{learner.uln},B",
            "1234567890,C",
        ],
    )
    client = signed_in(searcher)
    results_url = reverse("records:batch-results", args=[batch.public_id])
    assert client.get(results_url).status_code == HTTPStatus.NOT_FOUND  # not yet
    batch_run(batch_id=batch.pk)

    response = client.get(results_url)

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["line", "reference", "outcome", "code", "matched_ulns", "error"],
        ["2", '\'=HYPERLINK("http://x")', "no_match", "WSRC0001", "", ""],
        ["3", "B", "exact_match", "WSRC0004", learner.uln, ""],
        [
            "4",
            "C",
            "",
            "",
            "",
            "This ULN is not valid: check for a mistyped digit",
        ],
    ]
    page = client.get(reverse("records:batch", args=[batch.public_id]))
    assert "Batch complete" in page.content.decode()
    assert results_url in page.content.decode()


def test_the_list_of_batches_has_an_empty_state(searcher):
    body = signed_in(searcher).get(reverse("records:batches")).content.decode()

    assert "You have not sent any batches yet" in body


def test_the_list_of_batches_is_paginated_newest_first(searcher, settings):
    for n in range(21):
        upload(signed_in(searcher), f"uln\r\n{nth_uln(n)}\r\n".encode())
    client = signed_in(searcher)
    newest = Batch.objects.order_by("-created_at", "-pk").first()

    first = client.get(reverse("records:batches")).content.decode()
    second = client.get(reverse("records:batches") + "?page=2").content.decode()

    assert str(newest.public_id) in first
    assert sum(str(b.public_id) in first for b in Batch.objects.all()) == 20
    assert 'aria-label="Pagination"' in first
    assert str(newest.public_id) not in second


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in():
    response = Client().get(reverse("records:batches"))

    assert response.status_code == HTTPStatus.FOUND
    assert "login" in response["Location"]
