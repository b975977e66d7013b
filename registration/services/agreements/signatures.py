"""A director's signature through their link and the letter's code: the
checks at signing, the signature recorded, and what it changes on the
organisation (its director, a suspension for not signing lifted)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.transitions import save_with_history
from registration.models import (
    AgreementSignature,
    AgreementVersion,
    Organisation,
    RegistrationApplication,
    SigningCode,
    SigningRequest,
)
from registration.services.agreements.links import signing_request_find
from registration.services.agreements.nominee import director_change_signed_notify
from registration.services.signing import (
    CodeLocked,
    DirectorNotCurrent,
    SigningRefused,
    WrongCode,
    director_verify,
    signing_code_try,
    signing_requests_cancel,
)

_CLOSED_APPLICATION = (
    RegistrationApplication.Status.REJECTED,
    RegistrationApplication.Status.WITHDRAWN,
)
_OFF_THE_REGISTER = (Organisation.Status.REVOKED, Organisation.Status.DEREGISTERED)


def _refuse_closed(request: SigningRequest) -> None:
    application, organisation = request.application, request.organisation
    if application is not None and application.status in _CLOSED_APPLICATION:
        raise SigningRefused(_("This application is closed, so it cannot be signed"))
    if organisation is not None and organisation.status in _OFF_THE_REGISTER:
        raise SigningRefused(
            _("This organisation is no longer registered, so it cannot be signed")
        )


def _company_number(request: SigningRequest) -> str:
    subject = request.organisation or request.application
    return subject.companies_house_number if subject is not None else ""


def _verify_at_signing(request: SigningRequest) -> None:
    """Ask Companies House again; a person no longer a director loses the link."""
    try:
        director_verify(
            company_number=_company_number(request),
            appointment=request.director_appointment,
        )
    except DirectorNotCurrent:
        with transaction.atomic():
            locked = SigningRequest.objects.select_for_update().get(pk=request.pk)
            signing_requests_cancel(
                acting_user=None,
                reason=(
                    f"Companies House no longer lists {request.director_name} as a "
                    "director who can sign"
                ),
                requests=[locked] if locked.is_usable else [],
            )
        raise


def agreement_sign(
    *,
    token: str,
    typed_name: str,
    code: str,
    confirmed: bool,
    ip_address: str,
    user_agent: str,
) -> AgreementSignature:
    """Record a director's signature through their single-use link and the code
    posted to them, once Companies House confirms they are still a director."""
    from registration.companies_house import person_name_matches

    if not confirmed:
        raise SigningRefused(_("Confirm that you have read and agree to the agreement"))
    found = signing_request_find(token=token)
    if found is None or not found.is_usable:
        raise SigningRefused(_("This signing link has expired or has been used"))
    _refuse_closed(found)
    if not person_name_matches(typed_name, found.director_name):
        raise SigningRefused(_("Type your full name as it appears at Companies House"))
    _verify_at_signing(found)
    with transaction.atomic():
        request = (
            SigningRequest.objects.select_for_update()
            .select_related("agreement_version")
            .get(pk=found.pk)
        )
        if not request.is_usable:
            raise SigningRefused(_("This signing link has expired or has been used"))
        by = request.director_name
        signing_code = (
            SigningCode.objects.select_for_update()
            .filter(signing_request=request)
            .first()
        )
        if signing_code is None or not signing_code.is_usable:
            raise CodeLocked(_("The code in your letter can no longer be used"))
        wrong = signing_code_try(signing_code=signing_code, entered=code, by=by)
        if not wrong:
            return _record_signature(request, typed_name, ip_address, user_agent)
    # The wrong try is committed before the refusal.
    if wrong == "locked":
        raise CodeLocked(_("You have entered a wrong code too many times"))
    raise WrongCode(wrong)


def _record_signature(
    request: SigningRequest, typed_name: str, ip_address: str, user_agent: str
) -> AgreementSignature:
    version = request.agreement_version
    signature = AgreementSignature(
        signing_request=request,
        agreement_version=version,
        text_hash=version.text_hash,
        application=request.application,
        organisation=request.organisation,
        typed_name=typed_name.strip(),
        director_name_at_companies_house=request.director_name,
        ip_address=ip_address,
        user_agent=user_agent[:500],
    )
    by_director = f"Signed by {request.director_name} through their link"
    save_with_history(signature, acting_user=None, reason=by_director)
    request.used_at = timezone.now()
    save_with_history(request, acting_user=None, reason=by_director, fields=["used_at"])
    if request.organisation is not None:
        organisation = request.organisation
        organisation.last_signed_version = version
        fields = ["last_signed_version"]
        changed = (
            request.director_appointment != organisation.signing_director_appointment
        )
        if changed:
            organisation.signing_director_name = request.director_name
            organisation.signing_director_appointment = request.director_appointment
            organisation.signing_director_email = request.email
            fields += [
                "signing_director_name",
                "signing_director_appointment",
                "signing_director_email",
            ]
        save_with_history(
            organisation,
            acting_user=None,
            reason=f"{by_director} (version {version.number})"
            + ("; now the signing director" if changed else ""),
            fields=fields,
        )
        if changed:
            director_change_signed_notify(organisation=organisation)
        _organisation_signed(organisation, version, by_director)
    return signature


def _organisation_signed(
    organisation: Organisation, version: AgreementVersion, by_director: str
) -> None:
    """A suspension for not signing ends now, through the suspension service
    (its email says access is back); the signature is already on the organisation."""
    from lrs_portal.models import system_user
    from registration.services.suspensions import suspensions_lift_signed

    suspensions_lift_signed(
        organisation=organisation,
        acting_user=system_user(),
        reason=f"{by_director}: version {version.number} of the agreement is signed",
    )
    organisation.refresh_from_db(fields=["status"])  # what the signed page says
