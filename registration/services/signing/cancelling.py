"""Cancelling pending links: the one function that does it."""

from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration.models import Organisation, RegistrationApplication, SigningRequest


def signing_requests_cancel(
    *,
    acting_user: User | None,
    reason: str,
    application: RegistrationApplication | None = None,
    organisation: Organisation | None = None,
    requests: Iterable[SigningRequest] | None = None,
) -> int:
    """Cancel every pending link (and so its letter's code) of an application or an
    organisation (its applications' links too): on revocation, deregistration, a
    newer link or a change of director. Returns how many were cancelled."""
    if requests is None:
        match = Q()
        if application is not None:
            match |= Q(application=application)
        if organisation is not None:
            match |= Q(organisation=organisation) | Q(
                application__organisation=organisation
            )
        if not match:
            raise ValueError("Cancel the links of an application or an organisation")
        requests = (
            SigningRequest.objects.select_for_update(of=("self",))
            .filter(match, used_at__isnull=True, cancelled_at__isnull=True)
            .order_by("pk")
        )
    now = timezone.now()
    cancelled = 0
    for request in requests:
        request.cancelled_at = now
        save_with_history(
            request, acting_user=acting_user, reason=reason, fields=["cancelled_at"]
        )
        cancelled += 1
    return cancelled
