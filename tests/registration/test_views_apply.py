import re
from html import unescape
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from lrs_portal.models import Notification, User
from registration.companies_house import CompaniesHouseUnavailable
from registration.models import RegistrationApplication, SigningRequest
from registration.services import (
    application_reject,
    application_request_information,
    application_start,
)
from tests.factories import (
    AgreementVersionFactory,
    RegistrationApplicationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

WEBSITE = "https://www.northfield-college.example.com"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LEARNERS = "estimated_learners_per_year"
AO = "awarding_organisation"
PURPOSE = (
    "We are a further education college. We look up the ULN and prior achievements "
    "of each learner we enrol, to place them on the right course."
)


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


@pytest.fixture
def applicant():
    return UserFactory.create(
        email="jane.doe@northfield-college.example.com", full_name="Jane Doe"
    )


@pytest.fixture
def applicant_client(applicant):
    client = Client()
    client.force_login(applicant)
    return client


@pytest.fixture
def draft(applicant):
    """A complete draft whose declaration is not yet confirmed."""
    return RegistrationApplicationFactory.create(
        applicant=applicant,
        website=WEBSITE,
        declaration_accepted_at=None,
    )


def url(name, *args):
    return reverse(f"registration:{name}", args=args)


def body(response):
    return response.content.decode()


def assert_field_errors(response, *fields):
    """A GOV.UK error summary, and each field's own error message."""
    assert response.status_code == HTTPStatus.OK
    html = body(response)
    assert 'class="govuk-error-summary"' in html
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Error: " in html
    for field in fields:
        assert f'id="id_{field}_error"' in html, field


def snapshot(application):
    application.refresh_from_db()
    values = model_to_dict(application)
    values["accreditations"] = list(
        application.accreditations.values_list("awarding_organisation", "reference")
    )
    values["accounts_document"] = application.accounts_document.name
    return values


# --- Creating an account ------------------------------------------------------


def test_the_start_page_links_to_creating_an_account(client):
    html = body(client.get(reverse("lrs_portal:start")))

    assert url("create-account") in html
    assert "Apply to register your organisation" in html


def test_a_new_applicant_creates_an_account_and_is_signed_in(client):
    response = client.post(
        url("create-account"),
        {
            "full_name": "Jane Doe",
            "email": "Jane.Doe@Northfield-College.example.com",
            "password": "a-long-new-password-2026",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("task-list")
    user = User.objects.get(email="jane.doe@northfield-college.example.com")
    assert user.full_name == "Jane Doe"
    assert user.check_password("a-long-new-password-2026")
    assert client.get(url("task-list")).status_code == HTTPStatus.OK


def test_an_email_that_already_has_an_account_is_refused_clearly(client, applicant):
    response = client.post(
        url("create-account"),
        {
            "full_name": "Someone Else",
            "email": applicant.email.upper(),
            "password": "a-long-new-password-2026",
        },
    )

    assert_field_errors(response, "email")
    assert "An account with this email address already exists" in body(response)
    assert not User.objects.filter(full_name="Someone Else").exists()


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["full_name", "email", "password"]),
        (
            {"full_name": "A", "email": "not-an-email", "password": "x"},
            ["email", "password"],
        ),
        (
            {"full_name": "A", "email": "exams@college.example.com", "password": "x"},
            ["email", "password"],
        ),
        (
            {"full_name": "A", "email": "a@college.example.com", "password": "123456"},
            ["password"],
        ),
        (
            {
                "full_name": "A\x00B",
                "email": "a@college.example.com",
                "password": "a-long-new-password-2026",
            },
            ["full_name"],
        ),
    ],
)
def test_bad_account_details_show_errors_and_create_nothing(client, data, fields):
    before = User.objects.count()

    response = client.post(url("create-account"), data)

    assert_field_errors(response, *fields)
    assert User.objects.count() == before


def test_a_signed_in_person_goes_straight_to_their_application(applicant_client):
    response = applicant_client.get(url("create-account"))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("task-list")


# --- The task list ------------------------------------------------------------


def test_the_task_list_starts_an_application_and_shows_its_reference(
    applicant, applicant_client
):
    response = applicant_client.get(url("task-list"))

    application = RegistrationApplication.objects.get(applicant=applicant)
    html = body(response)
    assert application.reference in html
    assert html.count("<h1") == 1
    assert "govuk-task-list" in html
    assert html.count("Cannot start yet") == 3  # going concern, director, submit
    assert html.count(">Incomplete<") == 4  # with learners you serve
    assert application.super_user_email == applicant.email


def test_the_task_list_marks_completed_sections(applicant_client, draft):
    applicant_client.get(url("going-concern"))  # looks the company up

    html = body(applicant_client.get(url("task-list")))

    assert html.count(">Completed<") == 6
    assert url("check-answers") in html
    assert "Cannot start yet" not in html


def test_a_submitted_application_is_not_edited_but_shown(applicant_client, applicant):
    application = RegistrationApplicationFactory.create(
        applicant=applicant, submitted=True
    )

    for name in ["task-list", "organisation-details", "purpose", "check-answers"]:
        response = applicant_client.get(url(name))
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == application.get_absolute_url()


# --- Organisation details -----------------------------------------------------


def test_organisation_details_are_saved_with_numbers_normalised(applicant_client):
    response = applicant_client.post(
        url("organisation-details"),
        {
            "legal_name": "Northfield College Limited",
            "trading_names": "Northfield College\n\n  Northfield Training \n",
            "ukprn": "1001 2345",
            "companies_house_number": " 9876543 ",
            "ico_number": "z1234567",
            "registered_address": "1 College Road\nLeeds\nLS2 9JT",
            "website": "www.northfield-college.example.com",
            "super_user_confirmed": "on",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("task-list")
    application = RegistrationApplication.objects.get()
    assert application.ukprn == "10012345"
    assert application.companies_house_number == "09876543"
    assert application.ico_number == "Z1234567"
    assert application.trading_names == "Northfield College\nNorthfield Training"
    assert application.website == "https://www.northfield-college.example.com"
    assert application.history.first().history_change_reason == (
        "Organisation details saved"
    )


def test_organisation_details_show_the_applicant_as_super_user(
    applicant_client, applicant
):
    html = body(applicant_client.get(url("organisation-details")))

    assert applicant.full_name in html
    assert applicant.email in html


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"legal_name": ""}, ["legal_name"]),
        ({"ukprn": "1234"}, ["ukprn"]),
        ({"ukprn": "01234567"}, ["ukprn"]),
        ({"companies_house_number": "XX123456"}, ["companies_house_number"]),
        ({"ico_number": "12345678"}, ["ico_number"]),
        ({"website": "not a website"}, ["website"]),
        ({"super_user_confirmed": ""}, ["super_user_confirmed"]),
        ({"legal_name": "x" * 161, "ukprn": "1" * 50}, ["legal_name", "ukprn"]),
    ],
)
def test_bad_organisation_details_show_errors_and_change_nothing(
    applicant_client, draft, changes, fields
):
    before = snapshot(draft)
    data = {
        "legal_name": "Northfield College Limited",
        "ukprn": "10012345",
        "companies_house_number": "09876543",
        "ico_number": "Z1234567",
        "registered_address": "1 College Road",
        "website": WEBSITE,
        "super_user_confirmed": "on",
        **changes,
    }

    response = applicant_client.post(url("organisation-details"), data)

    assert_field_errors(response, *fields)
    assert snapshot(draft) == before


def test_a_super_user_email_off_the_organisations_domain_is_explained(
    applicant_client, draft
):
    before = snapshot(draft)

    response = applicant_client.post(
        url("organisation-details"),
        {
            "legal_name": "Northfield College Limited",
            "ukprn": "10012345",
            "companies_house_number": "09876543",
            "ico_number": "Z1234567",
            "registered_address": "1 College Road",
            "website": "https://another-college.example.org",
            "super_user_confirmed": "on",
        },
    )

    assert_field_errors(response, "super_user_confirmed")
    assert "create their account with their own work email" in body(response)
    assert snapshot(draft) == before


def test_a_shared_mailbox_cannot_be_the_super_user(client):
    shared = UserFactory.create(email="exams@northfield-college.example.com")
    client.force_login(shared)

    response = client.post(
        url("organisation-details"),
        {
            "legal_name": "Northfield College Limited",
            "ukprn": "10012345",
            "companies_house_number": "09876543",
            "ico_number": "Z1234567",
            "registered_address": "1 College Road",
            "website": WEBSITE,
            "super_user_confirmed": "on",
        },
    )

    assert_field_errors(response, "super_user_confirmed")
    assert "not a shared mailbox" in body(response)


def test_changing_the_company_number_forgets_the_other_companys_director(
    applicant_client, draft
):
    applicant_client.post(
        url("organisation-details"),
        {
            "legal_name": "Northfield College Limited",
            "ukprn": "10012345",
            "companies_house_number": "SC612345",
            "ico_number": "Z1234567",
            "registered_address": "1 College Road",
            "website": WEBSITE,
            "super_user_confirmed": "on",
        },
    )

    draft.refresh_from_db()
    assert draft.companies_house_number == "SC612345"
    assert draft.signing_director_appointment == ""


# --- Accreditation and learners -----------------------------------------------


def test_awarding_organisations_are_added_and_removed(applicant_client, draft):
    response = applicant_client.post(
        url("accreditation"),
        {"action": "add", "awarding_organisation": "NCFE", "reference": "N-77"},
        follow=True,
    )

    assert "You added NCFE" in body(response)
    added = draft.accreditations.get(awarding_organisation="NCFE")
    assert added.reference == "N-77"

    response = applicant_client.post(url("remove-accreditation", added.pk), follow=True)

    assert "You removed NCFE" in body(response)
    assert not draft.accreditations.filter(awarding_organisation="NCFE").exists()


def test_saving_adds_a_typed_awarding_organisation_and_the_learners(
    applicant_client, applicant
):
    application = application_start(applicant=applicant)

    response = applicant_client.post(
        url("accreditation"),
        {
            "action": "save",
            "awarding_organisation": "Pearson",
            "reference": "PEA-1",
            "estimated_learners_per_year": "1,500",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("task-list")
    application.refresh_from_db()
    assert application.estimated_learners_per_year == 1500
    assert list(application.accreditations.values_list("reference", flat=True)) == [
        "PEA-1"
    ]


def test_pressing_enter_in_the_learners_box_saves(applicant_client, draft):
    # The first button in the form is "Add"; with nothing typed to add, it saves.
    response = applicant_client.post(
        url("accreditation"), {"action": "add", "estimated_learners_per_year": "42"}
    )

    assert response.url == url("task-list")
    draft.refresh_from_db()
    assert draft.estimated_learners_per_year == 42


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        *[
            ({"action": "save", "estimated_learners_per_year": typed}, [LEARNERS])
            for typed in ["", "0", "-5", "12.5", "1000001", "9" * 5000, "many"]
        ],
        ({"action": "surprise", "estimated_learners_per_year": "lots"}, [LEARNERS]),
        (
            {"action": "add", "awarding_organisation": "", "reference": ""},
            [AO, "reference"],
        ),
        ({"action": "add", "awarding_organisation": "pearson", "reference": "X"}, [AO]),
        ({"action": "add", "awarding_organisation": "A" * 161, "reference": "X"}, [AO]),
    ],
)
def test_bad_accreditation_input_shows_errors_and_changes_nothing(
    applicant_client, draft, data, fields
):
    before = snapshot(draft)

    response = applicant_client.post(url("accreditation"), data)

    assert_field_errors(response, *fields)
    assert snapshot(draft) == before


def test_the_learners_upper_bound_is_explained(applicant_client, draft):
    response = applicant_client.post(
        url("accreditation"),
        {"action": "save", "estimated_learners_per_year": "2,000,000"},
    )

    assert "must be 1,000,000 or fewer" in body(response)


def test_at_least_one_awarding_organisation_is_needed(applicant_client, applicant):
    application = application_start(applicant=applicant)

    response = applicant_client.post(
        url("accreditation"), {"action": "save", "estimated_learners_per_year": "10"}
    )

    assert_field_errors(response, "awarding_organisation")
    assert "Add at least one awarding organisation" in body(response)
    application.refresh_from_db()
    assert application.estimated_learners_per_year is None


def test_another_applicants_accreditation_cannot_be_removed(applicant_client, draft):
    other = RegistrationApplicationFactory.create()
    theirs = other.accreditations.earliest("pk")

    response = applicant_client.post(url("remove-accreditation", theirs.pk))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert other.accreditations.filter(pk=theirs.pk).exists()


# --- Going concern ------------------------------------------------------------


def test_going_concern_shows_the_company_at_companies_house(applicant_client, draft):
    html = body(applicant_client.get(url("going-concern")))

    assert "NORTHFIELD COLLEGE LIMITED" in html
    assert "Active" in html
    assert "govuk-warning-text" not in html


def test_a_dissolved_company_is_shown_as_a_warning(applicant_client, applicant):
    RegistrationApplicationFactory.create(
        applicant=applicant, companies_house_number="04567890"
    )

    html = body(applicant_client.get(url("going-concern")))

    assert "govuk-warning-text" in html
    assert "dissolved" in html


def test_a_proposal_to_strike_off_is_explained_to_the_provider(
    applicant_client, applicant
):
    RegistrationApplicationFactory.create(
        applicant=applicant, companies_house_number="SC612345"
    )

    html = body(applicant_client.get(url("going-concern")))

    assert "proposal to strike the company off" in html
    assert "We cannot approve your application while the proposal stands" in html


def test_an_unknown_company_links_back_to_change_the_number(
    applicant_client, applicant
):
    RegistrationApplicationFactory.create(
        applicant=applicant, companies_house_number="01234567"
    )

    html = body(applicant_client.get(url("going-concern")))

    assert "Companies House has no company with the number 01234567" in html
    assert url("organisation-details") in html


def test_companies_house_being_down_asks_to_try_later(
    applicant_client, draft, monkeypatch
):
    def down(**kwargs):
        raise CompaniesHouseUnavailable("Could not connect to Companies House")

    monkeypatch.setattr("registration.views.apply_company.company_fetch", down)

    response = applicant_client.get(url("going-concern"))

    assert response.status_code == HTTPStatus.OK
    assert "Try again later" in body(response)


def test_going_concern_cannot_start_without_a_company_number(
    applicant_client, applicant
):
    application_start(applicant=applicant)

    response = applicant_client.get(url("going-concern"))

    assert response.url == url("task-list")


def test_a_real_pdf_is_stored_privately_with_no_url(applicant_client, draft, settings):
    upload = SimpleUploadedFile("accounts 2025.pdf", PDF, "application/pdf")

    response = applicant_client.post(
        url("going-concern"), {"accounts_document": upload}
    )

    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    stored = Path(settings.MEDIA_ROOT) / draft.accounts_document.name
    assert stored.read_bytes() == PDF
    assert draft.accounts_document.name.startswith("accounts/")
    assert "2025" not in Path(draft.accounts_document.name).name  # our name, not theirs
    with pytest.raises(NotImplementedError):
        draft.accounts_document.url  # noqa: B018
    html = body(applicant_client.get(url("going-concern")))
    assert draft.accounts_document.name not in html


def test_a_png_named_pdf_is_refused(applicant_client, draft, settings):
    upload = SimpleUploadedFile("accounts.pdf", PNG, "application/pdf")

    response = applicant_client.post(
        url("going-concern"), {"accounts_document": upload}
    )

    assert_field_errors(response, "accounts_document")
    assert "The selected file must be a PDF" in body(response)
    draft.refresh_from_db()
    assert not draft.accounts_document
    assert not Path(settings.MEDIA_ROOT).exists() or not any(
        Path(settings.MEDIA_ROOT).rglob("*.pdf")
    )


def test_a_file_over_10_mb_is_refused(applicant_client, draft):
    big = PDF + b"0" * (10 * 1024 * 1024)
    upload = SimpleUploadedFile("accounts.pdf", big, "application/pdf")

    response = applicant_client.post(
        url("going-concern"), {"accounts_document": upload}
    )

    assert_field_errors(response, "accounts_document")
    assert "smaller than 10MB" in body(response)
    draft.refresh_from_db()
    assert not draft.accounts_document


def test_an_empty_file_is_refused(applicant_client, draft):
    upload = SimpleUploadedFile("accounts.pdf", b"", "application/pdf")

    response = applicant_client.post(
        url("going-concern"), {"accounts_document": upload}
    )

    assert_field_errors(response, "accounts_document")


def test_a_new_upload_replaces_the_old_file(applicant_client, draft, settings):
    for _ in range(2):
        applicant_client.post(
            url("going-concern"),
            {"accounts_document": SimpleUploadedFile("a.pdf", PDF)},
        )

    files = list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))
    assert len(files) == 1


# --- Purpose ------------------------------------------------------------------


def test_the_purpose_is_saved(applicant_client, applicant):
    application = application_start(applicant=applicant)

    response = applicant_client.post(
        url("purpose"), {"purpose": "own_students", "purpose_detail": PURPOSE}
    )

    assert response.url == url("task-list")
    application.refresh_from_db()
    assert application.purpose == "own_students"
    assert application.purpose_detail == PURPOSE


def test_another_purpose_explains_the_follow_up_discussion(applicant_client, draft):
    html = body(applicant_client.get(url("purpose")))

    assert "Another purpose" in html
    assert "follow-up discussion" in html
    assert 'data-module="govuk-character-count"' in html


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["purpose", "purpose_detail"]),
        ({"purpose": "resale", "purpose_detail": PURPOSE}, ["purpose"]),
        ({"purpose": "other", "purpose_detail": "Too short"}, ["purpose_detail"]),
        ({"purpose": "other", "purpose_detail": " " * 200}, ["purpose_detail"]),
        ({"purpose": "other", "purpose_detail": "x" * 5001}, ["purpose_detail"]),
        ({"purpose": "other", "purpose_detail": PURPOSE + "\x00"}, ["purpose_detail"]),
    ],
)
def test_a_bad_purpose_shows_errors_and_changes_nothing(
    applicant_client, draft, data, fields
):
    before = snapshot(draft)

    response = applicant_client.post(url("purpose"), data)

    assert_field_errors(response, *fields)
    assert snapshot(draft) == before


# --- Signing director ---------------------------------------------------------


def test_the_director_is_chosen_from_companies_house(applicant_client, draft):
    html = body(applicant_client.get(url("signing-director")))
    assert "OKAFOR, Grace Adaeze" in html
    assert "SMITH, Jane Alice" in html

    response = applicant_client.post(
        url("signing-director"),
        {
            "director": "/company/09876543/appointments/grace-okafor",
            "email": "Grace.Okafor@northfield-college.example.com",
        },
    )

    assert response.url == url("task-list")
    draft.refresh_from_db()
    assert draft.signing_director_name == "OKAFOR, Grace Adaeze"
    assert draft.signing_director_appointment == (
        "/company/09876543/appointments/grace-okafor"
    )
    assert draft.signing_director_email == "grace.okafor@northfield-college.example.com"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["director", "email"]),
        (
            {
                "director": "/company/09876543/appointments/someone-else",
                "email": "a@b.c",
            },
            ["director"],
        ),
        (
            {
                "director": "/company/09876543/appointments/jane-smith",
                "email": "info@northfield-college.example.com",
            },
            ["email"],
        ),
    ],
)
def test_a_bad_director_choice_shows_errors_and_changes_nothing(
    applicant_client, draft, data, fields
):
    before = snapshot(draft)

    response = applicant_client.post(url("signing-director"), data)

    assert_field_errors(response, *fields)
    assert snapshot(draft) == before


def test_no_directors_can_be_chosen_while_companies_house_is_down(
    applicant_client, draft, monkeypatch
):
    def down(**kwargs):
        raise CompaniesHouseUnavailable("down")

    monkeypatch.setattr("registration.views.apply_company.company_fetch", down)
    before = snapshot(draft)

    response = applicant_client.post(
        url("signing-director"),
        {"director": draft.signing_director_appointment, "email": "x@y.example.com"},
    )

    assert "Try again later" in body(response)
    assert snapshot(draft) == before


# --- Check answers and submit -------------------------------------------------


def test_check_answers_lists_every_answer_with_change_links(applicant_client, draft):
    html = body(applicant_client.get(url("check-answers")))

    for answer in [
        draft.legal_name,
        draft.ukprn,
        "Pearson (PEA-1234)",
        "1500",
        "Enrol our own students",
        "SMITH, Jane Alice",
    ]:
        assert answer in html
    for section in ["organisation-details", "accreditation", "purpose"]:
        assert url(section) in html
    assert "sub-license" in html


def test_submitting_sends_the_director_a_signing_link(applicant_client, draft):
    AgreementVersionFactory.create()
    applicant_client.get(url("going-concern"))

    response = applicant_client.post(url("check-answers"), {"confirmed": "on"})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("submitted", draft.reference)
    draft.refresh_from_db()
    assert draft.status == RegistrationApplication.Status.SUBMITTED
    assert draft.declaration_accepted_at is not None
    note = Notification.objects.get(reference="agreement.signing_link")
    assert note.to == draft.signing_director_email
    html = body(applicant_client.get(response.url))
    assert "govuk-panel--confirmation" in html
    assert draft.reference in html


def test_submitting_without_a_published_agreement_says_so(applicant_client, draft):
    applicant_client.get(url("going-concern"))

    response = applicant_client.post(
        url("check-answers"), {"confirmed": "on"}, follow=True
    )

    draft.refresh_from_db()
    assert draft.status == RegistrationApplication.Status.SUBMITTED
    assert "No agreement version has been published yet" in body(response)
    assert not SigningRequest.objects.exists()


def test_submitting_needs_the_declaration(applicant_client, draft):
    applicant_client.get(url("going-concern"))

    response = applicant_client.post(url("check-answers"), {})

    assert_field_errors(response, "confirmed")
    draft.refresh_from_db()
    assert draft.status == RegistrationApplication.Status.DRAFT
    assert draft.declaration_accepted_at is None


def test_an_incomplete_application_is_not_submitted(applicant_client, applicant):
    application_start(applicant=applicant)

    response = applicant_client.post(url("check-answers"), {"confirmed": "on"})

    assert_field_errors(response, "confirmed")
    assert "Complete the section: Organisation details" in body(response)
    application = RegistrationApplication.objects.get()
    assert application.status == RegistrationApplication.Status.DRAFT
    assert application.declaration_accepted_at is None


# --- The application's page ---------------------------------------------------


def test_the_status_page_says_what_the_caseworker_asked_for(
    applicant_client, applicant, caseworker
):
    AgreementVersionFactory.create()
    application = RegistrationApplicationFactory.create(
        applicant=applicant, submitted=True
    )
    application_request_information(
        application=application,
        acting_user=caseworker,
        request_text="Please upload your 2025 accounts.",
    )

    html = body(applicant_client.get(application.get_absolute_url()))

    assert "More information needed" in html
    assert "Please upload your 2025 accounts." in html
    assert url("check-answers") in html
    assert "Not signed yet" in html


def test_a_sent_back_application_is_submitted_again(
    applicant_client, applicant, caseworker
):
    application = RegistrationApplicationFactory.create(
        applicant=applicant, submitted=True
    )
    application_request_information(
        application=application, acting_user=caseworker, request_text="Accounts"
    )
    applicant_client.get(url("going-concern"))

    response = applicant_client.post(url("check-answers"), {"confirmed": "on"})

    assert response.url == url("submitted", application.reference)
    application.refresh_from_db()
    assert application.status == RegistrationApplication.Status.SUBMITTED


def test_the_status_page_shows_the_decision_and_reason(
    applicant_client, applicant, caseworker
):
    application = RegistrationApplicationFactory.create(
        applicant=applicant, submitted=True
    )
    application_reject(
        application=application,
        acting_user=caseworker,
        reason="The company is not a training provider.",
    )

    html = body(applicant_client.get(application.get_absolute_url()))

    assert "Rejected" in html
    assert "The company is not a training provider." in html


def test_the_director_can_be_sent_a_new_link(applicant_client, applicant):
    AgreementVersionFactory.create()
    application = RegistrationApplicationFactory.create(
        applicant=applicant, submitted=True
    )

    response = applicant_client.post(
        url("resend-signing-link", application.reference), follow=True
    )

    assert "a new link to sign the agreement" in body(response)
    assert SigningRequest.objects.filter(application=application).count() == 1


def test_another_applicants_application_is_not_found(applicant_client):
    theirs = RegistrationApplicationFactory.create(submitted=True)

    for name in ["application", "submitted"]:
        response = applicant_client.get(url(name, theirs.reference))
        assert response.status_code == HTTPStatus.NOT_FOUND
    response = applicant_client.post(url("resend-signing-link", theirs.reference))
    assert response.status_code == HTTPStatus.NOT_FOUND


# --- The happy path, page by page ---------------------------------------------


def test_an_applicant_goes_from_account_to_submitted_application(client):
    AgreementVersionFactory.create()
    steps = [
        (
            "create-account",
            {
                "full_name": "Jane Doe",
                "email": "jane.doe@northfield-college.example.com",
                "password": "a-long-new-password-2026",
            },
        ),
        (
            "organisation-details",
            {
                "legal_name": "Northfield College Limited",
                "ukprn": "10012345",
                "companies_house_number": "09876543",
                "ico_number": "Z1234567",
                "registered_address": "1 College Road\nLeeds",
                "website": WEBSITE,
                "super_user_confirmed": "on",
            },
        ),
        (
            "accreditation",
            {
                "action": "add",
                "awarding_organisation": "Pearson",
                "reference": "PEA-1",
            },
        ),
        ("accreditation", {"action": "save", "estimated_learners_per_year": "900"}),
        ("going-concern", {"accounts_document": SimpleUploadedFile("a.pdf", PDF)}),
        ("purpose", {"purpose": "own_students", "purpose_detail": PURPOSE}),
        (
            "learners-served",
            {
                "learner_ages": ["14_16", "17_19"],
                "learner_reach": "local",
                "learner_reach_km": "25",
            },
        ),
        (
            "signing-director",
            {
                "director": "/company/09876543/appointments/jane-smith",
                "email": "jane.smith@northfield-college.example.com",
            },
        ),
    ]
    for name, data in steps:
        page = client.get(url(name))
        assert page.status_code == HTTPStatus.OK, name
        assert body(page).count("<h1") == 1, name
        response = client.post(url(name), data)
        assert response.status_code == HTTPStatus.FOUND, (name, body(response)[:3000])

    assert body(client.get(url("task-list"))).count(">Completed<") == 6
    response = client.post(url("check-answers"), {"confirmed": "on"}, follow=True)

    application = RegistrationApplication.objects.get()
    assert application.status == RegistrationApplication.Status.SUBMITTED
    assert "Application submitted" in body(response)
    status = body(client.get(application.get_absolute_url()))
    assert "Submitted" in status
    assert "jane.smith@northfield-college.example.com" in status


# --- issue 17: the rules said where the address is asked, in words for people ----


def _summary(response):
    html = unescape(body(response))
    return html.split('govuk-error-summary__list">', 1)[1].split("</ul>", 1)[0]


def test_a_personal_email_is_refused_on_the_first_page_that_asks_for_it(client):
    response = client.post(
        url("create-account"),
        {
            "full_name": "Jane Doe",
            "email": "jane.doe@gmail.com",
            "password": "a-long-new-password-2026",
        },
    )

    assert_field_errors(response, "email")
    assert "Enter your work email address, not a personal email service" in (
        _summary(response)
    )
    assert not User.objects.filter(email="jane.doe@gmail.com").exists()


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short1a", "Password must be 12 characters or more"),
        ("123456789012", "Password must include letters, not only numbers"),
        ("password1234", "Password is too easy to guess"),
    ],
)
def test_a_weak_password_is_one_line_of_the_summary_in_govuk_words(
    client, password, words
):
    response = client.post(
        url("create-account"),
        {
            "full_name": "Jane Doe",
            "email": "jane.doe@northfield-college.example.com",
            "password": password,
        },
    )

    summary = _summary(response)
    assert summary.count("<li>") == 1
    assert words in summary
    assert "This password" not in body(response)  # Django's own words


def _director_post(client, draft, email):
    return client.post(
        url("signing-director"),
        {"director": draft.signing_director_appointment, "email": email},
    )


def test_the_directors_address_refuses_personal_email_and_names_the_director(
    applicant_client, draft
):
    before = snapshot(draft)

    response = _director_post(applicant_client, draft, "jane.smith@gmail.com")

    assert_field_errors(response, "email")
    summary = _summary(response)
    assert "Enter the director's work email address" in summary
    assert "Enter your" not in summary
    assert snapshot(draft) == before


def test_the_directors_shared_mailbox_error_is_about_the_director(
    applicant_client, draft
):
    response = _director_post(
        applicant_client, draft, "info@northfield-college.example.com"
    )

    summary = _summary(response)
    assert "director's own email address" in summary
    assert "super user" not in summary


def test_the_directors_off_domain_error_is_about_the_director(applicant_client, draft):
    response = _director_post(applicant_client, draft, "jane@elsewhere.example.org")

    assert "Enter the director's email address on your organisation" in (
        _summary(response)
    )


def test_change_links_spell_acronyms_as_written_and_say_what_changes(
    applicant_client, draft
):
    html = body(applicant_client.get(url("check-answers")))

    hidden = re.findall(
        r'Change<span class="govuk-visually-hidden"> ([^<]+)</span>', html
    )
    assert "UKPRN" in hidden
    assert "ICO registration number" in hidden
    assert "legal name" in hidden
    assert "the director who will sign the agreement" in hidden
    assert not [text for text in hidden if text in {"ukprn", "ico registration number"}]
