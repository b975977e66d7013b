"""Whose signature it is (issue 19): Companies House asked again, the director's own
address, the letter's one-time code, and pending links cancelled."""

from datetime import timedelta
from http import HTTPStatus

import pytest
import responses
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import Notification
from lrs_portal.services import notification_deliver
from registration.models import (
    AgreementSignature,
    DirectorEmailException,
    Organisation,
    SigningCode,
    SigningRequest,
)
from registration.services import (
    agreement_sign,
    organisation_revoke,
    organisation_transition,
    signing_request_send,
)
from registration.services.agreements import SigningRefused
from registration.services.signing import (
    CodeLocked,
    DirectorNotCurrent,
    WrongCode,
    director_email_exception_record,
    signing_requests_cancel,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    letter_code,
    member_of,
    officer_item,
    officers_snapshot,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
JANE = "/company/09876543/appointments/jane-smith"
DIRECTOR_EMAIL = "jane.smith@northfield-college.example.com"


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def application(version):
    return RegistrationApplicationFactory.create(
        submitted=True,
        applicant=UserFactory.create(email="priya.shah@northfield-college.example.com"),
    )


def _token() -> str:
    body = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    return body.body.split("/agreement/sign/")[1].split("/")[0]


def _sign(token=None, *, name="Jane Smith", code=None):
    return agreement_sign(
        token=token or _token(),
        typed_name=name,
        code=letter_code() if code is None else code,
        confirmed=True,
        ip_address="192.0.2.7",
        user_agent="Firefox",
    )


def _resigned(company_number, appointment, name="SMITH, Jane Alice"):
    """Companies House now lists the director as resigned (a newer snapshot)."""
    return officers_snapshot(
        company_number,
        officer_item(name, appointment, resigned_on="2026-11-30"),
    )


# --- Finding: the applicant types their own address ------------------------------


def test_a_link_is_never_sent_to_the_applicants_own_address(application):
    application.signing_director_email = application.applicant.email
    application.save()

    with pytest.raises(SigningRefused, match="cannot be yours"):
        signing_request_send(acting_user=application.applicant, application=application)
    assert not SigningRequest.objects.exists()
    assert not Notification.objects.exists()


def test_the_signing_director_page_refuses_the_applicants_own_address(client):
    applicant = UserFactory.create(email="priya.shah@northfield-college.example.com")
    RegistrationApplicationFactory.create(applicant=applicant)
    client.force_login(applicant)

    response = client.post(
        reverse("registration:signing-director"),
        {"director": JANE, "email": applicant.email, "save": ""},
    )

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "It cannot be yours" in html
    assert 'id="id_email_error"' in html


def test_a_members_address_is_refused_for_an_organisations_director(caseworker):
    AgreementVersionFactory.create()
    organisation = OrganisationFactory.create()
    member = member_of(organisation)
    organisation.signing_director_email = member.email
    organisation.save()
    organisation_officers(organisation)

    with pytest.raises(SigningRefused, match="anyone who uses the LRS"):
        signing_request_send(acting_user=caseworker, organisation=organisation)


def test_an_address_off_the_organisations_domain_is_refused(application):
    application.signing_director_email = "jane.smith@gmail.com"
    application.save()

    with pytest.raises(SigningRefused, match="ask the Department for Education"):
        signing_request_send(acting_user=application.applicant, application=application)


def test_a_caseworkers_exception_lets_an_address_off_the_domain_be_used(
    application, caseworker
):
    application.signing_director_email = "jane@smith-family.example.org"
    application.save()
    exception = DirectorEmailException(
        application=application,
        email="Jane@Smith-Family.example.org",
        spoke_to="Jane Smith, on the number at Companies House",
        reason="The company's domain has no mailbox for directors",
    )
    director_email_exception_record(exception=exception, acting_user=caseworker)

    request = signing_request_send(acting_user=caseworker, application=application)

    assert request.email == "jane@smith-family.example.org"
    record = exception.history.get()
    assert record.history_user == caseworker
    assert "no mailbox for directors" in record.history_change_reason


def test_an_exception_needs_who_was_spoken_to(application, caseworker):
    from django.core.exceptions import ValidationError

    exception = DirectorEmailException(
        application=application, email="a@b.example", spoke_to=" ", reason="x"
    )
    with pytest.raises(ValidationError):
        director_email_exception_record(exception=exception, acting_user=caseworker)
    assert not DirectorEmailException.objects.exists()


def test_whoever_holds_the_link_cannot_sign_without_the_letters_code(application):
    signing_request_send(acting_user=application.applicant, application=application)

    with pytest.raises(WrongCode, match="does not match"):
        _sign(code="AAAA-AAAA")
    assert not AgreementSignature.objects.exists()


# --- The letter and its code -----------------------------------------------------


def test_the_code_goes_by_letter_to_the_directors_correspondence_address(
    application,
):
    request = signing_request_send(
        acting_user=application.applicant, application=application
    )

    letter = Notification.objects.get(reference="agreement.signing_code")
    assert letter.channel == Notification.Channel.LETTER
    # As Companies House holds Jane Smith's correspondence address (the fixture).
    assert letter.postal_address == [
        "Jane Alice Smith",
        "1 College Road",
        "Leeds",
        "LS2 9JT",
    ]
    assert letter.to == ""
    code = request.code
    assert code.postcode == "LS2 9JT"
    assert code.letter == letter
    # The link's email says nothing of the code.
    email = Notification.objects.get(reference="agreement.signing_link")
    assert letter_code() not in email.body
    assert "correspondence address at Companies House" in email.body


def test_only_a_hash_of_the_code_is_kept_and_the_letter_forgets_it_once_posted(
    application, settings, tmp_path
):
    settings.LETTERS_DIR = tmp_path
    request = signing_request_send(
        acting_user=application.applicant, application=application
    )
    code = letter_code()
    letter = Notification.objects.get(reference="agreement.signing_code")

    notification_deliver(notification_id=letter.pk)

    stored = SigningCode.objects.get(signing_request=request)
    assert code.replace("-", "") not in stored.code_hash
    assert check_password(code.replace("-", ""), stored.code_hash)
    letter.refresh_from_db()
    assert letter.status == Notification.Status.SENT
    assert code not in str(letter.personalisation)
    assert code not in letter.body


def test_the_code_may_be_typed_in_lower_case_without_its_hyphen(application):
    signing_request_send(acting_user=application.applicant, application=application)

    signature = _sign(code=letter_code().lower().replace("-", " "))

    assert signature.application == application


def test_five_wrong_codes_lock_it_even_for_the_right_code(application):
    signing_request_send(acting_user=application.applicant, application=application)
    right = letter_code()

    for _ in range(SigningCode.MAX_ATTEMPTS - 1):
        with pytest.raises(WrongCode):
            _sign(code="AAAA-AAAA")
    with pytest.raises(CodeLocked):
        _sign(code="AAAA-AAAA")
    with pytest.raises(CodeLocked):
        _sign(code=right)

    assert SigningCode.objects.get().attempts == SigningCode.MAX_ATTEMPTS
    assert not AgreementSignature.objects.exists()


def test_a_wrong_try_is_counted_though_the_signature_is_refused(application):
    signing_request_send(acting_user=application.applicant, application=application)

    with pytest.raises(WrongCode, match="4 tries left"):
        _sign(code="AAAA-AAAA")

    assert SigningCode.objects.get().attempts == 1


def test_an_expired_code_is_refused(application):
    signing_request_send(acting_user=application.applicant, application=application)
    code = SigningCode.objects.get()
    code.expires_at = timezone.now() - timedelta(seconds=1)
    code.save()

    with pytest.raises(CodeLocked):
        _sign()


# --- Finding: a resigned director ---------------------------------------------------


def test_a_resigned_director_is_sent_no_link(application):
    _resigned("09876543", JANE)

    with pytest.raises(DirectorNotCurrent):
        signing_request_send(acting_user=application.applicant, application=application)
    assert not SigningRequest.objects.exists()


def test_a_secretary_is_not_a_director_who_can_sign(application):
    officers_snapshot(
        "09876543", officer_item("SMITH, Jane Alice", JANE, role="secretary")
    )

    with pytest.raises(DirectorNotCurrent):
        signing_request_send(acting_user=application.applicant, application=application)


def test_a_director_who_resigns_after_the_link_cannot_sign_with_it(application):
    request = signing_request_send(
        acting_user=application.applicant, application=application
    )
    token, code = _token(), letter_code()
    _resigned("09876543", JANE)

    with pytest.raises(DirectorNotCurrent):
        _sign(token, code=code)

    assert not AgreementSignature.objects.exists()
    request.refresh_from_db()
    assert request.cancelled_at is not None
    assert "no longer lists" in request.history.latest().history_change_reason


def test_a_resigned_director_of_a_registered_organisation_does_not_sign_it(
    caseworker,
):
    old = AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(last_signed_version=old)
    organisation_officers(organisation)
    AgreementVersionFactory.create()
    signing_request_send(acting_user=caseworker, organisation=organisation)
    _resigned(organisation.companies_house_number, "/company/00000001/appointments/abc")

    with pytest.raises(DirectorNotCurrent):
        _sign()

    organisation.refresh_from_db()
    assert organisation.last_signed_version == old


def test_the_refusal_is_a_page_that_says_why(client, application):
    signing_request_send(acting_user=application.applicant, application=application)
    token, code = _token(), letter_code()
    _resigned("09876543", JANE)

    response = client.post(
        reverse("registration:sign", args=[token]),
        {"typed_name": "Jane Smith", "code": code, "confirmed": "on"},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "You cannot sign the agreement" in html
    assert "does not list this person as a current director" in html
    assert token not in html


def test_a_snapshot_a_day_old_is_read_again_from_companies_house(application, settings):
    request = signing_request_send(
        acting_user=application.applicant, application=application
    )
    token, code = _token(), letter_code()
    settings.COMPANIES_HOUSE_API_KEY = "test-key"
    from registration.models import CompaniesHouseSnapshot

    CompaniesHouseSnapshot.objects.update(
        fetched_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    base = settings.COMPANIES_HOUSE_API_URL
    with responses.RequestsMock() as http:
        http.get(f"{base}/company/09876543", json={"company_name": "NORTHFIELD"})
        http.get(
            f"{base}/company/09876543/officers",
            json={
                "items": [officer_item("SMITH, Jane Alice", JANE, resigned_on="2026")],
                "total_results": 1,
            },
        )
        with pytest.raises(DirectorNotCurrent):
            _sign(token, code=code)
    request.refresh_from_db()
    assert request.cancelled_at is not None


def test_a_snapshot_under_a_day_old_is_used_without_asking_again(application, settings):
    signing_request_send(acting_user=application.applicant, application=application)
    settings.COMPANIES_HOUSE_API_KEY = "test-key"

    with responses.RequestsMock():  # any request to Companies House would fail
        signature = _sign()

    assert signature.director_name_at_companies_house == "SMITH, Jane Alice"


def test_companies_house_down_at_signing_refuses_but_keeps_the_link(
    application, settings, tmp_path
):
    signing_request_send(acting_user=application.applicant, application=application)
    from registration.models import CompaniesHouseSnapshot

    CompaniesHouseSnapshot.objects.update(fetched_at=timezone.now() - timedelta(days=2))
    settings.COMPANIES_HOUSE_FIXTURES = str(tmp_path / "no-fixtures")

    with pytest.raises(SigningRefused, match="Try again later"):
        _sign()
    assert SigningRequest.objects.get().is_usable


# --- Finding: a link pending at revocation; every cause cancels -------------------


@pytest.fixture
def organisation_link(caseworker):
    AgreementVersionFactory.create()
    organisation = OrganisationFactory.create()
    organisation_officers(organisation)
    request = signing_request_send(acting_user=caseworker, organisation=organisation)
    return organisation, request, _token(), letter_code()


def test_revocation_cancels_a_pending_link_and_it_cannot_be_used(
    organisation_link, caseworker
):
    organisation, request, token, code = organisation_link

    organisation_revoke(organisation=organisation, acting_user=caseworker, reason="x")

    request.refresh_from_db()
    assert request.cancelled_at is not None
    with pytest.raises(SigningRefused, match="expired or has been used"):
        _sign(token, code=code)
    organisation.refresh_from_db()
    assert organisation.last_signed_version is None


def test_deregistration_cancels_a_pending_link(organisation_link, caseworker):
    organisation, request = organisation_link[:2]

    organisation_transition(
        organisation=organisation,
        to=Organisation.Status.DEREGISTERED,
        acting_user=caseworker,
        reason="Dormant",
    )

    request.refresh_from_db()
    assert request.cancelled_at is not None
    assert "left the register" in request.history.latest().history_change_reason


def test_suspension_leaves_the_link_working(organisation_link, caseworker):
    organisation, request = organisation_link[:2]

    organisation_transition(
        organisation=organisation,
        to=Organisation.Status.SUSPENDED,
        acting_user=caseworker,
        reason="Usage",
    )

    request.refresh_from_db()
    assert request.is_usable


def test_a_revoked_organisations_link_is_refused_even_if_not_cancelled(
    organisation_link,
):
    organisation, _request, token, code = organisation_link
    Organisation.objects.filter(pk=organisation.pk).update(
        status=Organisation.Status.REVOKED
    )

    with pytest.raises(SigningRefused, match="no longer registered"):
        _sign(token, code=code)


def test_a_newer_link_cancels_the_older_and_its_code(organisation_link, caseworker):
    organisation, old, token, code = organisation_link

    signing_request_send(acting_user=caseworker, organisation=organisation)

    old.refresh_from_db()
    assert old.cancelled_at is not None
    with pytest.raises(SigningRefused):
        _sign(token, code=code)


def test_cancelling_twice_cancels_nothing_more(organisation_link, caseworker):
    organisation = organisation_link[0]

    first = signing_requests_cancel(
        organisation=organisation, acting_user=caseworker, reason="x"
    )
    second = signing_requests_cancel(
        organisation=organisation, acting_user=caseworker, reason="x"
    )

    assert (first, second) == (1, 0)


def test_publishing_skips_a_director_who_left_and_tells_caseworkers(caseworker):
    from registration.services import agreement_version_publish

    AgreementVersionFactory.create()
    kept, left = OrganisationFactory.create_batch(2)
    organisation_officers(kept)
    _resigned(left.companies_house_number, left.signing_director_appointment)
    new = AgreementVersionFactory.create(published_at=None)

    requests = agreement_version_publish(
        version=new,
        acting_user=caseworker,
        resign_deadline=timezone.localdate() + timedelta(days=14),
    )

    assert [r.organisation for r in requests] == [kept]
    note = Notification.objects.get(reference="agreement.links_not_sent")
    assert left.legal_name in note.body
    assert note.to == caseworker.email
