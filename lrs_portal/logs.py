"""Structured logging: JSON lines with a request id, and no personal data."""

import re
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys that could carry personal data. They are dropped from every log event as a
# second layer: code should never log them in the first place.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "username",
        "ip",
        "ip_address",
        "user_email",
        "given_name",
        "family_name",
        "name",
        "date_of_birth",
        "postcode",
        "uln",
        "password",
    }
)


def _personal(key: str) -> bool:
    """A personal key, or one named after one (``learner_uln``, ``director_email``)."""
    return key in PERSONAL_KEYS or any(
        key.endswith(f"_{personal}") for personal in _SUFFIXED
    )


# Suffixes that mark a key as personal whatever comes before them. Not "name":
# ``logger_name`` and ``task_name`` are not personal.
_SUFFIXED = ("uln", "email", "postcode", "date_of_birth", "ip", "ip_address")


def drop_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Remove keys that may hold personal data from a log event."""
    for key in [key for key in event_dict if _personal(key)]:
        event_dict[key] = "[removed]"
    return event_dict


# Paths that carry a secret (password reset links) are logged without it.
_SECRET_PATHS = (
    re.compile(r"(/account/reset/)[^/\s]+/[^/\s]+/"),
    re.compile(r"(/agreement/sign/)[^/\s]+/"),
    re.compile(r"(/invitation/)[^/\s]+/"),
)


def redact_request(request: str) -> str:
    """Drop query strings and secret path segments from a logged "METHOD /path"."""
    request = request.split("?", 1)[0]
    for pattern in _SECRET_PATHS:
        request = pattern.sub(r"\1[redacted]/", request)
    return request


def redact_request_log(log_kwargs: dict[str, Any], **_: Any) -> None:
    """django-structlog signal receiver: redact the request line it logs."""
    if isinstance(log_kwargs.get("request"), str):
        log_kwargs["request"] = redact_request(log_kwargs["request"])


def user_agent_log(log_kwargs: dict[str, Any], request: Any = None, **_: Any) -> None:
    """django-structlog signal receiver: the user agent on ``request_finished``.

    ``request_started`` is logged at DEBUG (DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL),
    so with LOG_LEVEL=INFO a request is one line; this keeps the user agent that
    only the start line held (issue 21: two JSON lines a request was the
    request-logging middleware's main cost)."""
    if request is not None:
        log_kwargs.setdefault("user_agent", request.META.get("HTTP_USER_AGENT"))


def structured_logging(*, level: str, json: bool) -> dict[str, Any]:
    """Configure structlog and return the matching ``LOGGING`` dict."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Fields passed with logger.warning(..., extra={...}) reach the JSON too.
        structlog.stdlib.ExtraAdder(),
        drop_personal_data,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": shared,
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Axes logs client details at INFO; we keep only its warnings.
            "axes": {"level": "WARNING"},
        },
    }
