"""The LRS agreement: published versions, signing links, signatures."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.services import notification_send, notification_send_to_role
from lrs_portal.transitions import save_with_history
from registration.models import (
    AgreementSignature,
    AgreementVersion,
    Organisation,
    RegistrationApplication,
    SigningCode,
    SigningRequest,
)
from registration.services.director_change import (
    director_change_signed_notify,
    director_nomination_pending,
)
from registration.services.signing import (
    CodeLocked,
    DirectorNotCurrent,
    WrongCode,
    director_email_check,
    director_verify,
    signing_code_post,
    signing_code_try,
    signing_requests_cancel,
)
from registration.services.signing import (
    SigningRefused as SigningRefused,  # callers catch it from here
)
from registration.services.tokens import token_hash, token_new

# As long as the letter's code (registration.services.signing.CODE_LIFETIME): the
# letter takes up to 5 working days, so a shorter link could die before it came.
SIGNING_LINK_LIFETIME = timedelta(days=14)


def agreement_current_version() -> AgreementVersion | None:
    """The latest published agreement version, the one directors must sign."""
    return (
        AgreementVersion.objects.filter(published_at__isnull=False)
        .order_by("-number")
        .first()
    )


def _director_of(
    subject: RegistrationApplication | Organisation,
) -> tuple[str, str]:
    """The appointment and email a new link is for: the subject's director, or for
    an organisation a newly nominated director still to sign."""
    if isinstance(subject, Organisation):
        nominee = director_nomination_pending(subject)
        if nominee is not None:
            return nominee.director_appointment, nominee.email
    return subject.signing_director_appointment, subject.signing_director_email


def signing_request_send(
    *,
    acting_user: User,
    application: RegistrationApplication | None = None,
    organisation: Organisation | None = None,
    appointment: str | None = None,
    email: str | None = None,
) -> SigningRequest:
    """Email the director a single-use link to sign the current version, and post
    them its one-time code, once Companies House confirms they are a director.

    The director is the subject's own unless ``appointment`` and ``email`` name a
    new one (a change of signing director). Every earlier pending link of the same
    application or organisation stops working.
    """
    subject = application or organisation
    if subject is None:
        raise ValueError("A signing request is for an application or an organisation")
    version = agreement_current_version()
    if version is None:
        raise SigningRefused(_("No agreement version has been published yet"))
    if appointment is None or email is None:
        appointment, email = _director_of(subject)
    try:
        director_email_check(subject=subject, email=email)
    except ValidationError as exc:
        raise SigningRefused(exc.messages[0]) from exc
    # Outside the transaction: this may call Companies House.
    officer = director_verify(
        company_number=subject.companies_house_number, appointment=appointment
    )
    token, hashed = token_new()
    with transaction.atomic():
        signing_requests_cancel(
            acting_user=acting_user,
            reason="Replaced by a new link",
            application=application,
            organisation=organisation,
        )
        request = SigningRequest(
            application=application,
            organisation=organisation,
            agreement_version=version,
            director_name=officer.name,
            director_appointment=officer.appointment,
            email=email.strip().lower(),
            token_hash=hashed,
            expires_at=signing_link_expiry(version=version, organisation=organisation),
        )
        save_with_history(request, acting_user=acting_user, reason="Signing link sent")
        signing_code_post(
            signing_request=request, officer=officer, acting_user=acting_user
        )
        link = settings.SERVICE_URL + reverse("registration:sign", args=[token])
        name = subject.legal_name
        notification_send(
            to=request.email,
            subject=f"Sign the Learning Records Service agreement for {name}",
            body=(
                f"{acting_user.full_name} named you as the director of {name} who "
                f"signs the Learning Records Service (LRS) agreement.\n\n"
                f"Read and sign version {version.number} of the agreement:\n{link}\n\n"
                "To sign you also need the code in the letter we are posting to your "
                "correspondence address at Companies House. It should arrive within "
                "5 working days.\n\n"
                f"The link works once and expires on "
                f"{timezone.localtime(request.expires_at):%d %B %Y at %H:%M}.\n"
                "If you were not expecting this, do not use the link and tell the "
                "Department for Education."
            ),
            reference="agreement.signing_link",
        )
    return request


def signing_link_expiry(
    *, version: AgreementVersion, organisation: Organisation | None
) -> datetime:
    """A link lasts SIGNING_LINK_LIFETIME, and an organisation's re-signing link
    at least until the end of the version's re-sign deadline (UK time): a link
    must not die before the day access ends."""
    expires_at = timezone.now() + SIGNING_LINK_LIFETIME
    deadline = version.resign_deadline
    if organisation is None or deadline is None:
        return expires_at
    end_of_deadline = timezone.make_aware(
        datetime.combine(deadline + timedelta(days=1), time.min)
    )
    return max(expires_at, end_of_deadline)


def signing_request_find(*, token: str) -> SigningRequest | None:
    """The signing request for a link's token, whether or not it is still usable."""
    return (
        SigningRequest.objects.select_related("agreement_version")
        .filter(token_hash=token_hash(token))
        .first()
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


# Organisations that hold (or are suspended from) LRS access must sign each new
# version. Revoked and deregistered ones sign again through re-registration.
MUST_SIGN = (Organisation.Status.REGISTERED, Organisation.Status.SUSPENDED)


def agreement_must_sign(organisation: Organisation) -> bool:
    """Whether the organisation must sign the current version, whatever its state
    on the register (a suspended one included)."""
    return organisation.status in MUST_SIGN


def agreement_signers() -> QuerySet[Organisation]:
    """Every organisation that must sign a new version."""
    return Organisation.objects.filter(status__in=MUST_SIGN)


def agreement_publish_recipients() -> QuerySet[Organisation]:
    """Organisations whose director is emailed when a new version is published."""
    return agreement_signers().exclude(signing_director_email="")


def agreement_version_publish(
    *,
    version: AgreementVersion,
    acting_user: User,
    resign_deadline: date | None = None,
    immediately_reason: str = "",
) -> list[SigningRequest]:
    """Publish a version; every organisation that must sign gets a link.

    It needs a re-sign deadline in the future, or an explicit reason to cut off
    at once every organisation that has not signed it (never by omission)."""
    if version.published_at is not None:
        raise SigningRefused("This version is already published")
    immediately_reason = immediately_reason.strip()
    if resign_deadline is None and not immediately_reason:
        raise SigningRefused(
            "Enter the date by which organisations must sign, or say why they must "
            "sign immediately"
        )
    if resign_deadline is not None and immediately_reason:
        raise SigningRefused("Choose a deadline or immediately, not both")
    if resign_deadline is not None and resign_deadline <= timezone.localdate():
        raise SigningRefused("The re-sign deadline must be in the future")
    with transaction.atomic():
        version.published_at = timezone.now()
        version.published_by = acting_user
        version.resign_deadline = resign_deadline
        version.resign_immediately_reason = immediately_reason
        when = (
            f"re-sign by {resign_deadline:%d %B %Y}"
            if resign_deadline
            else f"re-sign immediately: {immediately_reason}"
        )
        save_with_history(
            version,
            acting_user=acting_user,
            reason=f"Published ({when})",
            fields=[
                "published_at",
                "published_by",
                "resign_deadline",
                "resign_immediately_reason",
            ],
        )
        requests, refused = [], []
        for organisation in agreement_publish_recipients():
            try:
                requests.append(
                    signing_request_send(
                        acting_user=acting_user, organisation=organisation
                    )
                )
            except SigningRefused as exc:  # e.g. the director left: not for all
                refused.append(f"- {organisation}: {exc}")
        if refused:
            _tell_caseworkers_unsent(version, refused)
    return requests


def _tell_caseworkers_unsent(version: AgreementVersion, refused: list[str]) -> None:
    lines = "\n".join(refused)
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"Agreement version {version.number}: some directors got no link",
        body=(
            f"Version {version.number} was published, but these organisations' "
            f"directors could not be sent a signing link:\n\n{lines}\n\n"
            "Their super user can nominate a current director from the portal, or "
            "you can send a link from the organisation's admin page."
        ),
        reference="agreement.links_not_sent",
    )
