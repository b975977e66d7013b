"""Signing links: sending one to the director (with the letter's code), how
long it lasts, and finding it by its token."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.models import (
    AgreementVersion,
    Organisation,
    RegistrationApplication,
    SigningRequest,
)
from registration.services.agreements.nominee import director_nomination_pending
from registration.services.agreements.versions import agreement_current_version
from registration.services.signing import (
    SigningRefused,
    director_email_check,
    director_verify,
    signing_code_post,
    signing_requests_cancel,
)
from registration.services.tokens import token_hash, token_new

# As long as the letter's code (registration.services.signing.CODE_LIFETIME): the
# letter takes up to 5 working days, so a shorter link could die before it came.
SIGNING_LINK_LIFETIME = timedelta(days=14)


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
