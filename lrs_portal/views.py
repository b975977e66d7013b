import copy
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp import user_has_device
from two_factor import views as two_factor_views

from lrs_portal.forms import SignInBackupCodeForm, SignInCodeForm, SignInForm
from lrs_portal.health import run_checks


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "lrs_portal/start.html")


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "lrs_portal/account.html",
        {
            "roles": user.role_names,  # type: ignore[union-attr]
            "has_mfa_device": user_has_device(user),
            "mfa_verified": user.is_verified(),  # type: ignore[union-attr]
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("lrs_portal:signed-out")


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
