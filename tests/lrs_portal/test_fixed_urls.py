"""{% fixed_url %}: the base layout's addresses, reversed once (issue 21)."""

from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse


def _render(source: str) -> str:
    return Template("{% load fixed_urls %}" + source).render(Context())


def test_it_is_the_address_url_gives():
    assert _render("{% fixed_url 'lrs_portal:sign-out' %}") == reverse(
        "lrs_portal:sign-out"
    )
    assert (
        _render("{% fixed_url 'records:your-record' as here %}[{{ here }}]")
        == f"[{reverse('records:your-record')}]"
    )


def test_it_follows_the_script_prefix():
    from django.urls import get_script_prefix, set_script_prefix

    before = get_script_prefix()
    try:
        set_script_prefix("/portal/")
        assert _render("{% fixed_url 'lrs_portal:start' %}") == "/portal/"
    finally:
        set_script_prefix(before)
    assert _render("{% fixed_url 'lrs_portal:start' %}") == "/"


@override_settings(ROOT_URLCONF="tests.lrs_portal.fixed_urls_conf")
def test_it_follows_another_urlconf():
    assert _render("{% fixed_url 'elsewhere' %}") == "/somewhere-else/"
