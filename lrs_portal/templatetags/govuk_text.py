"""Text filters for GOV.UK templates."""

from django import template

register = template.Library()


@register.filter
def change_label(key: str) -> str:
    """A summary row's key as the rest of a "Change" link ("Change UKPRN",
    "Change legal name"): the first letter lowered only when the first word is
    not an acronym, so a screen reader spells UKPRN and ICO as written."""
    text = str(key).strip()
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return text
    return text[:1].lower() + text[1:]
