"""Re-signing a new agreement version (issue 19): who gets a link, the deadline,
how long a link lasts, access returning at once, and re-registration's form."""

from datetime import datetime, time, timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from lrs_portal.models import Notification, system_user
from registration.models import (
    AgreementVersion,
    Organisation,
    RegistrationApplication,
    SigningRequest,
    Suspension,
)
from registration.services import (
    agreement_sign,
    agreement_version_publish,
    reregistration_start,
    signing_request_send,
    suspension_reinstate,
)
from registration.services.agreements import SIGNING_LINK_LIFETIME, SigningRefused
from registration.services.housekeeping import housekeeping_run
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    letter_code,
    member_of,
    organisation_officers,
)
from tests.registration import test_admin

_url = test_admin._url
# The admin tests' caseworker with the registration permissions, and their client.
vetter = test_admin.vetter
vetting = test_admin.vetting

pytestmark = pytest.mark.django_db
S = Organisation.Status


def _token() -> str:
    body = (
        Notification.objects.filter(reference="agreement.signing_link")
        .latest("pk")
        .body
    )
    return body.split("/agreement/sign/")[1].split("/")[0]


def _sign() -> None:
    agreement_sign(
        token=_token(),
        typed_name="Jane Smith",
        confirmed=True,
        code=letter_code(),
        ip_address="192.0.2.7",
        user_agent="test",
    )


@pytest.fixture
def first():
    return AgreementVersionFactory.create(number=1)


@pytest.fixture
def draft():
    return AgreementVersionFactory.create(number=2, published_at=None)


def _signer(**kwargs):
    """An organisation whose signing director Companies House lists as current."""
    organisation = OrganisationFactory.create(**kwargs)
    organisation_officers(organisation)
    return organisation


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


# --- the deadline -------------------------------------------------------------------


def test_a_version_cannot_be_published_without_a_deadline_or_a_reason(
    caseworker, first, draft
):
    OrganisationFactory.create(last_signed_version=first)

    with pytest.raises(SigningRefused, match="must sign"):
        agreement_version_publish(version=draft, acting_user=caseworker)

    draft.refresh_from_db()
    assert draft.published_at is None
    assert not SigningRequest.objects.exists()


@pytest.mark.parametrize("days", [0, -1])
def test_a_deadline_today_or_past_is_refused(caseworker, first, draft, days):
    with pytest.raises(SigningRefused, match="future"):
        agreement_version_publish(
            version=draft, acting_user=caseworker, resign_deadline=in_days(days)
        )


def test_the_publish_page_asks_for_a_deadline_and_a_confirmation(vetting, draft):
    url = _url(AgreementVersion, "publish", draft.pk)

    response = vetting.post(url, {})

    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].errors
    assert "resign_deadline" in errors
    assert "confirmed" in errors
    draft.refresh_from_db()
    assert draft.published_at is None


def test_the_publish_page_starts_from_the_drafts_deadline(vetting, draft):
    draft.resign_deadline = in_days(21)
    draft.save()

    page = vetting.get(_url(AgreementVersion, "publish", draft.pk))

    assert page.context["form"]["resign_deadline"].value() == in_days(21)


def test_the_publish_page_needs_a_reason_to_cut_off_immediately(vetting, draft):
    url = _url(AgreementVersion, "publish", draft.pk)

    response = vetting.post(url, {"immediately": "on", "confirmed": "on"})

    assert "immediately_reason" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.published_at is None


def test_the_publish_page_counts_who_has_no_director_email(vetting, draft):
    OrganisationFactory.create(signing_director_email="")
    OrganisationFactory.create()

    page = vetting.get(_url(AgreementVersion, "publish", draft.pk)).content.decode()

    assert "2 organisations must sign it: 2 registered and 0 suspended." in page
    assert "1 directors will each be emailed a signing link." in page
    assert "1 organisations have no signing director" in page


def test_published_immediately_the_next_run_suspends_those_who_have_not_signed(
    vetting, first, draft
):
    organisation = _signer(last_signed_version=first)
    member_of(organisation, super_user=True, last_login=timezone.now())

    vetting.post(
        _url(AgreementVersion, "publish", draft.pk),
        {
            "immediately": "on",
            "immediately_reason": "The old version allowed sub-licensing.",
            "confirmed": "on",
        },
    )
    housekeeping_run()

    draft.refresh_from_db()
    assert draft.resign_deadline is None
    assert draft.resign_immediately_reason == "The old version allowed sub-licensing."
    organisation.refresh_from_db()
    assert organisation.status == S.SUSPENDED
    suspension = Suspension.objects.get()
    assert "had to be signed immediately" in suspension.reason
    assert suspension.day == timezone.localdate()


# --- who gets a link, and for how long ------------------------------------------------


def test_a_link_lasts_until_the_end_of_the_re_sign_deadline(caseworker, first, draft):
    organisation = _signer(last_signed_version=first)

    [link] = agreement_version_publish(
        version=draft, acting_user=caseworker, resign_deadline=in_days(14)
    )

    end = timezone.make_aware(datetime.combine(in_days(15), time.min))
    assert link.expires_at == end
    assert link.organisation == organisation
    body = Notification.objects.get(reference="agreement.signing_link").body
    assert f"expires on {timezone.localtime(end):%d %B %Y}" in body


def test_the_letters_code_lasts_as_long_as_a_link_that_lasts_to_the_deadline(
    caseworker, first, draft
):
    _signer(last_signed_version=first)

    [link] = agreement_version_publish(
        version=draft, acting_user=caseworker, resign_deadline=in_days(30)
    )

    assert link.expires_at > timezone.now() + timedelta(days=29)
    assert link.code.expires_at == link.expires_at


def test_a_link_lasts_as_long_as_the_letters_code(caseworker, first):
    # Found by review: a 7-day link could die before a letter posted with its
    # code (up to 5 working days) arrived.
    organisation = _signer(last_signed_version=first)

    link = signing_request_send(acting_user=caseworker, organisation=organisation)

    assert link.expires_at >= link.code.expires_at - timedelta(seconds=5)


def test_a_link_sent_after_the_deadline_lasts_its_usual_lifetime(caseworker, first):
    AgreementVersionFactory.create(number=2, resign_deadline=in_days(-3))
    organisation = _signer(last_signed_version=first)

    link = signing_request_send(acting_user=caseworker, organisation=organisation)

    lifetime = link.expires_at - link.created_at
    assert abs(lifetime - SIGNING_LINK_LIFETIME) < timedelta(seconds=5)


def test_a_caseworker_sends_a_suspended_organisation_a_link_after_reinstating(
    vetting, first
):
    AgreementVersionFactory.create(number=2, resign_deadline=in_days(-1))
    organisation = _signer(last_signed_version=first)
    housekeeping_run()
    organisation.refresh_from_db()
    assert organisation.status == S.SUSPENDED

    page = vetting.get(_url(Organisation, "change", organisation.pk))
    response = vetting.post(_url(Organisation, "send_signing_link", organisation.pk))

    assert "Send the director a signing link" in page.content.decode()
    assert response.status_code == HTTPStatus.FOUND
    link = SigningRequest.objects.get(organisation=organisation)
    assert link.agreement_version.number == 2
    assert link.is_usable


# --- signing gives access back at once ------------------------------------------------


def test_signing_lifts_the_suspension_at_once_and_the_email_says_so(caseworker, first):
    AgreementVersionFactory.create(number=2, resign_deadline=in_days(-1))
    organisation = _signer(last_signed_version=first)
    super_user = member_of(organisation, super_user=True, last_login=timezone.now())
    housekeeping_run()
    signing_request_send(acting_user=caseworker, organisation=organisation)

    _sign()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert organisation.last_signed_version.number == 2
    suspension = Suspension.objects.get()
    assert suspension.status == Suspension.Status.LIFTED
    record = suspension.history.latest()
    assert record.history_user == system_user()
    assert "Signed by SMITH, Jane Alice" in record.history_change_reason
    told = Notification.objects.filter(
        to=super_user.email, reference=f"suspension.{suspension.pk}.lifted"
    ).get()
    assert "Access is back now" in told.body


def test_a_reinstated_organisation_signs_and_housekeeping_does_not_suspend_again(
    caseworker, first
):
    AgreementVersionFactory.create(number=2, resign_deadline=in_days(-1))
    organisation = _signer(last_signed_version=first)
    housekeeping_run()
    suspension = Suspension.objects.get()
    suspension_reinstate(
        suspension=suspension, acting_user=caseworker, reason="Director on leave"
    )
    signing_request_send(acting_user=caseworker, organisation=organisation)
    _sign()

    housekeeping_run()

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert Suspension.objects.count() == 1


# --- re-registration --------------------------------------------------------------


def test_re_registration_with_no_approved_application_starts_from_the_organisation():
    organisation = OrganisationFactory.create(
        legal_name="EDUDUDES LTD",
        trading_names="Edu Dudes",
        purpose="own_students",
        status=S.REVOKED,
    )
    super_user = member_of(organisation, super_user=True)

    application = reregistration_start(organisation=organisation, applicant=super_user)

    assert application.kind == RegistrationApplication.Kind.REREGISTRATION
    for field in (
        "legal_name",
        "trading_names",
        "ukprn",
        "companies_house_number",
        "ico_number",
        "registered_address",
        "website",
        "estimated_learners_per_year",
        "purpose",
    ):
        assert getattr(application, field) == getattr(organisation, field), field
    assert application.purpose_detail == ""
