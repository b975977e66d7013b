"""Small security hooks named in settings."""

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def axes_client_str(
    username: str,
    ip_address: str,
    user_agent: str,
    path_info: str,
    request: HttpRequest,
) -> str:
    """Identify a sign-in attempt in logs without writing the email address or IP.

    A keyed hash lets an operator correlate repeated attempts for one account.
    """
    digest = hashlib.blake2b(
        f"{username}|{ip_address}".encode(),
        key=settings.SECRET_KEY.encode()[:64],
        digest_size=8,
    ).hexdigest()
    return f"{{client: {digest}, path: {path_info}}}"


def client_ip(request: HttpRequest) -> str:
    """The client's address: behind N trusted proxies, the Nth from the right of
    X-Forwarded-For (each proxy appends the address it received from); else
    REMOTE_ADDR. Addresses further left are client-supplied and never trusted."""
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if trusted and len(hops) >= trusted:
        return str(hops[-trusted])
    return str(request.META.get("REMOTE_ADDR", ""))


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email address a sign-in attempt is for, as axes should key it.

    two_factor's wizard posts ``auth-username``, not ``username``; and sign-in is
    case-insensitive, so the lockout must be too or changing case would evade it.
    """
    value = (credentials or {}).get("username") or request.POST.get("auth-username")
    return str(value or "").strip().lower()
