"""Publishing a new agreement version: its re-sign deadline (or why at once),
a link to every organisation that must sign, and the caseworkers told of those
that could not be sent one."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.services import notification_send_to_role
from lrs_portal.transitions import save_with_history
from registration.models import AgreementVersion, SigningRequest
from registration.services.agreements.links import signing_request_send
from registration.services.agreements.versions import agreement_publish_recipients
from registration.services.signing import SigningRefused


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
