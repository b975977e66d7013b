from typing import Any

from django.conf import settings
from django.http import HttpRequest

from lrs_portal.sessions import session_seconds_left


def service(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the service name and phase, and for a
    signed-in person how long their session has left (the timeout warning)."""
    values: dict[str, Any] = {
        "service_name": "LRS Portal",
        "service_phase": "Beta",
        "support_email": settings.SUPPORT_EMAIL,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and hasattr(request, "session"):
        values["session_expires_in"] = session_seconds_left(request)
        values["session_warning_seconds"] = settings.SESSION_TIMEOUT_WARNING_SECONDS
    return values
