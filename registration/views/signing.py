"""The director's page, opened from the emailed single-use link: read and sign.

No sign-in: the link is the credential. It is never logged by us, never put in a
redirect, and the page after signing is rendered in place.
"""

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from lrs_portal.security import client_ip
from registration.forms import SignAgreementForm
from registration.models import SigningRequest
from registration.services import agreement_sign, signing_request_find
from registration.services.signing import (
    CodeLocked,
    CompaniesHouseNotAnswering,
    DirectorNotCurrent,
    SigningRefused,
    WrongCode,
)
from registration.views.access import link_expired, secret_link_page


def _organisation_name(signing_request: SigningRequest) -> str:
    subject = signing_request.organisation or signing_request.application
    return subject.legal_name if subject is not None else ""


def _refused(
    request: HttpRequest, signing_request: SigningRequest, *, why: str, status: int
) -> HttpResponse:
    response = render(
        request,
        "registration/sign_refused.html",
        {"why": why, "organisation_name": _organisation_name(signing_request)},
        status=status,
    )
    response._has_been_logged = True  # type: ignore[attr-defined]  # path has the token
    return response


@require_http_methods(["GET", "POST"])
@secret_link_page
def sign(request: HttpRequest, token: str) -> HttpResponse:
    signing_request = signing_request_find(token=token)
    if signing_request is None or not signing_request.is_usable:
        return link_expired(request, what="signing")
    form = SignAgreementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            signature = agreement_sign(
                token=token,
                typed_name=form.cleaned_data["typed_name"],
                code=form.cleaned_data["code"],
                confirmed=form.cleaned_data["confirmed"],
                # REMOTE_ADDR, or behind trusted proxies the address they saw.
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except DirectorNotCurrent as exc:
            return _refused(
                request, signing_request, why=str(exc), status=HTTPStatus.FORBIDDEN
            )
        except CodeLocked as exc:
            return _refused(
                request, signing_request, why=str(exc), status=HTTPStatus.GONE
            )
        except CompaniesHouseNotAnswering as exc:
            form.add_error(None, str(exc))
        except SigningRefused as exc:
            signing_request.refresh_from_db()
            if not signing_request.is_usable:  # used or cancelled meanwhile
                return link_expired(request, what="signing")
            form.add_error(
                "code" if isinstance(exc, WrongCode) else "typed_name", str(exc)
            )
        else:
            return render(
                request,
                "registration/sign_done.html",
                {
                    "signature": signature,
                    "organisation_name": _organisation_name(signing_request),
                },
            )
    return render(
        request,
        "registration/sign_agreement.html",
        {
            "form": form,
            "signing_request": signing_request,
            "version": signing_request.agreement_version,
            "organisation_name": _organisation_name(signing_request),
        },
    )
