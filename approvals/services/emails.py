"""The emails a data share request sends: to its requester (each kept in the
request's correspondence) and to the department's people working on it.

Every approvals service that tells someone calls these, so they sit below all
of them (casework, requests, the secretariat, aftercare and the case file).
"""

from django.conf import settings as django_settings

from approvals.models import Correspondence, DataShareRequest
from lrs_portal.models import User
from lrs_portal.services import notification_send


def tell_requester(request: DataShareRequest, subject: str, body: str) -> None:
    """Email the requester, and log the email in the request's correspondence."""
    notification_send(
        to=request.requester.email,
        subject=f"{request.reference}: {subject}",
        body=(
            f"{body}\n\nSee your request: "
            f"{django_settings.SERVICE_URL}{request.get_absolute_url()}"
        ),
        reference=f"approvals.{request.reference}.requester",
    )
    Correspondence.objects.create(
        request=request,
        direction=Correspondence.Direction.SENT,
        channel=Correspondence.Channel.EMAIL,
        subject=f"{request.reference}: {subject}"[:200],
        summary=body,
    )


def tell_staff(
    people: list[User], request: DataShareRequest, what: str, body: str
) -> None:
    """Email each of the department's people about the request."""
    for person in people:
        notification_send(
            to=person.email,
            subject=f"Data share request {request.reference}: {what}",
            body=body,
            reference=f"approvals.{request.reference}.staff",
        )
