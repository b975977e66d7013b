"""The LRS agreement: published versions, signing links, signatures."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.models import (
    AgreementSignature,
    AgreementVersion,
    Organisation,
    RegistrationApplication,
    SigningRequest,
)
from registration.services.tokens import token_hash, token_new

SIGNING_LINK_LIFETIME = timedelta(days=7)


class SigningRefused(Exception):
    """The link cannot be used, or the signature does not match the director."""


def agreement_current_version() -> AgreementVersion | None:
    """The latest published agreement version, the one directors must sign."""
    return (
        AgreementVersion.objects.filter(published_at__isnull=False)
        .order_by("-number")
        .first()
    )


def signing_request_send(
    *,
    acting_user: User,
    application: RegistrationApplication | None = None,
    organisation: Organisation | None = None,
) -> SigningRequest:
    """Email the nominated director a single-use link to sign the current version.

    Any earlier unused link for the same application or organisation stops working.
    """
    subject = application or organisation
    if subject is None:
        raise ValueError("A signing request is for an application or an organisation")
    version = agreement_current_version()
    if version is None:
        raise SigningRefused("No agreement version has been published yet")
    token, hashed = token_new()
    with transaction.atomic():
        earlier = SigningRequest.objects.filter(
            application=application,
            organisation=organisation,
            used_at__isnull=True,
            cancelled_at__isnull=True,
        )
        for old in earlier:
            old.cancelled_at = timezone.now()
            save_with_history(
                old,
                acting_user=acting_user,
                reason="Replaced by a new link",
                fields=["cancelled_at"],
            )
        request = SigningRequest(
            application=application,
            organisation=organisation,
            agreement_version=version,
            director_name=subject.signing_director_name,
            director_appointment=subject.signing_director_appointment,
            email=subject.signing_director_email,
            token_hash=hashed,
            expires_at=signing_link_expiry(version=version, organisation=organisation),
        )
        save_with_history(request, acting_user=acting_user, reason="Signing link sent")
        link = settings.SERVICE_URL + reverse("registration:sign", args=[token])
        name = subject.legal_name
        notification_send(
            to=request.email,
            subject=f"Sign the Learning Records Service agreement for {name}",
            body=(
                f"{acting_user.full_name} named you as the director of {name} who "
                f"signs the Learning Records Service (LRS) agreement.\n\n"
                f"Read and sign version {version.number} of the agreement:\n{link}\n\n"
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


def agreement_sign(
    *,
    token: str,
    typed_name: str,
    confirmed: bool,
    ip_address: str,
    user_agent: str,
) -> AgreementSignature:
    """Record a director's signature through their single-use link."""
    from registration.companies_house import person_name_matches

    if not confirmed:
        raise SigningRefused("Confirm that you have read and agree to the agreement")
    with transaction.atomic():
        request = (
            SigningRequest.objects.select_for_update()
            .select_related("agreement_version")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if request is None or not request.is_usable:
            raise SigningRefused("This signing link has expired or has been used")
        closed = (
            RegistrationApplication.Status.REJECTED,
            RegistrationApplication.Status.WITHDRAWN,
        )
        if request.application is not None and request.application.status in closed:
            raise SigningRefused("This application is closed, so it cannot be signed")
        if not person_name_matches(typed_name, request.director_name):
            raise SigningRefused("Type your full name as it appears at Companies House")
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
        save_with_history(
            request, acting_user=None, reason=by_director, fields=["used_at"]
        )
        if request.organisation is not None:
            _organisation_signed(request.organisation, version, by_director)
    return signature


def _organisation_signed(
    organisation: Organisation, version: AgreementVersion, by_director: str
) -> None:
    """Record the signature on the organisation; a suspension for not signing
    ends now, through the suspension service (its email says access is back)."""
    from lrs_portal.models import system_user
    from registration.services.suspensions import suspensions_lift_signed

    organisation.last_signed_version = version
    save_with_history(
        organisation,
        acting_user=None,
        reason=f"{by_director} (version {version.number})",
        fields=["last_signed_version"],
    )
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
        requests = [
            signing_request_send(acting_user=acting_user, organisation=organisation)
            for organisation in agreement_publish_recipients()
        ]
    return requests
