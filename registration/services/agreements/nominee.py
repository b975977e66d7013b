"""A newly nominated signing director (a change of signing director, issue
19): their link still to use, and the caseworkers' email once they have signed.

Below the links and signatures that read them; the nomination itself, which sends
a link, is registration.services.director_change's.
"""

from django.conf import settings
from django.urls import reverse

from lrs_portal import roles
from lrs_portal.services import notification_send_to_role
from registration.models import Organisation, SigningRequest


def director_nomination_pending(organisation: Organisation) -> SigningRequest | None:
    """A usable link for a nominated director who is not yet the signing director."""
    request = (
        organisation.signing_requests.filter(used_at__isnull=True, cancelled_at=None)
        .exclude(director_appointment=organisation.signing_director_appointment)
        .order_by("-created_at")
        .first()
    )
    return request if request is not None and request.is_usable else None


def organisation_admin_link(organisation: Organisation) -> str:
    return settings.SERVICE_URL + reverse(
        "admin:registration_organisation_change", args=[organisation.pk]
    )


def director_change_signed_notify(*, organisation: Organisation) -> None:
    """Tell caseworkers a newly nominated director has signed and is now on record."""
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"Signing director changed: {organisation.legal_name}",
        body=(
            f"{organisation.signing_director_name} signed the LRS agreement for "
            f"{organisation} and is now its signing director.\n\n"
            f"The organisation: {organisation_admin_link(organisation)}"
        ),
        reference="agreement.director_changed",
    )
