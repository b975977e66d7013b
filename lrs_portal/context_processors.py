from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from lrs_portal.sessions import session_seconds_left


def service(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the service name and phase, and for a
    signed-in person how long their session has left (the timeout warning).
    The service's name is a name, the same in Welsh; its phase is translated
    (decision 34)."""
    values: dict[str, Any] = {
        "service_name": "LRS Portal",
        "service_phase": _("Beta"),
        "support_email": settings.SUPPORT_EMAIL,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and hasattr(request, "session"):
        values["session_expires_in"] = session_seconds_left(request)
        values["session_warning_seconds"] = settings.SESSION_TIMEOUT_WARNING_SECONDS
    return values
