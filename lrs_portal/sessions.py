"""Database session engine whose rows carry the user id (SESSION_ENGINE).

Django's documented way to extend the database session backend:
https://docs.djangoproject.com/en/5.2/topics/http/sessions/#extending-database-backed-session-engines
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _


class SessionStore(DBStore):
    stored_expiry: datetime | None = None

    @classmethod
    def get_model_class(cls) -> Any:
        from lrs_portal.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        try:
            instance.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            instance.user_id = None
        return instance

    def _get_session_from_db(self) -> Any:
        # Remember when the stored session ends, for the timeout warning.
        row = super()._get_session_from_db()  # type: ignore[misc]
        self.stored_expiry = row.expire_date if row is not None else None
        return row


def session_seconds_left(request: HttpRequest) -> int:
    """Seconds until this request's session ends: the stored expiry date, or a
    full SESSION_COOKIE_AGE when this response saves the session (which sets a
    new one), as Django's database engine does."""
    session = request.session
    stored = getattr(session, "stored_expiry", None)
    if session.modified or stored is None:
        return int(session.get_expiry_age())
    return max(0, int((stored - timezone.now()).total_seconds()))


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    expires: str


def _days(seconds: int) -> str:
    return _("After %(days)s days") % {"days": f"{seconds // 86400:,}"}


def service_cookies() -> list[Cookie]:
    """The cookies the service sets, named as the settings name them (the cookies
    page lists these; all are strictly necessary, so none needs consent), in the
    language of the page asking."""
    found = [
        Cookie(
            settings.SESSION_COOKIE_NAME,
            _("Keeps you signed in as you move between pages"),
            _(
                "When you close your browser, or %(hours)s hours after you sign in "
                "if you stay signed in"
            )
            % {"hours": f"{settings.SESSION_COOKIE_AGE // 3600:,}"},
        ),
        Cookie(
            settings.CSRF_COOKIE_NAME,
            _(
                "Checks that a form you send came from this service, not from "
                "another website (it protects you from cross-site request forgery)"
            ),
            _days(settings.CSRF_COOKIE_AGE),
        ),
        Cookie(
            settings.LANGUAGE_COOKIE_NAME,
            _(
                "Remembers the language you chose (English or Cymraeg); set only "
                "when you choose one"
            ),
            _days(settings.LANGUAGE_COOKIE_AGE),
        ),
    ]
    if "Cookie" in settings.MESSAGE_STORAGE or "Fallback" in settings.MESSAGE_STORAGE:
        found.append(
            Cookie(
                "messages",
                _(
                    "Shows you a confirmation, such as “Invitation sent”, "
                    "on the next page you see"
                ),
                _("When that page has shown it"),
            )
        )
    if settings.TWO_FACTOR_REMEMBER_COOKIE_AGE:
        found.append(
            Cookie(
                getattr(
                    settings, "TWO_FACTOR_REMEMBER_COOKIE_PREFIX", "remember-cookie_"
                )
                + "*",
                _("Remembers that this browser has passed two-factor authentication"),
                _days(settings.TWO_FACTOR_REMEMBER_COOKIE_AGE),
            )
        )
    return found
