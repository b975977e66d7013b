"""The requester's side: start, fill in, submit, answer, withdraw; and the one
function that changes a request's status."""

import re
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    Affiliation,
    DataShareRequest,
    RequestedDataset,
    Researcher,
    ResearchOrganisation,
)
from approvals.services.emails import tell_requester
from approvals.services.panel import votes_set_aside_for_affiliation
from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history, transition
from registration.services import ApprovalBlocked

S = DataShareRequest.Status
# Stage names are in docs/decisions/0011-data-share-approvals.md.
REQUEST_TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.RETURNED, S.ASSESSMENT, S.WITHDRAWN},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
    S.ASSESSMENT: {S.PANEL, S.WITHDRAWN},
    S.PANEL: {
        S.APPROVED,
        S.APPROVED_WITH_CONDITIONS,
        S.REJECTED,
        S.DEFERRED,
        S.WITHDRAWN,
    },
    S.DEFERRED: {S.PANEL, S.RETURNED, S.WITHDRAWN},
    # Closed straight away when the end date comes with nothing released.
    S.APPROVED: {S.RELEASED, S.CLOSED},
    S.APPROVED_WITH_CONDITIONS: {S.RELEASED, S.CLOSED},
    S.RELEASED: {S.CLOSING},
    S.CLOSING: {S.CLOSED},
    S.REJECTED: set(),
    S.CLOSED: set(),
    S.WITHDRAWN: set(),
}
ACADEMIC_YEAR = re.compile(r"^(20[0-9]{2})/([0-9]{2})$")
_REFERENCE_DIGITS = 5


class Refused(ApprovalBlocked):
    """A data share action refused; ``reasons`` says why, in plain words.

    A kind of registration's ApprovalBlocked, so the shared admin workflow pages
    show the reasons instead of an error page.
    """


def request_transition(
    *,
    request: DataShareRequest,
    to: str,
    acting_user: User,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> DataShareRequest:
    """The one function that changes a data share request's status (and so the
    day its current stage began, for the time targets)."""
    return transition(
        instance=request,
        to=to,
        allowed=REQUEST_TRANSITIONS,
        acting_user=acting_user,
        reason=reason,
        changes={"stage_entered_at": timezone.now(), **(changes or {})},
    )


def new_reference() -> str:
    while True:
        number = "".join(secrets.choice("0123456789") for _ in range(_REFERENCE_DIGITS))
        reference = f"DS{number}"
        if not DataShareRequest.objects.filter(reference=reference).exists():
            return reference


def requester_add(
    *, user: User, organisation: ResearchOrganisation, acting_user: User
) -> Affiliation:
    """Link a person to their research organisation as a requester for it."""
    existing = Affiliation.objects.filter(user=user).first()
    if existing is not None and existing.organisation_id != organisation.pk:
        raise Refused([f"{user} already works for {existing.organisation}"])
    with transaction.atomic():
        # History in the same transaction as the role's grant, even for an
        # affiliation already recorded, unless the grant changes nothing: the
        # nightly trail audit matches the group change to it (a grant with no
        # history is a change made outside the portal).
        granted = existing is not None and (
            user.groups.filter(name=roles.DSAP_REQUESTER).exists()
        )
        affiliation = existing if granted else None
        affiliation = affiliation or save_with_history(
            existing or Affiliation(user=user, organisation=organisation),
            acting_user=acting_user,
            reason="Requester added",
        )
        permissions.requester_permissions_grant(user=user, organisation=organisation)
        votes_set_aside_for_affiliation(
            user=user, organisation=organisation, acting_user=acting_user
        )
    return affiliation


def request_start(
    *, organisation: ResearchOrganisation, acting_user: User
) -> DataShareRequest:
    """Start a draft request for the requester's organisation."""
    if not permissions.organisations_requesting_for(acting_user).contains(organisation):
        raise PermissionError("You cannot request data for this organisation")
    request = DataShareRequest(
        reference=new_reference(), organisation=organisation, requester=acting_user
    )
    return save_with_history(request, acting_user=acting_user, reason="Started")


def _editable(request: DataShareRequest, acting_user: User) -> None:
    if not permissions.can_edit_request(acting_user, request):
        raise PermissionError("This request cannot be changed now")


def request_save_answers(
    *,
    request: DataShareRequest,
    acting_user: User,
    answers: dict[str, Any],
    section: str,
) -> DataShareRequest:
    """Save one section's answers to a draft (or returned) request."""
    _editable(request, acting_user)
    for field, value in answers.items():
        setattr(request, field, value)
    return save_with_history(
        request,
        acting_user=acting_user,
        reason=f"{section} saved",
        fields=list(answers),
    )


def dataset_add(
    *, request: DataShareRequest, acting_user: User, academic_year: str, tier: int
) -> RequestedDataset:
    """Add one NPD standard extract for one academic year."""
    _editable(request, acting_user)
    if request.datasets.filter(academic_year=academic_year).exists():
        raise Refused([f"You have already added {academic_year}"])
    dataset = RequestedDataset(request=request, academic_year=academic_year, tier=tier)
    return save_with_history(dataset, acting_user=acting_user, reason="Dataset added")


def dataset_remove(*, dataset: RequestedDataset, acting_user: User) -> None:
    """Remove a dataset from a draft request."""
    _editable(dataset.request, acting_user)
    dataset._history_user = acting_user  # type: ignore[attr-defined]
    dataset._change_reason = "Dataset removed"  # type: ignore[attr-defined]
    dataset.delete()


def researcher_add(
    *, request: DataShareRequest, acting_user: User, **details: Any
) -> Researcher:
    """Name a researcher who will use the data."""
    _editable(request, acting_user)
    if request.researchers.filter(email__iexact=details["email"]).exists():
        raise Refused([f"You have already added {details['email']}"])
    accredited = details.get("accreditation") != Researcher.Accreditation.NONE
    expires = details.get("accreditation_expires_on")
    if accredited:
        if expires is None:
            raise Refused(["Enter the date the accreditation expires"])
        if expires < timezone.localdate():
            raise Refused(["The accreditation has expired: it cannot be used"])
    researcher = Researcher(request=request, **details)
    return save_with_history(
        researcher, acting_user=acting_user, reason="Researcher added"
    )


def researcher_remove(*, researcher: Researcher, acting_user: User) -> None:
    """Remove a researcher from a draft request."""
    _editable(researcher.request, acting_user)
    researcher._history_user = acting_user  # type: ignore[attr-defined]
    researcher._change_reason = "Researcher removed"  # type: ignore[attr-defined]
    researcher.delete()


def request_missing_sections(request: DataShareRequest) -> list[str]:
    """The sections still to complete before the request can be submitted."""
    missing = []
    if not (request.project_title and request.summary and request.research_interest):
        missing.append("project")
    legal = request.legal_gateway and request.lawful_basis
    special = request.special_category is False or (
        request.special_category and request.special_category_condition
    )
    if not (legal and special):
        missing.append("legal")
    linkage = request.linkage is False or (request.linkage and request.linkage_detail)
    if not request.datasets.exists():
        missing.append("datasets")
    if not (linkage and request.records_expected):
        missing.append("data")
    direct = request.access_route == DataShareRequest.AccessRoute.DIRECT_SUPPLY
    if not request.access_route or (direct and not request.direct_supply_reason):
        missing.append("access")
    if not request.researchers.exists():
        missing.append("researchers")
    if not (request.start_date and request.end_date and request.retention_plan):
        missing.append("dates")
    return missing


def request_submit(
    *, request: DataShareRequest, acting_user: User, response: str = ""
) -> DataShareRequest:
    """Submit a complete request (again, with an answer, after a return)."""
    _editable(request, acting_user)
    missing = request_missing_sections(request)
    if missing:
        raise Refused([f"Complete the section: {name}" for name in missing])
    returned = request.status == S.RETURNED
    if returned and not response.strip():
        raise Refused(["Answer the request for information"])
    changes: dict[str, Any] = {"submitted_at": timezone.now()}
    if returned:
        changes["information_response"] = response
    # Imported here: casework imports this module.
    with transaction.atomic():
        request = request_transition(
            request=request,
            to=S.SUBMITTED,
            acting_user=acting_user,
            reason="Resubmitted with more information" if returned else "Submitted",
            changes=changes,
        )
        tell_requester(
            request,
            "request received",
            "We have received your data share request"
            + (" and your answer" if returned else "")
            + ". A caseworker will check that it is complete, then it goes to an "
            "independent assessor and the Data Sharing Approvals Panel.",
        )
    return request


def request_withdraw(
    *, request: DataShareRequest, acting_user: User
) -> DataShareRequest:
    """The requester's organisation withdraws its request before a decision."""
    if not permissions.requests_of_requester(acting_user).filter(pk=request.pk):
        raise PermissionError("Only the requesting organisation can withdraw it")
    if not request.can_be_withdrawn:
        raise Refused(["A request cannot be withdrawn once the panel has decided"])
    return request_transition(
        request=request,
        to=S.WITHDRAWN,
        acting_user=acting_user,
        reason="Withdrawn by the requester",
        changes={"withdrawn_at": timezone.now()},
    )
