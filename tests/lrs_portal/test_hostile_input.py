"""Control characters in an address, a cookie or a form (issue 16)."""

import json
from http import HTTPStatus

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from lrs_portal.hostile_input import CONTROL_CHARACTER_MESSAGE
from lrs_portal.models import User

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _is_govuk_400(response) -> None:
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert "Sorry, there is a problem with the service" in html
    assert "hidden control characters" in html
    assert "govuk-template" in html
    assert "Content-Security-Policy" in response.headers


@pytest.mark.postgres
@pytest.mark.parametrize(
    "path", ["/apply/%00/", "/apply/a%01b/", "/data-sharing/%1F/", "/%7F"]
)
def test_a_control_character_in_the_path_is_a_govuk_400_not_a_database_error(
    requester, path
):
    _is_govuk_400(_signed_in(requester).get(path))


@pytest.mark.parametrize("query", ["?next=%00", "?q=a%0Db", "?%00=1", "?p=%C2%85"])
def test_a_control_character_in_the_query_is_a_govuk_400(provider_user, query):
    response = _signed_in(provider_user).get(reverse("lrs_portal:start") + query)

    _is_govuk_400(response)


@pytest.mark.postgres
def test_a_control_character_in_the_session_cookie_is_refused_before_any_lookup():
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"

    _is_govuk_400(client.get(reverse("registration:task-list")))


def test_under_the_api_the_refusal_is_a_problem_document(client):
    response = client.get("/api/v1/%00")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == HTTPStatus.BAD_REQUEST


def test_tab_and_new_lines_in_a_query_are_refused_too(client):
    _is_govuk_400(client.get("/?q=a%09b"))


def test_a_view_whose_query_is_a_form_shows_the_field_error_instead(
    provider_super_user,
):
    response = _signed_in(provider_super_user).get(
        reverse("records:usage-csv"), {"to": "2026-01-01\x01"}
    )

    # not the middleware's page: the form's error, on the field
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND}
    assert "hidden control characters" not in response.content.decode()


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ("plain text", False),
        ("two\r\nlines\tand a tab", False),
        ("bell\x07", True),
        ("escape\x1b[31m", True),
        ("delete\x7f", True),
        ("next\x85line", True),
        ("surrogate\ud800", True),
    ],
)
def test_every_form_char_field_refuses_control_characters(value, refused):
    class AnyForm(forms.Form):
        text = forms.CharField(max_length=100)
        slug_like = forms.RegexField(regex=r".*", max_length=100)

    form = AnyForm({"text": value, "slug_like": value})

    assert form.is_valid() is not refused
    if refused:
        assert form.errors["text"] == [CONTROL_CHARACTER_MESSAGE]
        assert form.errors["slug_like"] == [CONTROL_CHARACTER_MESSAGE]


def test_a_nul_byte_gets_one_message_not_two():
    class AnyForm(forms.Form):
        text = forms.CharField(max_length=100)

    assert len(AnyForm({"text": "a\x00b"}).errors["text"]) == 1


def test_a_control_character_typed_into_a_page_is_an_error_on_that_field(client):
    response = client.post(
        reverse("registration:create-account"),
        {
            "full_name": "Some\x07one",
            "email": "someone@example.com",
            "password": "a long enough passphrase 2026",
        },
    )

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert 'href="#id_full_name"' in html
    assert "must not include hidden control characters" in html
    assert not User.objects.filter(email="someone@example.com").exists()


# --- found by the walk over every URL (test_hostile_walk.py) -------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/lrs_portal/user/..%2Fetc/history/",
        "/admin/registration/organisation/NaN/history/",
        "/admin/registration/organisation/1/history/x/",
        "/admin/registration/organisation/1e308/permissions/",
        "/admin/registration/organisation/NaN/permissions/user-manage/1/",
        "/admin/approvals/panelmeeting/1/permissions/user-manage/0000-00-00/",
        "/admin/approvals/datasharerequest/1/permissions/group-manage/AAAA/",
    ],
)
def test_an_admin_id_no_key_can_hold_is_not_found(admin_verified_client, path):
    admin_verified_client.raise_request_exception = False

    response = admin_verified_client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_opening_a_buttons_address_is_a_govuk_page(provider_user):
    response = _signed_in(provider_user).get(reverse("lrs_portal:sign-out"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"
    assert "only works from a button" in response.content.decode()
    assert "govuk-template" in response.content.decode()


# --- every form field has a length and range its column can hold -----------------

OUR_APPS = ("lrs_portal", "registration", "records", "approvals")


# Importing these starts a process (the web process refuses a superuser's
# database role as it starts): they hold no forms.
PROCESS_ENTRY_POINTS = {"lrs_portal.wsgi", "lrs_portal.asgi"}


def _our_form_classes():
    import importlib
    import inspect
    import pkgutil

    for app in OUR_APPS:
        package = importlib.import_module(app)
        for module_info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if "migrations" in module_info.name or "management" in module_info.name:
                continue
            if module_info.name in PROCESS_ENTRY_POINTS:
                continue
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                ours = cls.__module__ == module.__name__
                if ours and issubclass(cls, forms.BaseForm):
                    yield cls


def test_every_text_box_in_our_forms_has_a_maximum_length():
    from lrs_portal.forms import SignInForm

    unbounded = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _our_form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.CharField)
        and field.max_length is None
        and cls is not SignInForm  # sets its limits in __init__, checked below
    ]
    sign_in = SignInForm()

    assert unbounded == [], "\n".join(unbounded)
    assert sign_in.fields["username"].max_length == 254
    assert sign_in.fields["password"].max_length is not None


def test_every_number_box_in_our_forms_has_a_range():
    unbounded = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _our_form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.IntegerField)
        and (field.min_value is None or field.max_value is None)
    ]

    assert unbounded == []
