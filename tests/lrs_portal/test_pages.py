from http import HTTPStatus

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_start_page_has_the_govuk_page_furniture(client):
    body = client.get(reverse("lrs_portal:start")).content.decode()

    assert 'class="govuk-skip-link"' in body
    assert 'href="#main-content"' in body
    assert 'id="main-content"' in body
    assert "govuk-header" in body
    assert "govuk-service-navigation" in body
    assert "govuk-phase-banner" in body
    assert "govuk-footer" in body
    assert body.count("<h1") == 1
    assert reverse("two_factor:login") in body


def test_an_unknown_url_gets_the_govuk_page_not_found(client):
    response = client.get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.content.decode()
    assert "Page not found" in body
    assert "govuk-header" in body


def test_the_server_error_page_renders_without_a_request():
    html = get_template("500.html").render()

    assert "Sorry, there is a problem with the service" in html


def test_a_missing_csrf_token_gets_a_govuk_403():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("two_factor:login"), {})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "govuk-header" in response.content.decode()


@pytest.mark.parametrize("name", ["400.html", "403.html", "404.html"])
def test_each_error_page_is_a_govuk_page(rf, name):
    request = rf.get("/")
    request.csp_nonce = "n"
    html = get_template(name).render({"request": request}, request)

    assert "govuk-main-wrapper" in html


def test_the_lockout_page_explains_when_to_try_again(client, provider_user):
    from tests.lrs_portal.auth_helpers import post_credentials

    for _ in range(5):
        post_credentials(client, provider_user.email, "wrong")
    response = post_credentials(client, provider_user.email, "wrong")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    body = response.content.decode()
    assert "15 minutes" in body
    assert "govuk-header" in body
