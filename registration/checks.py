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
