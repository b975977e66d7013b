"""The pages every GOV.UK service has, the footer and banner that link them, the
pages for addresses that only a button posts to, and the session timeout
(issue 17)."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth import SESSION_KEY
from django.template.loader import get_template, render_to_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from lrs_portal.models import UserSession
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db

SERVICE_PAGES = ["accessibility-statement", "privacy", "cookies", "contact"]


@pytest.mark.parametrize("name", SERVICE_PAGES)
def test_each_service_page_is_a_govuk_page_at_its_address(client, name):
    response = client.get(reverse(f"lrs_portal:{name}"))

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "govuk-main-wrapper" in body
    assert body.count("<h1") == 1
    assert reverse(f"lrs_portal:{name}") == f"/{name}"


@pytest.mark.parametrize("name", SERVICE_PAGES)
def test_every_page_footer_links_each_service_page(client, provider_user, name):
    signed_in = Client()
    signed_in.force_login(provider_user)
    pages = [
        client.get(reverse("lrs_portal:start")).content.decode(),
        client.get("/no-such-page/").content.decode(),
        signed_in.get(reverse("lrs_portal:account")).content.decode(),
        get_template("500.html").render(),  # no request, no URL resolver
    ]
    link = f'class="govuk-footer__link" href="{reverse(f"lrs_portal:{name}")}"'
    for body in pages:
        assert link in body


def test_the_phase_banner_links_to_feedback(client):
    body = client.get(reverse("lrs_portal:start")).content.decode()

    banner = body.split('class="govuk-phase-banner"', 1)[1].split("</div>", 1)[0]
    assert f'href="{reverse("lrs_portal:contact")}#feedback"' in banner
    assert ">feedback</a>" in banner


def test_contact_and_the_banner_use_the_support_email_setting(client, settings):
    settings.SUPPORT_EMAIL = "help@lrs.example.org"

    body = client.get(reverse("lrs_portal:contact")).content.decode()

    assert 'href="mailto:help@lrs.example.org"' in body
    assert 'id="feedback"' in body


def test_support_email_has_a_demo_default():
    from django.conf import settings

    assert "@" in settings.SUPPORT_EMAIL


def test_the_cookies_page_names_the_cookies_the_settings_set(client, settings):
    settings.SESSION_COOKIE_NAME = "lrs_session"
    settings.CSRF_COOKIE_NAME = "lrs_csrf"

    body = client.get(reverse("lrs_portal:cookies")).content.decode()

    assert "<code>lrs_session</code>" in body
    assert "<code>lrs_csrf</code>" in body
    assert "sessionid" not in body
    assert "Strictly necessary" in body


def test_the_cookies_page_names_the_cookies_a_visit_really_sets(provider_user):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("two_factor:login"))
    client.force_login(provider_user)
    set_names = set(client.cookies)
    body = client.get(reverse("lrs_portal:cookies")).content.decode()

    listed = set(re.findall(r"<code>([^<]+)</code>", body))
    assert set_names <= listed


def test_the_privacy_notice_gives_the_retention_the_settings_enforce(client, settings):
    settings.LEARNER_VIEW_RETENTION_MONTHS = 36
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS = 90

    body = client.get(reverse("lrs_portal:privacy")).content.decode()

    assert "36 months" in body
    assert "90 days" in body
    for words in ("Article 6(1)(e)", "Information Commissioner", "Your rights"):
        assert words in body


def test_the_accessibility_statement_lists_what_is_still_not_right(client):
    body = client.get(reverse("lrs_portal:accessibility-statement")).content.decode()

    assert "Welsh" in body
    assert "casework pages" in body
    assert "axe" in body
    assert "partially compliant" in body
    assert "Enforcement procedure" in body


# --- addresses only a button posts to -------------------------------------------


def _patterns(resolver=None, prefix="", namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(("admin/", "api/")):
                continue  # Django admin's own pages; the JSON API's problem documents
            ns = entry.namespace or namespace
            yield from _patterns(entry, route, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}", route


def _fill(route):
    def value(found):
        return "1" if found[1] == "int" else "x"

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", value, route)


def _post_only_addresses():
    client = Client()
    found = {}
    for name, route in _patterns():
        response = client.get(_fill(route))
        if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            found[name] = _fill(route)
    return found


def test_every_address_only_a_button_posts_to_says_what_to_do_next():
    found = _post_only_addresses()

    assert "records:view-record" in found
    assert "approvals:start-request" in found
    assert "lrs_portal:sign-out" in found
    for name, path in found.items():
        namespace, url_name = name.split(":")
        if not namespace:
            continue  # machine endpoints outside the page apps (the API's token)
        response = Client().get(path)
        body = response.content.decode()
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, name
        assert "POST" in response["Allow"], name
        assert "govuk-main-wrapper" in body, name
        get_template(f"405/{namespace}/{url_name}.html")  # its own next step
        assert "Go back and use the button" not in body, name


def test_reopening_a_record_says_to_search_again(client, provider_user):
    client.force_login(provider_user)

    response = client.get(reverse("records:view-record"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    body = response.content.decode()
    assert f'href="{reverse("records:find")}"' in body
    assert "search for the learner again" in body


def test_a_search_in_the_address_says_to_use_the_form(client, provider_user):
    client.force_login(provider_user)

    response = client.get(reverse("records:find-by-uln") + "?uln=9276308686")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert f'href="{reverse("records:find-by-uln")}"' in response.content.decode()


def test_opening_sign_out_offers_the_button_to_a_signed_in_person(provider_user):
    client = Client()
    client.force_login(provider_user)

    body = client.get(reverse("lrs_portal:sign-out")).content.decode()

    assert f'action="{reverse("lrs_portal:sign-out")}"' in body
    assert "You are still signed in" in body


# --- the 403 page says who to ask --------------------------------------------------


def _forbidden_page(rf, user):
    request = rf.get("/admin/somewhere/")
    request.user = user
    request.csp_nonce = "n"
    return render_to_string("403.html", request=request)


def test_the_403_page_sends_department_staff_to_an_administrator(rf, caseworker):
    html = _forbidden_page(rf, caseworker)

    assert "organisation's users" not in html
    assert "administrator at the Department for Education" in html


def test_the_403_page_sends_a_provider_user_to_their_super_user(rf):
    user = member_of(OrganisationFactory.create())

    html = _forbidden_page(rf, user)

    assert "your organisation's LRS super user" in html


def test_the_403_page_gives_others_the_support_address(rf, requester, settings):
    settings.SUPPORT_EMAIL = "help@lrs.example.org"

    html = _forbidden_page(rf, requester)

    assert "mailto:help@lrs.example.org" in html


# --- the session timeout warning ------------------------------------------------


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def _dialog_expires_in(body):
    found = re.search(r'data-expires-in="(\d+)"', body)
    return int(found[1]) if found else None


def test_signed_in_pages_carry_the_timeout_warning(provider_user, settings):
    settings.SESSION_TIMEOUT_WARNING_SECONDS = 120
    body = _signed_in(provider_user).get(reverse("lrs_portal:account")).content
    html = body.decode()

    assert 'id="app-timeout-warning"' in html
    assert 'data-warn-before="120"' in html
    assert "lrs_portal/timeout-warning.js" in html
    assert "Stay signed in" in html
    seconds = _dialog_expires_in(html)
    assert seconds is not None
    assert 0 < seconds <= settings.SESSION_COOKIE_AGE


def test_the_warning_counts_down_from_the_stored_session_end(provider_user):
    client = _signed_in(provider_user)
    row = UserSession.objects.get(session_key=client.session.session_key)
    row.expire_date = timezone.now() + timedelta(minutes=10)
    row.save()

    html = client.get(reverse("lrs_portal:account")).content.decode()

    assert 590 <= _dialog_expires_in(html) <= 600


def test_pages_for_people_not_signed_in_have_no_timeout_warning(client):
    html = client.get(reverse("lrs_portal:start")).content.decode()

    assert "app-timeout-warning" not in html


def test_stay_signed_in_restarts_the_session_and_asking_does_not(provider_user):
    client = _signed_in(provider_user)
    key = client.session.session_key
    row = UserSession.objects.get(session_key=key)
    row.expire_date = timezone.now() + timedelta(minutes=1)
    row.save()
    url = reverse("lrs_portal:stay-signed-in")

    asked = client.get(url).json()["expires_in"]
    assert asked <= 60
    assert UserSession.objects.get(session_key=key).expire_date <= row.expire_date

    stayed = client.post(url).json()["expires_in"]
    assert stayed > 60
    assert UserSession.objects.get(session_key=key).expire_date > row.expire_date


def test_stay_signed_in_needs_the_csrf_token(provider_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(provider_user)

    response = client.post(reverse("lrs_portal:stay-signed-in"))

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_stay_signed_in_refuses_a_session_that_has_ended(client):
    response = client.post(reverse("lrs_portal:stay-signed-in"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["expires_in"] == 0


def test_the_timed_out_sign_out_ends_the_session_and_says_so(provider_user):
    client = _signed_in(provider_user)

    response = client.post(
        reverse("lrs_portal:sign-out"), {"reason": "timeout"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("lrs_portal:timed-out")
    body = response.content.decode()
    assert "You have been signed out" in body
    assert f'href="{reverse("two_factor:login")}"' in body
    assert SESSION_KEY not in client.session


def test_an_ordinary_sign_out_is_not_called_a_timeout(provider_user):
    client = _signed_in(provider_user)

    response = client.post(reverse("lrs_portal:sign-out"), {"reason": ""})

    assert response.url == reverse("lrs_portal:signed-out")


def test_the_timed_out_page_notices_a_new_sign_in(provider_user):
    body = _signed_in(provider_user).get(reverse("lrs_portal:timed-out")).content

    assert "signed in again" in body.decode()
