"""The rate limit per API client: API_RATE_LIMIT_PER_SECOND requests a second.

Counted in the cache with an atomic increment (Redis in production), so every
gunicorn worker on every host counts against the same number; one key per client
per second, which expires by itself. A second boundary can let through up to
twice the limit in a moment straddling it: the real-time caps, counted in the
database inside each lookup's transaction, are the control on volume; this one
keeps one client from crowding out the others.
"""

import math
import time
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = structlog.get_logger(__name__)
KEY_LIFETIME_SECONDS = 5


class RateLimitUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = (
        "The service cannot count requests just now, so it is not answering them. "
        "Try again in a minute."
    )
    default_code = "rate_limit_unavailable"
    wait = 60


def _client_key(request: Request) -> str:
    client = request.auth
    client_id = getattr(client, "pk", None)
    if client_id is not None:
        return f"client:{client_id}"
    return f"user:{getattr(request.user, 'pk', '')}"


class ApiClientRateThrottle(BaseThrottle):
    """At most API_RATE_LIMIT_PER_SECOND calls in each second, per client."""

    def __init__(self) -> None:
        self._wait = 1.0

    def allow_request(self, request: Request, view: Any) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return True  # refused already, by authentication or permission
        now = time.time()
        second = math.floor(now)
        key = f"api-rate:{_client_key(request)}:{second}"
        try:
            cache.add(key, 0, timeout=KEY_LIFETIME_SECONDS)
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this is its first call
            cache.add(key, 1, timeout=KEY_LIFETIME_SECONDS)
            count = 1
        except Exception:  # the cache is down: refuse rather than not count
            logger.exception("api_rate_limit_unavailable")
            raise RateLimitUnavailable from None
        self._wait = second + 1 - now
        return bool(count <= settings.API_RATE_LIMIT_PER_SECOND)

    def wait(self) -> float:
        return self._wait
