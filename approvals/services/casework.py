"""The department's triage of a data share request: back to the requester for
more information, accepted for assessment, an assessor assigned.
"""

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    DataShareRequest,
)
from approvals.services.emails import tell_requester, tell_staff
from approvals.services.requests import Refused, request_transition
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status


# --- triage ---------------------------------------------------------------------------


def request_return_for_information(
    *, request: DataShareRequest, acting_user: User, request_text: str
) -> DataShareRequest:
    """Send a request back to the requester, saying what is needed."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot triage this request")
    if not request_text.strip():
        raise Refused(["Say what information is needed"])
    with transaction.atomic():
        request = request_transition(
            request=request,
            to=S.RETURNED,
            acting_user=acting_user,
            reason=f"Returned for more information: {request_text}",
            changes={"information_requested": request_text, "information_response": ""},
        )
        tell_requester(request, "more information needed", request_text)
    return request


def request_accept_for_assessment(
    *, request: DataShareRequest, acting_user: User
) -> DataShareRequest:
    """Triage complete: the request goes to independent assessment."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot triage this request")
    return request_transition(
        request=request,
        to=S.ASSESSMENT,
        acting_user=acting_user,
        reason="Triage complete: ready for assessment",
    )


def request_assign_assessor(
    *,
    request: DataShareRequest,
    acting_user: User,
    assessor: User,
    no_conflict_declared: bool,
) -> DataShareRequest:
    """Assign an independent assessor, who has declared no conflict of interest."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot assign an assessor to this request")
    if not permissions.can_be_assessor(assessor, request):
        raise Refused(
            [
                f"{assessor} cannot assess this request: they must be an active "
                "assessor from outside the requesting organisation"
            ]
        )
    if not no_conflict_declared:
        raise Refused(["The assessor must declare that they have no conflict"])
    with transaction.atomic():
        previous = DataShareRequest.objects.select_for_update().get(pk=request.pk)
        if previous.status != S.ASSESSMENT:
            raise Refused(["Only a request being assessed can have an assessor"])
        if previous.assessor is not None:
            permissions.assessor_permissions_revoke(
                user=previous.assessor, request=previous
            )
        previous.assessor = assessor
        previous.assessor_no_conflict_declared_at = timezone.now()
        save_with_history(
            previous,
            acting_user=acting_user,
            reason=f"Assessor assigned: {assessor} (no conflict declared)",
            fields=["assessor", "assessor_no_conflict_declared_at"],
        )
        permissions.assessor_permissions_grant(user=assessor, request=previous)
        tell_staff(
            [assessor],
            previous,
            "you are its assessor",
            "Assess it against the Five Safes in the casework admin.",
        )
    return previous
