from collections.abc import Callable
from http import HTTPStatus

import kombu.exceptions
import redis.exceptions
import structlog
from csp.constants import UNSAFE_INLINE
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import OperationalError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.shortcuts import redirect, render
from django.template import loader
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from two_factor.utils import default_device

Handler = Callable[[HttpRequest], HttpResponseBase]

# Pages a signed-in person who still owes a second factor may reach.
_MFA_EXEMPT_URL_NAMES = (
    "two_factor:login",
    "two_factor:setup",
    "two_factor:qr",
    "two_factor:setup_complete",
    "lrs_portal:sign-out",
    "lrs_portal:signed-out",
    "lrs_portal:healthz",
)


class RequireMFAMiddleware:
    """Staff and department roles use the service only after verifying a second factor.

    Without an authenticator they are sent to set one up; with one, back to sign
    in, where two_factor asks for the code. (Backup codes alone do not count:
    two_factor only asks for a code when there is a default device.)
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._exempt: tuple[str, ...] | None = None

    def _exempt_paths(self) -> tuple[str, ...]:
        if self._exempt is None:
            self._exempt = tuple(reverse(name) for name in _MFA_EXEMPT_URL_NAMES)
        return self._exempt

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and user.requires_mfa
            and request.path not in self._exempt_paths()
            and not request.path.startswith("/static/")
        ):
            if default_device(user):
                # A session that never verified: sign in again, this time with the code.
                logout(request)
                return redirect_to_login(request.get_full_path())
            return redirect("two_factor:setup")
        return self.get_response(request)


class AdminAddOnStylesMiddleware:
    """Allow inline styles on admin pages only.

    guardian's and simple-history's admin templates use ``style=`` attributes;
    scripts stay nonce-only everywhere, public pages keep the strict policy.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_update = {"style-src": [UNSAFE_INLINE]}  # type: ignore[attr-defined]
        return response


class RequestIdHeaderMiddleware:
    """Expose django-structlog's request id on the request and in a response header.

    Support staff can then match what a user reports to the log lines.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = structlog.contextvars.get_contextvars().get("request_id", "")
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        if request_id:
            response["X-Request-ID"] = request_id
        return response


class MethodNotAllowedPageMiddleware:
    """A GOV.UK page for 405 (Django's ``require_POST`` answers an empty body).

    Someone who opens a button's address (``/learners/record/`` after a reload or
    from a bookmark) sees what happened and what to do next: the page
    ``templates/405/<namespace>/<url name>.html`` for that address, else the
    general one. The status stays 405.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code != HTTPStatus.METHOD_NOT_ALLOWED:
            return response
        if response.streaming or response.content:  # type: ignore[attr-defined]
            return response
        match = request.resolver_match
        names = ["405.html"]
        if match is not None and match.namespace and match.url_name:
            # What to do instead, for each address a button posts to.
            names.insert(0, f"405/{match.namespace}/{match.url_name}.html")
        page = render(
            request,
            select_template(names).template.name,
            {"url_kwargs": match.kwargs if match else {}},
            status=HTTPStatus.METHOD_NOT_ALLOWED,
        )
        page["Allow"] = response.get("Allow", "")
        return page


# What a busy or unreachable backing service raises: a statement cancelled by
# DATABASE_STATEMENT_TIMEOUT_MS (psycopg's QueryCanceled), PostgreSQL gone, Redis
# not answering within REDIS_SOCKET_TIMEOUT_SECONDS.
_UNAVAILABLE = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
_logger = structlog.get_logger(__name__)


class DatabaseUnavailableMiddleware:
    """A clear 503 page, not a 500, when the database or Redis is too slow or
    gone. The view's transaction has rolled back by then, so nothing it read was
    shown and nothing it wrote (a log row) was kept. Rendered with no request, like
    500.html, because the failure may be the database itself (decision 26)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, _UNAVAILABLE):
            return None
        cause = exception.__cause__ or exception
        _logger.warning("service_unavailable", error=cause.__class__.__name__)
        status = HTTPStatus.SERVICE_UNAVAILABLE
        response: HttpResponse
        if request.path.startswith("/api/"):
            # A problem document like every other API refusal (the schema's
            # Problem: type, title, status, detail and a code).
            from records.api.problems import problem, problem_json

            response = problem_json(
                problem(
                    status=status,
                    detail="The service is busy just now, so nothing was looked "
                    "up or logged. Try again after the Retry-After seconds.",
                    code="service_unavailable",
                )
            )
        else:
            response = HttpResponse(loader.render_to_string("503.html"), status=status)
        response["Retry-After"] = "30"
        return response


class LocaleMiddleware(DjangoLocaleMiddleware):
    """English or Welsh for the public and provider pages; English always for the
    casework admin and the web service (docs/decisions/0034).

    Django ships Welsh for its own admin, which beside this service's English
    admin pages would give caseworkers a page in two languages; and a provider
    system's Accept-Language must not change the words of the API's problem
    documents, which its developers match on."""

    ENGLISH_ONLY = ("/admin/", "/api/")

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(self.ENGLISH_ONLY):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LanguageSwitchMiddleware:
    """The language switcher (templates/includes/language_select.html) posts
    ``switch_language`` to the page it is on; this remembers the choice and
    sends the person back to that page, before its view runs (docs/decisions/0034).

    Posting to the page itself, rather than to a switcher address with the page
    as ``next``, keeps a signing or invitation link's token out of the page's
    HTML (the form has no action) and out of every other address. After the CSRF
    check (its process_view runs first), so a forged post changes nothing. The
    casework admin and the API are English only and are left alone."""

    FIELD = "switch_language"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponseBase | None:
        if request.method != "POST" or request.path_info.startswith(
            LocaleMiddleware.ENGLISH_ONLY
        ):
            return None
        if request.content_type not in _FORM_TYPES:
            return None  # JSON and the like: no form field to read
        code = request.POST.get(self.FIELD)
        if code is None:
            return None
        back = request.get_full_path()
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = "/"
        response = HttpResponseRedirect(back)
        if code in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                code,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
            )
        return response
