import copy
import hmac
import json
import uuid
from datetime import UTC, timedelta
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import device_classes
from two_factor import views as two_factor_views

from lrs_portal.forms import SignInBackupCodeForm, SignInCodeForm, SignInForm
from lrs_portal.health import run_checks
from lrs_portal.models import Notification
from lrs_portal.services import notification_receipt_record
from lrs_portal.sessions import service_cookies, session_seconds_left
from registration.models import Membership


def _has_confirmed_device(user: Any) -> bool:
    """django_otp.user_has_device in one query: a confirmed device of any kind
    (authenticator, backup codes), asked of every device table at once with
    UNION ALL, not one query a table (issue 21)."""
    found = [
        model.objects.devices_for_user(user, confirmed=True).values("pk").order_by()
        for model in device_classes()
    ]
    if not found:
        return False
    first, *rest = found
    return bool(first.union(*rest, all=True).exists())


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/start.html")


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    # The membership and its organisation in one query (issue 21).
    membership = (
        Membership.objects.select_related("organisation").filter(user=user.pk).first()
    )
    return render(
        request,
        "lrs_portal/account.html",
        {
            "membership": membership,
            "roles": user.role_names,  # type: ignore[union-attr]
            # Each group's English name, as the page's language writes it.
            "role_labels": [
                gettext(name)
                for name in user.role_names  # type: ignore[union-attr]
            ],
            "has_mfa_device": _has_confirmed_device(user),
            "mfa_verified": user.is_verified(),  # type: ignore[union-attr]
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    # The timeout warning posts reason=timeout when its countdown ends.
    timed_out = request.POST.get("reason") == "timeout"
    logout(request)
    return redirect("lrs_portal:timed-out" if timed_out else "lrs_portal:signed-out")


@require_GET
def timed_out(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lrs_portal/timed_out.html",
        {"still_signed_in": request.user.is_authenticated},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def stay_signed_in(request: HttpRequest) -> JsonResponse:
    """The timeout warning asks how long the session has left (GET) and, from its
    "Stay signed in" button, restarts it (POST, CSRF-checked)."""
    if not request.user.is_authenticated:
        # A problem document (RFC 9457), with the field the warning reads.
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "You are not signed in",
                "status": HTTPStatus.UNAUTHORIZED,
                "expires_in": 0,
            },
            status=HTTPStatus.UNAUTHORIZED,
            content_type="application/problem+json",
        )
    if request.method == "POST":
        request.session.modified = True  # saved with a new expiry date
    return JsonResponse({"expires_in": session_seconds_left(request)})


# --- the pages every GOV.UK service has ---------------------------------------------


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/accessibility_statement.html")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lrs_portal/privacy.html",
        {
            "log_months": settings.LEARNER_VIEW_RETENTION_MONTHS,
            "unused_account_days": settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS,
            "session_hours": _hours(settings.SESSION_COOKIE_AGE),
            "lockout_minutes": _minutes(settings.AXES_COOLOFF_TIME),
        },
    )


@require_GET
def cookies(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/cookies.html", {"cookies": service_cookies()})


@require_GET
def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/contact.html")


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    if rest or not hours:
        minutes = seconds // 60
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {
            "count": f"{minutes:,}"
        }
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {
        "count": f"{hours:,}"
    }


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/signed_out.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    overall, results = run_checks()
    failing = overall == "failing"
    return JsonResponse(
        {"status": overall, "checks": results},
        status=HTTPStatus.SERVICE_UNAVAILABLE if failing else HTTPStatus.OK,
    )


@csrf_exempt  # a server-to-server callback: the bearer token is its credential
@require_POST
def notify_receipt(request: HttpRequest) -> HttpResponse:
    """GOV.UK Notify's delivery receipt for one email (decision 0028)."""
    expected = settings.NOTIFY_CALLBACK_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        response = _problem(HTTPStatus.UNAUTHORIZED, "A valid bearer token is needed.")
        response["WWW-Authenticate"] = 'Bearer realm="notify"'
        return response
    receipt = _receipt(request.body)
    if receipt is None:
        return _problem(HTTPStatus.BAD_REQUEST, "Not a delivery receipt for an email.")
    notification = notification_receipt_record(**receipt)
    if notification is None:
        return _problem(HTTPStatus.NOT_FOUND, "No email of ours has that id.")
    return HttpResponse(status=HTTPStatus.NO_CONTENT)


def _receipt(body: bytes) -> dict[str, Any] | None:
    """The receipt's fields we record, or None when the body is not one."""
    try:
        data = json.loads(body)
        provider_id = str(uuid.UUID(data["id"]))
        reference = data.get("reference") or ""
        delivery = Notification.Delivery(data["status"])
        completed = data.get("completed_at")
        completed_at = parse_datetime(completed) if completed else None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    if not isinstance(reference, str) or len(reference) > 100:
        return None
    if completed and completed_at is None:  # not a date and time
        return None
    if data.get("notification_type", "email") != "email":
        return None
    if completed_at is not None and timezone.is_naive(completed_at):
        completed_at = completed_at.replace(tzinfo=UTC)
    return {
        "provider_id": provider_id,
        "reference": reference,
        "delivery": delivery,
        "completed_at": completed_at,
    }


def _problem(status: HTTPStatus, detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": "about:blank",
            "title": status.phrase,
            "status": status,
            "detail": detail,
        },
        status=status,
        content_type="application/problem+json",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=HTTPStatus.FORBIDDEN)


class SignInView(two_factor_views.LoginView):  # type: ignore[misc]
    """two_factor's sign-in wizard with GOV.UK-worded forms."""

    form_list = (
        ("auth", SignInForm),
        ("token", SignInCodeForm),
        ("backup", SignInBackupCodeForm),
    )

    def get_prefix(self, request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        return "sign_in"  # the management form's field prefix, stable across renames

    def get_form(self, step: str | None = None, **kwargs: Any) -> Any:
        # two_factor swaps in its own token form per device; keep our wording.
        form = super().get_form(step=step, **kwargs)
        if (step or self.steps.current) == self.TOKEN_STEP:
            form.otp_error_messages = SignInCodeForm.otp_error_messages
            form.fields["otp_token"] = copy.deepcopy(
                SignInCodeForm.base_fields["otp_token"]
            )
        return form


class QRCodeView(two_factor_views.QRGeneratorView):  # type: ignore[misc]
    """The set-up QR code, naming the service (not the host) as the issuer."""

    def get_issuer(self) -> str:
        return str(settings.OTP_TOTP_ISSUER)


_NOT_VALID = gettext_lazy("Entered token is not valid.")


class SetupView(two_factor_views.SetupView):  # type: ignore[misc]
    """two_factor's set-up wizard, following ``next`` only when it is a path: a
    bare word (``next=0000-00-00``) was taken for a URL name and answered 500
    (found by the hostile walk)."""

    def get_redirect_url(self) -> str:
        url = str(super().get_redirect_url())
        return url if url.startswith("/") else ""

    def get_form(self, step: str | None = None, **kwargs: Any) -> Any:
        # two_factor has no Welsh: its wrong-code message, in its own English
        # words, is put in this service's catalogue (decision 34).
        form = super().get_form(step=step, **kwargs)
        if (step or self.steps.current) == "generator":
            form.error_messages = {**form.error_messages, "invalid_token": _NOT_VALID}
        return form
