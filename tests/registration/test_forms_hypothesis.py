"""Property: whatever anyone types (random, hostile, enormous, NUL bytes, markup,
SQL, any script), every form answers with field-level errors or is valid, and every
page answers with a page, never a server error."""

import tempfile
from datetime import date
from http import HTTPStatus

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from lrs_portal.models import Notification, User
from registration.companies_house import Director
from registration.forms import (
    AcceptInvitationForm,
    AccountsUploadForm,
    AccreditationForm,
    CreateAccountForm,
    DeclarationForm,
    InviteUserForm,
    OrganisationDetailsForm,
    PurposeForm,
    SignAgreementForm,
    SigningDirectorForm,
)
from registration.models import RegistrationApplication
from registration.services import (
    application_start,
    invitation_send,
    signing_request_send,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    member_of,
)

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\r\n",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "'; DROP TABLE lrs_portal_user; --",
    "' OR '1'='1",
    "../../etc/passwd",
    "%PDF-1.4",
    "\u202eevil\u202c",
    "Zoë Ødegård-Łukasiewicz",
    "١٢٣٤٥٦٧٨",
    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # fullwidth digits
    "\U0001d7d9\U0001d7da\U0001d7db",  # double-struck digits
    "10012345",
    "09876543",
    "SC612345",
    "Z1234567",
    "1,000,000",
    "-1",
    "1e9",
    "NaN",
    "ann@northfield.example.com",
    "info@northfield.example.com",
    "a@b",
    "@",
    "https://",
    "javascript:alert(1)",
    "http://[::1",
    "own_students",
    "other",
    "on",
]
LONG = st.builds(
    lambda piece, times: piece * times,
    st.text(min_size=1, max_size=8),
    st.integers(min_value=50, max_value=3000),
)
TEXT = st.one_of(st.text(), st.sampled_from(NASTY), LONG)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NORTHFIELD = "https://northfield.example.com"
DIRECTORS = [
    Director(
        "SMITH, Jane Alice",
        "/company/09876543/appointments/j",
        date(2019, 9, 1),
        "director",
    ),
    Director("OKAFOR, Grace", "/company/09876543/appointments/g", None, "director"),
]


def file_name(typed):
    """A typed name the browser could send (no folders: Django drops those)."""
    return "x" + typed.replace("/", "").replace("\\", "")[:200]


def data_for(fields):
    return st.fixed_dictionaries(dict.fromkeys(fields, TEXT))


def assert_field_errors_only(form):
    """Valid, or every error belongs to a field and says something."""
    if form.is_valid():
        return
    assert form.errors
    assert "__all__" not in form.errors, form.errors
    assert set(form.errors) <= set(form.fields)
    for messages in form.errors.values():
        assert all(isinstance(m, str) and m.strip() for m in messages)


def assert_a_page(response):
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}, (
        response.status_code
    )
    if response.status_code == HTTPStatus.OK:
        html = response.content.decode()
        assert html.startswith("<!DOCTYPE html>")
        assert "<script>alert(1)</script>" not in html
        assert "onerror=alert(1)>" not in html


@override_settings(COMPANIES_HOUSE_API_KEY="", MEDIA_ROOT=tempfile.mkdtemp())
class FormProperties(TestCase):
    @SETTINGS
    @given(data=data_for(["full_name", "email", "password"]))
    def test_create_account(self, data):
        assert_field_errors_only(CreateAccountForm(data))

    @SETTINGS
    @given(
        data=data_for(
            [
                "legal_name",
                "trading_names",
                "ukprn",
                "companies_house_number",
                "ico_number",
                "registered_address",
                "website",
                "super_user_confirmed",
            ]
        ),
        email=TEXT,
    )
    def test_organisation_details(self, data, email):
        applicant = User(email=email, full_name="Jane Doe")
        application = RegistrationApplication(applicant=applicant, reference="LRS-X")
        form = OrganisationDetailsForm(data, instance=application, applicant=applicant)
        assert_field_errors_only(form)

    @SETTINGS
    @given(
        data=data_for(
            ["awarding_organisation", "reference", "estimated_learners_per_year"]
        ),
        action=TEXT,
        empty=st.booleans(),
    )
    def test_accreditation(self, data, action, empty):
        if empty:
            application = application_start(applicant=UserFactory.create())
        else:
            application = RegistrationApplicationFactory.create()
        form = AccreditationForm(data, application=application, action=action)
        assert_field_errors_only(form)

    @SETTINGS
    @given(content=st.binary(max_size=2048), name=TEXT)
    def test_accounts_upload(self, content, name):
        upload = SimpleUploadedFile(file_name(name), content)
        form = AccountsUploadForm({}, MultiValueDict({"accounts_document": [upload]}))
        assert_field_errors_only(form)
        if form.is_valid() and content:
            assert content.startswith(b"%PDF-")

    @SETTINGS
    @given(data=data_for(["purpose", "purpose_detail"]))
    def test_purpose(self, data):
        form = PurposeForm(data, instance=RegistrationApplication())
        assert_field_errors_only(form)

    @SETTINGS
    @given(
        data=data_for(["director", "email"]),
        chosen=st.sampled_from([d.appointment for d in DIRECTORS]),
    )
    def test_signing_director(self, data, chosen):
        application = RegistrationApplicationFactory.build(
            applicant=UserFactory.build(
                email="applicant@northfield-college.example.com"
            )
        )
        for director in (data["director"], chosen):
            form = SigningDirectorForm(
                {**data, "director": director},
                directors=DIRECTORS,
                subject=application,
            )
            assert_field_errors_only(form)

    @SETTINGS
    @given(data=data_for(["confirmed"]))
    def test_declaration(self, data):
        assert_field_errors_only(DeclarationForm(data))

    @SETTINGS
    @given(data=data_for(["typed_name", "code", "confirmed"]))
    def test_sign_agreement(self, data):
        assert_field_errors_only(SignAgreementForm(data))

    @SETTINGS
    @given(data=data_for(["full_name", "email"]))
    def test_invite_user(self, data):
        assert_field_errors_only(InviteUserForm(data))

    @SETTINGS
    @given(data=data_for(["password"]), email=TEXT, name=TEXT)
    def test_accept_invitation(self, data, email, name):
        form = AcceptInvitationForm(data, email=email, full_name=name)
        assert_field_errors_only(form)


@override_settings(COMPANIES_HOUSE_API_KEY="", MEDIA_ROOT=tempfile.mkdtemp())
class PageProperties(TestCase):
    """The same input through the pages: rendering included, never a 500."""

    def applicant_client(self):
        applicant = UserFactory.create(email="jane@northfield-college.example.com")
        RegistrationApplicationFactory.create(applicant=applicant)
        client = Client(raise_request_exception=True)
        client.force_login(applicant)
        return client

    @SETTINGS
    @given(data=data_for(["full_name", "email", "password"]))
    def test_create_account_page(self, data):
        response = Client(raise_request_exception=True).post(
            reverse("registration:create-account"), data
        )
        assert_a_page(response)

    @SETTINGS
    @given(
        name=st.sampled_from(
            [
                "organisation-details",
                "accreditation",
                "purpose",
                "signing-director",
                "check-answers",
            ]
        ),
        data=data_for(
            [
                "legal_name",
                "trading_names",
                "ukprn",
                "companies_house_number",
                "ico_number",
                "registered_address",
                "website",
                "super_user_confirmed",
                "action",
                "awarding_organisation",
                "reference",
                "estimated_learners_per_year",
                "purpose",
                "purpose_detail",
                "director",
                "email",
                "confirmed",
            ]
        ),
    )
    def test_application_pages(self, name, data):
        client = self.applicant_client()
        response = client.post(reverse(f"registration:{name}"), data)
        assert_a_page(response)
        if response.status_code == HTTPStatus.OK:
            assert "govuk-error-summary" in response.content.decode()

    @SETTINGS
    @given(content=st.binary(max_size=1024), name=TEXT)
    def test_upload_page(self, content, name):
        client = self.applicant_client()
        upload = SimpleUploadedFile(file_name(name), content)
        response = client.post(
            reverse("registration:going-concern"), {"accounts_document": upload}
        )
        assert_a_page(response)

    @SETTINGS
    @given(data=data_for(["typed_name", "code", "confirmed"]), token=TEXT)
    def test_signing_page(self, data, token):
        AgreementVersionFactory.create()
        application = RegistrationApplicationFactory.create(submitted=True)
        signing_request_send(acting_user=application.applicant, application=application)
        body = Notification.objects.get(reference="agreement.signing_link").body
        real = body.split("/agreement/sign/")[1].split("/")[0]
        client = Client(raise_request_exception=True)
        response = client.post(reverse("registration:sign", args=[real]), data)
        assert response.status_code == HTTPStatus.OK
        if token.strip("/") and "/" not in token:
            response = client.get(reverse("registration:sign", args=[token]))
            # 400: a control character in the address (lrs_portal.hostile_input)
            assert response.status_code in {
                HTTPStatus.OK,
                HTTPStatus.GONE,
                HTTPStatus.BAD_REQUEST,
            }

    @SETTINGS
    @given(data=data_for(["full_name", "email", "password", "next"]))
    def test_member_pages(self, data):
        organisation = OrganisationFactory.create(website=NORTHFIELD)
        super_user = member_of(organisation, super_user=True)
        invitation_send(
            organisation=organisation,
            acting_user=super_user,
            email="ann@northfield.example.com",
            full_name="Ann Lee",
        )
        body = Notification.objects.get(reference="members.invitation").body
        token = body.split("/invitation/")[1].split("/")[0]
        client = Client(raise_request_exception=True)
        client.force_login(super_user)
        assert_a_page(client.post(reverse("registration:invite-user"), data))
        assert_a_page(client.post(reverse("registration:user-terms"), data))
        invited = Client(raise_request_exception=True)
        assert_a_page(
            invited.post(reverse("registration:accept-invitation", args=[token]), data)
        )
