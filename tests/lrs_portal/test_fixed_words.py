"""{% load fixed_words %}: the layout's fixed words translated once per language
(issue 21). Whatever it remembers, it must render exactly what Django's tag does."""

from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from lrs_portal.templatetags.fixed_words import FixedTranslateNode

SOURCES = [
    '{% translate "Sign out" %}',
    "{% translate 'Menu' %}",
    '{% translate "Sign out" as words %}[{{ words }}]',
    '{% translate "Sign out"|upper %}',
    '{% translate "Sign out" context "a button" %}',
    '{% translate "Sign out" noop %}',
    "{% translate word %}",
    '{% translate "Tom & Jerry <b> 100%% sure" %}',
    '{% autoescape off %}{% translate "Tom & Jerry <b>" %}{% endautoescape %}',
]


def _django(source: str, context: dict[str, str]) -> str:
    return Template("{% load i18n %}" + source).render(Context(context))


@pytest.mark.parametrize("source", SOURCES)
def test_it_renders_what_djangos_tag_does_in_each_language_in_turn(source):
    template = Template("{% load i18n fixed_words %}" + source)
    # The same compiled template, as the cached loader keeps it, in one
    # language, then another, then the first again.
    for language in ("cy", "en-gb", "cy", "en-gb"):
        for word in ("Privacy", "Menu"):
            context = {"word": word}
            with translation.override(language):
                expected = _django(source, context)
                assert template.render(Context(context)) == expected


def test_the_welsh_words_are_welsh_and_the_english_english():
    template = Template('{% load i18n fixed_words %}{% translate "Sign out" %}')
    with translation.override("cy"):
        assert template.render(Context()) == "Allgofnodi"
    with translation.override("en-gb"):
        assert template.render(Context()) == "Sign out"
    with translation.override("cy"):
        assert template.render(Context()) == "Allgofnodi"


def test_only_a_plain_literal_is_remembered():
    def nodes(source):
        return [
            type(node).__name__
            for node in Template("{% load i18n fixed_words %}" + source).nodelist
            if type(node).__name__ != "LoadNode"
        ]

    assert nodes('{% translate "Menu" %}') == ["FixedTranslateNode"]
    assert nodes('{% translate "Menu" as m %}') == ["FixedTranslateNode"]
    for source in (
        "{% translate word %}",
        '{% translate "Menu"|upper %}',
        '{% translate "Menu" context "x" %}',
        '{% translate "Menu" noop %}',
    ):
        assert nodes(source) == ["TranslateNode"], source


def test_a_variable_message_is_translated_afresh_each_time():
    template = Template("{% load i18n fixed_words %}{% translate word %}")
    with translation.override("cy"):
        assert template.render(Context({"word": "Menu"})) == "Dewislen"
        assert template.render(Context({"word": "Privacy"})) == "Preifatrwydd"


def test_a_node_remembers_a_bounded_number_of_languages():
    template = Template('{% load i18n fixed_words %}{% translate "Menu" %}')
    node = template.nodelist[-1]
    assert isinstance(node, FixedTranslateNode)
    for index in range(20):
        with translation.override(f"x{index}"):
            template.render(Context())
    assert len(node.rendered) <= 8


def test_a_catalogue_loaded_again_is_translated_afresh(monkeypatch):
    """runserver loads a changed catalogue without a restart, and a test may
    change the locale paths: the cached template's words must follow."""
    from django.utils.translation import trans_real

    template = Template('{% load i18n fixed_words %}{% translate "Sign out" %}')
    with translation.override("cy"):
        assert template.render(Context()) == "Allgofnodi"

    class Reloaded(trans_real.DjangoTranslation):
        def gettext(self, message):
            return "Allgofnodi (newydd)" if message == "Sign out" else message

    reloaded = Reloaded("cy")
    monkeypatch.setitem(trans_real._translations, "cy", reloaded)
    with translation.override("cy"):
        assert template.render(Context()) == "Allgofnodi (newydd)"
    monkeypatch.undo()
    with translation.override("cy"):
        assert template.render(Context()) == "Allgofnodi"


def test_the_layout_and_its_parts_load_it_after_every_load_of_django_i18n():
    # Loaded before i18n, Django's own tag would win again, silently.
    import re

    templates = Path(settings.BASE_DIR) / "templates"
    for name in (
        "base.html",
        "includes/footer_meta.html",
        "includes/language_select.html",
    ):
        libraries = [
            library
            for load in re.findall(
                r"{%\s*load\s+([^%]+?)\s*%}", (templates / name).read_text()
            )
            for library in load.split()
        ]
        assert "fixed_words" in libraries, name
        last_i18n = max(i for i, library in enumerate(libraries) if library == "i18n")
        assert libraries.index("fixed_words") > last_i18n, name
