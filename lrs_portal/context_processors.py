from typing import Any

from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the service name and phase."""
    return {
        "service_name": "LRS Portal",
        "service_phase": "Beta",
        "support_email": settings.SUPPORT_EMAIL,
    }
