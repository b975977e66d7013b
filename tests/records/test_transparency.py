"""The public access register lists exactly the organisations the gate lets
through, as a page and a formula-safe CSV; the page for learners says what is
logged and how to ask for a report; both are linked from the footer and the
register of approved data shares."""

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from records.permissions import lookup_membership, lookup_refusal
from registration.models import Organisation
from tests.factories import (
    AgreementVersionFactory,
    MembershipFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db
Status = Organisation.Status


@pytest.fixture
def versions():
    old = AgreementVersionFactory.create()
    current = AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() + timedelta(days=10)
    )
    return old, current


def _states(versions):
    """An organisation in each state the gate distinguishes, by name."""
    old, current = versions
    states = {
        "in good standing": {"last_signed_version": current},
        "old version, before the re-sign deadline": {"last_signed_version": old},
        "suspended": {"last_signed_version": current, "status": Status.SUSPENDED},
        "revoked": {"last_signed_version": current, "status": Status.REVOKED},
        "deregistered": {"last_signed_version": current, "status": Status.DEREGISTERED},
        "agreement never signed": {"last_signed_version": None},
        "purpose not approved": {
            "last_signed_version": current,
            "purpose_approved_at": None,
        },
        "another purpose": {"last_signed_version": current, "purpose": "other"},
    }
    return {
        name: OrganisationFactory.create(legal_name=f"{name.title()} Ltd", **fields)
        for name, fields in states.items()
    }


def _register_rows(client):
    response = client.get(reverse("records:access-register-csv"))
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_register_is_exactly_the_organisations_the_gate_lets_through(
    client, versions
):
    organisations = _states(versions)
    through = set()
    for organisation in organisations.values():
        member = MembershipFactory.create(organisation=organisation).user
        if lookup_refusal(member, lookup_membership(member)) is None:
            through.add(organisation.ukprn)

    listed = {row[1] for row in _register_rows(client)[1:]}
    page = client.get(reverse("records:access-register")).content.decode()

    assert listed == through
    assert through == {
        organisations[name].ukprn
        for name in (
            "in good standing",
            "old version, before the re-sign deadline",
            "another purpose",
        )
    }
    for name in ("suspended", "revoked", "deregistered", "purpose not approved"):
        assert organisations[name].legal_name not in page


def test_past_the_re_sign_deadline_an_old_signature_drops_off(client, versions):
    old, current = versions
    current.resign_deadline = timezone.localdate() - timedelta(days=1)
    current.save()
    OrganisationFactory.create(last_signed_version=old)
    kept = OrganisationFactory.create(last_signed_version=current)

    assert [row[1] for row in _register_rows(client)[1:]] == [kept.ukprn]


def test_the_csv_names_the_columns_and_cannot_run_formulas(client, versions):
    _, current = versions
    OrganisationFactory.create(
        legal_name='=HYPERLINK("https://evil.example.com")', last_signed_version=current
    )

    header, row = _register_rows(client)

    assert header == ["Organisation", "UKPRN", "Kind of purpose", "Registered since"]
    assert row[0] == '\'=HYPERLINK("https://evil.example.com")'
    assert row[2] == "Enrolling its own learners"
    assert row[3] == timezone.localdate().isoformat()


def test_the_page_needs_no_sign_in_and_is_paginated(client, versions):
    _, current = versions
    OrganisationFactory.create_batch(51, last_signed_version=current)

    first = client.get(reverse("records:access-register"))
    second = client.get(reverse("records:access-register"), {"page": "2"})
    hostile = client.get(reverse("records:access-register"), {"page": "99999999999"})

    assert first.status_code == HTTPStatus.OK
    assert "51 organisations" in first.content.decode()
    assert "govuk-pagination" in first.content.decode()
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 1
    assert hostile.status_code == HTTPStatus.OK  # the last page


def test_with_no_organisation_the_page_says_so(client):
    body = client.get(reverse("records:access-register")).content.decode()

    assert "No organisation has access to learner records today." in body


def test_the_learners_page_says_what_is_logged_and_how_to_ask(client, settings):
    settings.SUPPORT_EMAIL = "lrs.access@education.gov.uk"

    body = client.get(reverse("records:your-record")).content.decode()

    assert "What we log" in body
    assert "one calendar month" in body
    assert "mailto:lrs.access@education.gov.uk" in body


@pytest.mark.parametrize(
    "url_name", ["approvals:published", "records:access-register", "lrs_portal:start"]
)
def test_both_pages_are_linked_from_the_footer_and_the_data_shares_register(
    client, url_name
):
    body = client.get(reverse(url_name)).content.decode()

    assert reverse("records:access-register") in body
    assert reverse("records:your-record") in body
