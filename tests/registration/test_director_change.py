"""A change of signing director after registration (issue 19), and what caseworkers
see of signatures: exceptions in admin, letters and codes on the timeline."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from lrs_portal import roles
from lrs_portal.models import Notification
from registration.admin.timeline import organisation_timeline
from registration.models import DirectorEmailException, Organisation, SigningRequest
from registration.services import agreement_sign, signing_request_send
from registration.services.agreements import SigningRefused
from registration.services.director_change import organisation_nominate_director
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    letter_code,
    member_of,
    officer_item,
    officers_snapshot,
)

pytestmark = pytest.mark.django_db
OLD = "/company/00000001/appointments/abc"
NEW = "/company/00000001/appointments/new"
URL = reverse("registration:change-signing-director")


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


@pytest.fixture
def organisation():
    version = AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(
        companies_house_number="00000001",
        website="https://eastgate.example.com",
        signing_director_email="jane.smith@eastgate.example.com",
        last_signed_version=version,
    )
    officers_snapshot(
        "00000001",
        officer_item("SMITH, Jane Alice", OLD),
        officer_item("PATEL, Ravi", NEW),
        officer_item(
            "JONES, Ann", "/company/00000001/appointments/sec", role="secretary"
        ),
    )
    return organisation


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def caseworker_on_duty(caseworker):
    return caseworker


def _sign(name="Ravi Patel"):
    body = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    token = body.body.split("/agreement/sign/")[1].split("/")[0]
    return agreement_sign(
        token=token,
        typed_name=name,
        code=letter_code(),
        confirmed=True,
        ip_address="192.0.2.1",
        user_agent="x",
    )


def test_the_page_offers_the_other_current_directors_only(client, super_user):
    client.force_login(super_user)

    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Change your signing director" in html
    assert NEW in html
    assert OLD not in html  # already the signing director
    assert "JONES" not in html  # a secretary cannot sign


def test_nominating_sends_the_new_director_a_link_and_a_letter(
    client, super_user, organisation, caseworker_on_duty
):
    client.force_login(super_user)

    response = client.post(
        URL, {"director": NEW, "email": "ravi.patel@eastgate.example.com"}
    )

    assert response.status_code == HTTPStatus.FOUND
    request = SigningRequest.objects.get()
    assert (request.director_name, request.director_appointment) == (
        "PATEL, Ravi",
        NEW,
    )
    assert request.email == "ravi.patel@eastgate.example.com"
    letter = Notification.objects.get(reference="agreement.signing_code")
    assert letter.postal_address[0] == "Ravi Patel"
    told = Notification.objects.get(reference="agreement.director_nominated")
    assert told.to == caseworker_on_duty.email
    assert "PATEL, Ravi" in told.body
    organisation.refresh_from_db()
    assert organisation.signing_director_appointment == OLD  # until they sign


def test_the_change_takes_effect_when_the_new_director_signs(
    super_user, organisation, caseworker_on_duty
):
    organisation_nominate_director(
        organisation=organisation,
        appointment=NEW,
        email="ravi.patel@eastgate.example.com",
        acting_user=super_user,
    )

    _sign()

    organisation.refresh_from_db()
    assert organisation.signing_director_name == "PATEL, Ravi"
    assert organisation.signing_director_appointment == NEW
    assert organisation.signing_director_email == "ravi.patel@eastgate.example.com"
    assert "now the signing director" in (
        organisation.history.latest().history_change_reason
    )
    assert Notification.objects.filter(
        reference="agreement.director_changed", to=caseworker_on_duty.email
    ).exists()


def test_nominating_cancels_the_old_directors_pending_link(
    super_user, organisation, caseworker
):
    old = signing_request_send(acting_user=caseworker, organisation=organisation)

    organisation_nominate_director(
        organisation=organisation,
        appointment=NEW,
        email="ravi.patel@eastgate.example.com",
        acting_user=super_user,
    )

    old.refresh_from_db()
    assert old.cancelled_at is not None


def test_a_later_link_goes_to_the_nominee_still_to_sign(
    super_user, organisation, caseworker
):
    organisation_nominate_director(
        organisation=organisation,
        appointment=NEW,
        email="ravi.patel@eastgate.example.com",
        acting_user=super_user,
    )

    again = signing_request_send(acting_user=caseworker, organisation=organisation)

    assert again.director_appointment == NEW


def test_a_person_not_a_current_director_cannot_be_nominated(super_user, organisation):
    with pytest.raises(SigningRefused, match="current director"):
        organisation_nominate_director(
            organisation=organisation,
            appointment="/company/00000001/appointments/sec",
            email="ann.jones@eastgate.example.com",
            acting_user=super_user,
        )
    assert not SigningRequest.objects.exists()


def test_the_super_user_cannot_nominate_their_own_address(
    client, super_user, organisation
):
    client.force_login(super_user)

    response = client.post(URL, {"director": NEW, "email": super_user.email})

    assert response.status_code == HTTPStatus.OK
    assert "It cannot be yours" in response.content.decode()
    assert not SigningRequest.objects.exists()


def test_an_ordinary_user_is_told_only_the_super_user_can(client, organisation):
    client.force_login(member_of(organisation))

    # Their own organisation's page: they learn who can use it (issue 17).
    assert client.get(URL).status_code == HTTPStatus.FORBIDDEN
    assert client.post(URL, {"director": NEW}).status_code == HTTPStatus.FORBIDDEN


def test_another_organisations_super_user_cannot_nominate_here(organisation):
    other = OrganisationFactory.create()
    stranger = member_of(other, super_user=True)

    with pytest.raises(PermissionError):
        organisation_nominate_director(
            organisation=organisation,
            appointment=NEW,
            email="ravi.patel@eastgate.example.com",
            acting_user=stranger,
        )


def test_a_revoked_organisation_has_no_page(client, super_user, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(
        status=Organisation.Status.REVOKED
    )
    client.force_login(super_user)

    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


def test_companies_house_down_says_so(client, super_user, settings, tmp_path):
    from registration.models import CompaniesHouseSnapshot

    CompaniesHouseSnapshot.objects.all().delete()
    # A folder that is not there, whatever the machine has at its root.
    settings.COMPANIES_HOUSE_FIXTURES = str(tmp_path / "no-fixtures")
    client.force_login(super_user)

    response = client.get(URL)

    assert "cannot check your company at Companies House" in response.content.decode()


# --- What caseworkers see --------------------------------------------------------


def test_the_caseworker_role_may_record_exceptions_and_see_codes(caseworker):
    assert caseworker.groups.filter(name=roles.CASEWORKER).exists()
    assert caseworker.has_perm("registration.add_directoremailexception")
    assert caseworker.has_perm("registration.view_signingcode")
    assert not caseworker.has_perm("registration.change_directoremailexception")


def test_an_exception_is_recorded_in_admin_with_who_and_why(
    admin_verified_client, organisation, superuser
):
    url = reverse("admin:registration_directoremailexception_add")

    response = admin_verified_client.post(
        url,
        {
            "organisation": organisation.pk,
            "email": "Ravi@Patel-Family.example.org",
            "spoke_to": "Ravi Patel, on the number at Companies House",
            "reason": "The company has no mailboxes on its domain",
        },
    )

    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    exception = DirectorEmailException.objects.get()
    assert exception.email == "ravi@patel-family.example.org"
    assert exception.recorded_by == superuser
    assert exception.history.get().history_user == superuser
    timeline = [e.what for e in organisation_timeline(organisation)]
    assert any("may sign from ravi@patel-family.example.org" in w for w in timeline)


def test_an_exception_names_the_organisation_or_the_application(
    admin_verified_client,
):
    url = reverse("admin:registration_directoremailexception_add")

    response = admin_verified_client.post(
        url, {"email": "a@b.example", "spoke_to": "x", "reason": "y"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "Choose either the organisation or the application" in (
        response.content.decode()
    )
    assert not DirectorEmailException.objects.exists()


def test_a_recorded_exception_cannot_be_changed(admin_verified_client, organisation):
    exception = DirectorEmailException.objects.create(
        organisation=organisation,
        email="a@b.example",
        spoke_to="x",
        reason="y",
        recorded_by=member_of(organisation),
    )
    url = reverse(
        "admin:registration_directoremailexception_change", args=[exception.pk]
    )

    admin_verified_client.post(
        url, {"organisation": organisation.pk, "email": "c@d.example"}
    )

    exception.refresh_from_db()
    assert exception.email == "a@b.example"


def test_the_timeline_shows_the_letter_a_wrong_code_its_use_and_the_signature(
    super_user, organisation
):
    organisation_nominate_director(
        organisation=organisation,
        appointment=NEW,
        email="ravi.patel@eastgate.example.com",
        acting_user=super_user,
    )
    body = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    token = body.body.split("/agreement/sign/")[1].split("/")[0]
    with pytest.raises(SigningRefused):
        agreement_sign(
            token=token,
            typed_name="Ravi Patel",
            code="AAAA-AAAA",
            confirmed=True,
            ip_address="192.0.2.1",
            user_agent="x",
        )
    _sign()

    timeline = [e.what for e in organisation_timeline(organisation)]

    assert any(
        "Letter with a signing code posted to PATEL, Ravi" in w for w in timeline
    )
    assert any(
        "Wrong signing code entered for PATEL, Ravi (1 of 5" in w for w in timeline
    )
    assert any("PATEL, Ravi used the signing code" in w for w in timeline)
    assert any("PATEL, Ravi signed version" in w for w in timeline)


def test_the_organisation_page_links_to_the_change(client, super_user):
    client.force_login(super_user)

    html = client.get(reverse("registration:organisation-details-change")).content

    assert URL.encode() in html
