"""``{% fixed_url 'name' %}``: the address of a URL name that takes no
arguments, reversed once and remembered (issue 21).

The base layout and its footer name eight such addresses on every page; Django's
``{% url %}`` reverses each one on every request, which was about a tenth of a
signed-in page's Python time. An address without arguments depends only on the
URLconf, the script prefix and (were the URLconf ever to use i18n_patterns) the
active language, so those are the cache's key. It takes no ``current_app``: each
name it is used for has one instance (the one admin site included).
``{% fixed_url 'name' as variable %}`` works as ``{% url %}``'s does.
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf: str, prefix: str, language: str | None) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def fixed_url(name: str) -> str:
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reversed(name, str(urlconf), get_script_prefix(), get_language())
