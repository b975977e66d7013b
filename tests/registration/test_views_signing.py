import logging
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import Notification
from registration.models import AgreementSignature, SigningRequest
from registration.services import signing_request_send
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    letter_code,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (LRS test browser)"
ADDRESS = "192.0.2.44"


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


@pytest.fixture
def version():
    return AgreementVersionFactory.create(
        text=(
            "1. Parties\nThe department and the licensee.\n\n2. Use\nOwn students only."
        )
    )


@pytest.fixture
def application():
    return RegistrationApplicationFactory.create(submitted=True)


def _latest_token() -> str:
    note = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    return note.body.split("/agreement/sign/")[1].split("/")[0]


@pytest.fixture
def token(version, application):
    signing_request_send(acting_user=application.applicant, application=application)
    return _latest_token()


def sign_url(token):
    return reverse("registration:sign", args=[token])


def sign(client, token, typed_name="Jane Smith", confirmed="on", code=None):
    return client.post(
        sign_url(token),
        {
            "typed_name": typed_name,
            "confirmed": confirmed,
            "code": letter_code() if code is None else code,
        },
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=BROWSER,
    )


def test_the_director_reads_the_whole_agreement_without_signing_in(
    client, token, version, application
):
    response = client.get(sign_url(token))

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert application.legal_name in html
    assert f"Version {version.number}" in html
    assert "<p>1. Parties<br>The department and the licensee.</p>" in html
    assert "Own students only." in html
    assert html.count("<h1") == 1


def test_the_signing_page_is_never_cached_or_sent_as_a_referrer(client, token):
    response = client.get(sign_url(token))

    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]


def test_signing_records_version_text_hash_address_browser_and_director(
    client, token, version, application
):
    response = sign(client, token)

    assert response.status_code == HTTPStatus.OK  # rendered in place, no redirect
    assert "You have signed the agreement" in response.content.decode()
    signature = AgreementSignature.objects.get()
    assert signature.application == application
    assert signature.agreement_version == version
    assert signature.text_hash == version.text_hash
    assert signature.ip_address == ADDRESS
    assert signature.user_agent == BROWSER
    assert signature.typed_name == "Jane Smith"
    assert signature.director_name_at_companies_house == "SMITH, Jane Alice"


def test_behind_a_trusted_proxy_the_directors_own_address_is_recorded(
    client, token, settings
):
    settings.TRUSTED_PROXY_COUNT = 1

    client.post(
        sign_url(token),
        {"typed_name": "Jane Smith", "confirmed": "on", "code": letter_code()},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert AgreementSignature.objects.get().ip_address == "198.51.100.7"


def test_the_token_is_never_in_a_redirect_or_the_signed_page(client, token):
    responses = [client.get(sign_url(token)), sign(client, token, "Wrong Person")]
    responses.append(sign(client, token))

    for response in responses:
        assert not 300 <= response.status_code < 400
        assert token not in response.get("Location", "")
    assert token not in responses[-1].content.decode()


def test_a_link_works_only_once(client, token):
    sign(client, token)

    again = sign(client, token, "Jane Smith")
    page = client.get(sign_url(token))

    assert again.status_code == HTTPStatus.GONE
    assert page.status_code == HTTPStatus.GONE
    assert "This link has expired or has already been used" in page.content.decode()
    assert AgreementSignature.objects.count() == 1


def test_an_expired_link_is_refused(client, token):
    signing_request = SigningRequest.objects.get()
    signing_request.expires_at = timezone.now() - timedelta(minutes=1)
    signing_request.save(update_fields=["expires_at"])

    assert client.get(sign_url(token)).status_code == HTTPStatus.GONE
    assert sign(client, token).status_code == HTTPStatus.GONE
    assert not AgreementSignature.objects.exists()


def test_a_replaced_link_stops_working(client, token, application):
    signing_request_send(acting_user=application.applicant, application=application)

    assert client.get(sign_url(token)).status_code == HTTPStatus.GONE
    assert client.get(sign_url(_latest_token())).status_code == HTTPStatus.OK


def test_an_unknown_link_gets_the_same_page_as_a_used_one(client, token):
    sign(client, token)

    used = client.get(sign_url(token))
    unknown = client.get(sign_url("not-a-real-token"))

    assert unknown.status_code == used.status_code == HTTPStatus.GONE

    def page(response):
        # Less what differs on every response: the CSP nonce and the CSRF token
        # of the language switcher's form (each response masks it afresh).
        html = response.content.decode().replace(
            str(response.wsgi_request.csp_nonce), ""
        )
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert page(unknown) == page(used)


def test_a_wrong_name_is_refused_and_the_link_still_works(client, token):
    response = sign(client, token, typed_name="Grace Okafor")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert 'id="id_typed_name_error"' in html
    assert "Type your full name as it appears at Companies House" in html
    assert not AgreementSignature.objects.exists()
    assert SigningRequest.objects.get().used_at is None
    assert sign(client, token).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["typed_name", "code", "confirmed"]),
        ({"typed_name": "Jane Smith", "code": "ABCD-2345"}, ["confirmed"]),
        ({"typed_name": "Jane Smith", "confirmed": "on"}, ["code"]),
        ({"typed_name": "   ", "confirmed": "on"}, ["typed_name"]),
        ({"typed_name": "Jane\x00Smith", "confirmed": "on"}, ["typed_name"]),
        ({"typed_name": "J" * 201, "confirmed": "on"}, ["typed_name"]),
    ],
)
def test_bad_signing_input_shows_errors_and_signs_nothing(client, token, data, fields):
    response = client.post(sign_url(token), data, REMOTE_ADDR=ADDRESS)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "govuk-error-summary" in html
    for field in fields:
        assert f'id="id_{field}_error"' in html
    assert not AgreementSignature.objects.exists()


def test_django_does_not_log_the_path_of_a_refused_link(client, token, caplog):
    sign(client, token)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(sign_url(token))

    assert not [r for r in caplog.records if r.name == "django.request"]


def test_a_registered_organisations_director_re_signs_a_new_version(client, caseworker):
    organisation = OrganisationFactory.create(legal_name="Eastgate Training Ltd")
    old = AgreementVersionFactory.create()
    organisation.last_signed_version = old
    organisation.save()
    new = AgreementVersionFactory.create()
    organisation_officers(organisation)
    signing_request_send(acting_user=caseworker, organisation=organisation)
    token = _latest_token()

    assert "Eastgate Training Ltd" in client.get(sign_url(token)).content.decode()
    assert sign(client, token).status_code == HTTPStatus.OK
    organisation.refresh_from_db()
    assert organisation.last_signed_version == new


def test_the_token_is_not_in_the_request_log(client, token, caplog):
    with caplog.at_level(logging.INFO):
        client.get(sign_url(token))

    assert caplog.records
    assert token not in caplog.text


def test_a_suspended_organisations_director_signs_and_the_page_says_access_is_back(
    client, caseworker
):
    from registration.models import Organisation, Suspension
    from registration.services.housekeeping import housekeeping_run

    old = AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(
        legal_name="Eastgate Training Ltd", last_signed_version=old
    )
    organisation_officers(organisation)
    AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() - timedelta(days=1)
    )
    housekeeping_run()
    signing_request_send(acting_user=caseworker, organisation=organisation)

    page = sign(client, _latest_token()).content.decode()

    assert "If its access was suspended" in page
    assert "it is back now" in page
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    assert Suspension.objects.get().status == Suspension.Status.LIFTED


def test_a_wrong_code_is_an_error_on_the_code_and_the_link_still_works(client, token):
    response = sign(client, token, code="AAAA-AAAA")

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_code_error"' in html
    assert "You have 4 tries left" in html
    assert not AgreementSignature.objects.exists()
    assert sign(client, token).status_code == HTTPStatus.OK
    assert AgreementSignature.objects.count() == 1


def test_a_locked_code_gets_a_page_that_says_so(client, token):
    from registration.models import SigningCode

    for _ in range(SigningCode.MAX_ATTEMPTS):
        response = sign(client, token, code="AAAA-AAAA")

    assert response.status_code == HTTPStatus.GONE
    html = response.content.decode()
    assert "You cannot sign the agreement" in html
    assert "wrong code too many times" in html
    assert sign(client, token).status_code == HTTPStatus.GONE
    assert not AgreementSignature.objects.exists()
