"""Small security hooks named in settings."""

import hashlib
import re
from collections.abc import Mapping
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
    return client_ip_from_meta(request.META)


def client_ip_from_meta(meta: Mapping[str, Any]) -> str:
    """client_ip, from a request's META (or the copy oauthlib's request holds)."""
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", "") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if trusted and len(hops) >= trusted:
        return str(hops[-trusted])
    return str(meta.get("REMOTE_ADDR", "") or "")


# axes keeps the username in a varchar(255); PostgreSQL refuses NUL in any text.
AXES_USERNAME_MAX = 255
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email address a sign-in attempt is for, as axes should key it.

    two_factor's wizard posts ``auth-username``, not ``username``; and sign-in is
    case-insensitive, so the lockout must be too or changing case would evade it.
    A value axes cannot store (too long, a NUL byte) is cut to what it can, so the
    failure is still counted (issue 16: a 256-character address was a server
    error, and no attempt was recorded). No account has such an address, so
    addresses that share their first 255 characters may share a count.
    """
    value = (credentials or {}).get("username") or request.POST.get("auth-username")
    text = _UNSTORABLE.sub("", str(value or "")).strip().lower()
    return text[:AXES_USERNAME_MAX]
