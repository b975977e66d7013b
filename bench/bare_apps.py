"""The baselines bench/request_cost.py serves under the same gunicorn as the portal.

    gunicorn --config gunicorn.conf.py --pythonpath bench bare_apps:wsgi
    gunicorn --config gunicorn.conf.py --pythonpath bench 'bare_apps:django()'

``wsgi`` is a WSGI callable and nothing else: what gunicorn itself costs.
``django()`` is one Django view behind the middleware `startproject` writes
(security, sessions, common, CSRF, authentication, messages, clickjacking),
with no database: what Django itself costs before any of the portal's work.
"""

from collections.abc import Callable, Iterable
from typing import Any

_BODY = b"ok"


def wsgi(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(_BODY)))],
    )
    return [_BODY]


def _ok(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(_BODY, content_type="text/plain")


urlpatterns: list[Any] = []


def django() -> Any:
    """A bare Django project of one view, configured here (no settings module)."""
    import secrets

    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.urls import path

    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        DATABASES={},
        USE_TZ=True,
    )
    urlpatterns.append(path("", _ok))
    return get_wsgi_application()
