"""Checking answers, submitting, and where a submitted application stands."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed, save_with_history
from registration.forms import DeclarationForm
from registration.models import (
    AgreementSignature,
    RegistrationApplication,
    SigningRequest,
)
from registration.services import (
    ApprovalBlocked,
    agreement_current_version,
    application_missing_sections,
    application_submit,
    signing_request_send,
)
from registration.services.agreements import SigningRefused
from registration.views.access import (
    editable_application,
    own_application,
    signed_in_user,
)
from registration.views.apply import SECTION_TITLES

S = RegistrationApplication.Status
TAG_COLOURS: dict[str, str] = {
    S.DRAFT: "govuk-tag--grey",
    S.SUBMITTED: "govuk-tag--blue",
    S.MORE_INFO_REQUESTED: "govuk-tag--yellow",
    S.APPROVED: "govuk-tag--green",
    S.REJECTED: "govuk-tag--red",
    S.WITHDRAWN: "govuk-tag--grey",
}


def current_signature(
    application: RegistrationApplication,
) -> AgreementSignature | None:
    """The nominated director's signature of the current agreement version, if any."""
    version = agreement_current_version()
    if version is None or not application.signing_director_appointment:
        return None
    return (
        AgreementSignature.objects.select_related("agreement_version")
        .filter(
            application=application,
            agreement_version=version,
            signing_request__director_appointment=(
                application.signing_director_appointment
            ),
        )
        .first()
    )


def pending_signing_request(
    application: RegistrationApplication,
) -> SigningRequest | None:
    return application.signing_requests.filter(
        used_at__isnull=True,
        cancelled_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


def _plain(reason: str) -> str:
    """A service's reason with section keys in words ("organisation_details")."""
    for key, title in SECTION_TITLES.items():
        reason = reason.replace(key, str(title))
    return reason


def _submit(
    application: RegistrationApplication, user: User, form: DeclarationForm
) -> RegistrationApplication | None:
    """Record the declaration and submit; on refusal nothing is kept."""
    try:
        with transaction.atomic():
            application.declaration_accepted_at = timezone.now()
            save_with_history(
                application,
                acting_user=user,
                reason="Declaration confirmed",
                fields=["declaration_accepted_at"],
            )
            return application_submit(application=application, acting_user=user)
    except ApprovalBlocked as exc:
        application.refresh_from_db()
        for reason in exc.reasons:
            form.add_error(None, _plain(reason))
        return None


def _send_signing_link(
    request: HttpRequest, application: RegistrationApplication, user: User
) -> None:
    if current_signature(application) is not None:
        return
    try:
        signing_request_send(acting_user=user, application=application)
    except SigningRefused as exc:
        messages.warning(
            request,
            _(
                "We could not email the director a link to sign the agreement: "
                "%(reason)s. Try again later from your application's page."
            )
            % {"reason": exc},
        )


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def check_answers(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    user = signed_in_user(request)
    missing = application_missing_sections(application)
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            submitted = _submit(application, user, form)
        except TransitionNotAllowed:  # submitted twice at once
            return redirect(application)
        if submitted is not None:
            _send_signing_link(request, submitted, user)
            return redirect("registration:submitted", submitted.reference)
    return render(
        request,
        "registration/apply_check_answers.html",
        {
            "form": form,
            "application": application,
            "accreditations": application.accreditations.all(),
            "missing": [SECTION_TITLES[key] for key in missing],
            "signature": current_signature(application),
        },
    )


@require_GET
@login_required
def submitted(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(signed_in_user(request), reference)
    if application.status != S.SUBMITTED:
        return redirect(application)
    return render(
        request,
        "registration/apply_submitted.html",
        {
            "application": application,
            "signature": current_signature(application),
            "pending": pending_signing_request(application),
        },
    )


@require_GET
@login_required
def application_status(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(signed_in_user(request), reference)
    missing = (
        application_missing_sections(application) if application.is_editable else []
    )
    return render(
        request,
        "registration/apply_status.html",
        {
            "application": application,
            "tag_colour": TAG_COLOURS.get(application.status, ""),
            "missing": [SECTION_TITLES[key] for key in missing],
            "signature": current_signature(application),
            "pending": pending_signing_request(application),
            "can_resend": _can_resend(application),
        },
    )


def _can_resend(application: RegistrationApplication) -> bool:
    return (
        application.status in (S.SUBMITTED, S.MORE_INFO_REQUESTED)
        and bool(application.signing_director_email)
        and current_signature(application) is None
    )


@require_POST
@login_required
def resend_signing_link(request: HttpRequest, reference: str) -> HttpResponse:
    user = signed_in_user(request)
    application = own_application(user, reference)
    if not _can_resend(application):
        raise Http404
    try:
        signing_request_send(acting_user=user, application=application)
    except SigningRefused as exc:
        messages.warning(
            request,
            _("We could not email the director a link: %(reason)s") % {"reason": exc},
        )
    else:
        messages.success(
            request,
            _(
                "We emailed %(email)s a new link to sign the agreement. Earlier "
                "links no longer work"
            )
            % {"email": application.signing_director_email},
        )
    return redirect(application)
