"""A request's case file (decision 17): notes, attachments, correspondence,
emails to the requester, the public summary and the register."""

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from approvals import services
from approvals.models import CaseAttachment, CaseNote, Correspondence, PublicSummary
from approvals.services.casefile import (
    attachment_add,
    correspondence_log,
    note_add,
    public_summary_approve,
    public_summary_write,
)
from approvals.services.requests import Refused
from lrs_portal import roles
from lrs_portal.models import Notification
from tests.approvals.conftest import Cast, build_cast, staff
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _pdf(content: bytes = PDF, name: str = "dpia.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _wf(cast: Cast, name: str) -> str:
    return reverse(f"admin:approvals_datasharerequest_{name}", args=[cast.request.pk])


# --- notes and correspondence ---------------------------------------------------------


def test_a_caseworker_adds_a_note_with_history(cast: Cast):
    note = note_add(request=cast.request, acting_user=cast.caseworker, text="Called")

    assert note.history.get().history_change_reason == "Note added"


def test_an_assessor_cannot_add_a_note(cast: Cast):
    cast.triage()

    with pytest.raises(PermissionError):
        note_add(request=cast.request, acting_user=cast.assessor, text="Mine")


def test_a_blank_note_is_refused(cast: Cast):
    with pytest.raises(Refused):
        note_add(request=cast.request, acting_user=cast.caseworker, text="  ")


def test_notes_never_reach_the_requester_s_pages(cast: Cast):
    cast.submit()
    note_add(request=cast.request, acting_user=cast.caseworker, text="Secret note")
    client = Client()
    client.force_login(cast.requester)

    page = client.get(cast.request.get_absolute_url()).text

    assert "Secret note" not in page


def test_correspondence_in_the_future_is_refused(cast: Cast):
    with pytest.raises(Refused, match="today or in the past"):
        correspondence_log(
            request=cast.request,
            acting_user=cast.caseworker,
            direction="received",
            channel="phone",
            subject="Call",
            summary="",
            occurred_at=timezone.now() + timezone.timedelta(days=2),
        )


def test_the_request_page_adds_a_note_through_its_workflow_page(cast: Cast):
    cast.submit()
    client = verified_client(cast.caseworker)

    response = client.post(_wf(cast, "note"), {"text": "Rang the requester"})

    assert response.status_code == HTTPStatus.FOUND
    assert CaseNote.objects.get().text == "Rang the requester"
    assert "Rang the requester" in client.get(_wf(cast, "change")).text


def test_a_panel_member_gets_403_on_the_note_page(cast: Cast):
    cast.to_panel()

    response = verified_client(cast.members[1]).get(_wf(cast, "note"))

    assert response.status_code == HTTPStatus.FORBIDDEN


# --- emails to the requester ---------------------------------------------------------


def _sent(cast: Cast, subject_part: str) -> bool:
    return Notification.objects.filter(
        to=cast.requester.email, subject__contains=subject_part
    ).exists()


def test_the_requester_is_emailed_on_submission_decision_and_release(cast: Cast):
    cast.release()

    assert _sent(cast, "request received")
    assert _sent(cast, "panel decision")
    assert _sent(cast, "data released: 2019/20")


def test_every_email_to_the_requester_is_in_the_correspondence_log(cast: Cast):
    cast.release()

    logged = set(Correspondence.objects.values_list("subject", flat=True))
    emailed = set(
        Notification.objects.filter(to=cast.requester.email).values_list(
            "subject", flat=True
        )
    )
    assert emailed
    assert emailed == logged


# --- attachments ----------------------------------------------------------------------


def test_a_pdf_is_attached_in_private_storage(cast: Cast):
    attachment = attachment_add(
        request=cast.request, acting_user=cast.caseworker, kind="dpia", upload=_pdf()
    )

    assert attachment.document.name.startswith("dsap/")
    assert attachment.document.name.endswith(".pdf")
    assert cast.request.reference in attachment.document.name
    assert attachment.size == len(PDF)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "dpia.pdf", "must be a PDF"),
        (b"<html>%PDF-</html>", "agreement.pdf", "must be a PDF"),
        (b"", "empty.pdf", "empty"),
    ],
)
def test_a_file_that_is_not_a_pdf_by_content_is_refused(
    cast: Cast, content, name, message
):
    with pytest.raises(Refused, match=message):
        attachment_add(
            request=cast.request,
            acting_user=cast.caseworker,
            kind="dsa",
            upload=_pdf(content, name),
        )
    assert not CaseAttachment.objects.exists()


@override_settings(DSAP_ATTACHMENT_MAX_MB=1)
def test_a_pdf_over_the_size_limit_is_refused(cast: Cast):
    big = PDF + b"0" * (1024 * 1024)

    with pytest.raises(Refused, match="smaller than 1MB"):
        attachment_add(
            request=cast.request,
            acting_user=cast.caseworker,
            kind="ethics",
            upload=_pdf(big),
        )


def test_an_upload_through_the_admin_page_is_checked(cast: Cast):
    client = verified_client(cast.caseworker)

    refused = client.post(
        _wf(cast, "attach"),
        {"kind": "dpia", "description": "", "document": _pdf(b"GIF89a", "x.pdf")},
    )
    accepted = client.post(
        _wf(cast, "attach"),
        {"kind": "dpia", "description": "v2", "document": _pdf()},
    )

    assert refused.status_code == HTTPStatus.FOUND
    assert accepted.status_code == HTTPStatus.FOUND
    assert CaseAttachment.objects.get().description == "v2"


def test_the_attachment_downloads_for_those_who_see_the_request(cast: Cast):
    cast.to_panel()
    attachment = attachment_add(
        request=cast.request, acting_user=cast.caseworker, kind="dpia", upload=_pdf()
    )
    url = reverse(
        "admin:approvals_datasharerequest_attachment",
        args=[cast.request.pk, attachment.pk],
    )

    mine = verified_client(cast.members[1]).get(url)
    outsider = verified_client(staff(roles.DSAP_PANEL_MEMBER)).get(url)

    assert mine.status_code == HTTPStatus.OK
    assert b"".join(mine.streaming_content).startswith(b"%PDF-")
    assert outsider.status_code == HTTPStatus.NOT_FOUND


def test_an_attachment_of_another_request_is_404(cast: Cast):
    other = build_cast()
    attachment = attachment_add(
        request=other.request, acting_user=cast.caseworker, kind="dpia", upload=_pdf()
    )
    url = reverse(
        "admin:approvals_datasharerequest_attachment",
        args=[cast.request.pk, attachment.pk],
    )

    assert verified_client(cast.caseworker).get(url).status_code == HTTPStatus.NOT_FOUND


# --- the public summary and the register ----------------------------------------------


def test_the_register_publishes_only_an_approved_summary(cast: Cast):
    cast.approve()
    second = staff(roles.CASEWORKER)
    public_summary_write(
        request=cast.request, acting_user=cast.caseworker, text="Reading for pleasure."
    )
    before = Client().get(reverse("approvals:published")).text
    public_summary_approve(request=cast.request, acting_user=second)
    after = Client().get(reverse("approvals:published")).text

    assert "Reading for pleasure." not in before
    assert "Reading for pleasure." in after
    assert cast.request.summary not in after


def test_the_writer_cannot_approve_their_own_summary(cast: Cast):
    cast.approve()
    public_summary_write(request=cast.request, acting_user=cast.caseworker, text="x")

    with pytest.raises(Refused, match="Another caseworker"):
        public_summary_approve(request=cast.request, acting_user=cast.caseworker)


def test_rewriting_an_approved_summary_needs_approval_again(cast: Cast):
    cast.approve()
    public_summary_write(request=cast.request, acting_user=cast.caseworker, text="x")
    public_summary_approve(request=cast.request, acting_user=staff(roles.CASEWORKER))

    public_summary_write(request=cast.request, acting_user=cast.caseworker, text="y")

    assert PublicSummary.objects.get().approved_at is None


def test_the_register_shows_the_years_released_not_requested(cast: Cast):
    cast.approve()
    before = Client().get(reverse("approvals:published-csv")).content.decode()
    services.release_record(
        request=cast.request,
        acting_user=cast.caseworker,
        dataset=cast.request.datasets.get(),
        srs_project_reference="SRS-1",
        researchers=list(cast.request.researchers.all()),
        end_date=cast.request.end_date,
    )
    after = Client().get(reverse("approvals:published-csv")).content.decode()

    assert "None released yet" in before
    assert "2019/20 (tier 2)" not in before
    assert "2019/20 (tier 2)" in after
