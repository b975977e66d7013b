"""Property: whatever a requester types (random, hostile, enormous, NUL bytes,
markup, SQL), every form answers with field-level errors or is valid, and every
page answers with a page, never a server error, and never runs the markup."""

from http import HTTPStatus

from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from approvals import services
from approvals.forms import (
    AccessForm,
    DataForm,
    DatesForm,
    LegalForm,
    ProjectForm,
)
from approvals.request_forms import (
    CertificateForm,
    DatasetForm,
    ResearcherForm,
    SubmitForm,
)
from tests.approvals.factories import (
    DataShareRequestFactory,
    ResearchOrganisationFactory,
)
from tests.factories import UserFactory

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ settings.SECRET_KEY }}",
    "'; DROP TABLE approvals_datasharerequest; --",
    '=HYPERLINK("http://evil")',
    "\u202eevil\u202c",
    "١٢٣",
    "\uff12\uff10\uff11\uff19/\uff12\uff10",
    "2019/20",
    "2020/21",
    "1999/00",
    "29",
    "2",
    "2028",
    "0",
    "-1",
    "1e9",
    "99999999999999999999",
    "yes",
    "no",
    "on",
    "direct_supply",
    "safe_room",
    "full",
    "none",
    "1",
    "4",
    "a@b",
    "sam@uni.example.ac.uk",
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
DATE = ("_day", "_month", "_year")


def data_for(fields, dates=()):
    keys = [*fields, *(f"{d}{part}" for d in dates for part in DATE)]
    return st.fixed_dictionaries(dict.fromkeys(keys, TEXT))


def assert_field_errors_only(form):
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


class FormProperties(TestCase):
    @SETTINGS
    @given(data=data_for(["project_title", "summary", "research_interest"]))
    def test_project(self, data):
        assert_field_errors_only(ProjectForm(data))

    @SETTINGS
    @given(
        data=data_for(
            [
                "legal_gateway",
                "lawful_basis",
                "special_category",
                "special_category_condition",
            ]
        )
    )
    def test_legal(self, data):
        assert_field_errors_only(LegalForm(data))

    @SETTINGS
    @given(data=data_for(["records_expected", "linkage", "linkage_detail"]))
    def test_data(self, data):
        assert_field_errors_only(DataForm(data))

    @SETTINGS
    @given(data=data_for(["access_route", "direct_supply_reason"]))
    def test_access(self, data):
        assert_field_errors_only(AccessForm(data))

    @SETTINGS
    @given(data=data_for(["retention_plan"], dates=["start_date", "end_date"]))
    def test_dates(self, data):
        form = DatesForm(data)
        assert_field_errors_only(form)
        if form.is_valid():
            assert form.cleaned_data["end_date"] > form.cleaned_data["start_date"]

    @SETTINGS
    @given(data=data_for(["academic_year", "tier"]))
    def test_dataset(self, data):
        form = DatasetForm(data)
        assert_field_errors_only(form)
        if form.is_valid():
            start, end = form.cleaned_data["academic_year"].split("/")
            assert (int(start) + 1) % 100 == int(end)

    @SETTINGS
    @given(
        data=data_for(
            ["full_name", "email", "accreditation", "accreditation_number"],
            dates=["accreditation_expires_on"],
        )
    )
    def test_researcher(self, data):
        assert_field_errors_only(ResearcherForm(data))

    @SETTINGS
    @given(data=data_for(["response", "confirmed"]), returned=st.booleans())
    def test_submit(self, data, returned):
        assert_field_errors_only(SubmitForm(data, returned=returned))

    @SETTINGS
    @given(
        data=data_for(
            ["destroyed_by", "what_was_destroyed", "method"], dates=["destroyed_on"]
        )
    )
    def test_certificate(self, data):
        assert_field_errors_only(CertificateForm(data))


class PageProperties(TestCase):
    def setUp(self):
        organisation = ResearchOrganisationFactory.create()
        self.requester = UserFactory.create()
        services.requester_add(
            user=self.requester, organisation=organisation, acting_user=self.requester
        )
        self.share = DataShareRequestFactory.create(
            organisation=organisation, requester=self.requester
        )
        self.client = Client()
        self.client.force_login(self.requester)

    def _url(self, name, *args):
        return reverse(f"approvals:{name}", args=[self.share.reference, *args])

    def _post_then_pages(self, url, data):
        assert_a_page(self.client.post(url, data))
        # Whatever was saved shows safely on every page that shows it.
        for name in ("request", "tasks", "check-answers"):
            assert_a_page(self.client.get(self._url(name)))

    @SETTINGS
    @given(
        key=st.sampled_from(["project", "legal", "data", "access", "dates"]),
        data=data_for(
            [
                "project_title",
                "summary",
                "research_interest",
                "legal_gateway",
                "lawful_basis",
                "special_category",
                "special_category_condition",
                "records_expected",
                "linkage",
                "linkage_detail",
                "access_route",
                "direct_supply_reason",
                "retention_plan",
            ],
            dates=["start_date", "end_date"],
        ),
    )
    def test_sections(self, key, data):
        self._post_then_pages(self._url("section", key), data)

    @SETTINGS
    @given(data=data_for(["academic_year", "tier"]))
    def test_datasets(self, data):
        self._post_then_pages(self._url("datasets"), data)

    @SETTINGS
    @given(
        data=data_for(
            ["full_name", "email", "accreditation", "accreditation_number"],
            dates=["accreditation_expires_on"],
        )
    )
    def test_researchers(self, data):
        self._post_then_pages(self._url("researchers"), data)

    @SETTINGS
    @given(data=data_for(["response", "confirmed"]))
    def test_check_answers(self, data):
        self._post_then_pages(self._url("check-answers"), data)

    @SETTINGS
    @given(reference=TEXT)
    def test_any_reference_is_a_page_or_not_found(self, reference):
        try:
            url = reverse("approvals:request", args=[reference])
        except Exception:  # not a path segment at all: nothing to ask for
            return
        response = self.client.get(url)
        # 400: a control character in the address (lrs_portal.hostile_input)
        assert response.status_code in {
            HTTPStatus.OK,
            HTTPStatus.NOT_FOUND,
            HTTPStatus.BAD_REQUEST,
        }
