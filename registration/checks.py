"""System checks for deployment (`manage.py check --deploy`)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def companies_house_key_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without an API key Companies House checks read the offline demo fixtures."""
    if settings.COMPANIES_HOUSE_API_KEY:
        return []
    return [
        Warning(
            "COMPANIES_HOUSE_API_KEY is not set, so Companies House checks read the "
            "offline fixture folder (demo data), not the live register.",
            hint="Set COMPANIES_HOUSE_API_KEY in production.",
            id="registration.W001",
        )
    ]


@register(Tags.security, deploy=True)
def notify_key_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without a Notify key the directors' signing codes are never posted: each
    letter is written as a PDF to LETTERS_DIR instead (the demo's letters)."""
    if settings.NOTIFY_API_KEY:
        return []
    return [
        Warning(
            "NOTIFY_API_KEY is not set, so letters with directors' signing codes are "
            f"written to {settings.LETTERS_DIR} instead of being posted.",
            hint="Set NOTIFY_API_KEY and NOTIFY_LETTER_TEMPLATE_ID in production.",
            id="registration.W002",
        )
    ]
