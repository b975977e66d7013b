"""The case file of a request (decision 17): internal notes, attachments (PDF in
private storage), the correspondence log, the public summary; after approval,
amendments and extensions as their own requests, and annual reviews."""

from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    AnnualReview,
    CaseAttachment,
    CaseNote,
    Correspondence,
    DataShareRequest,
    PublicSummary,
    RequestedDataset,
    Researcher,
)
from approvals.services.conditions import conditions_unmet
from approvals.services.emails import tell_requester
from approvals.services.requests import (
    Refused,
    new_reference,
    request_transition,
)
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status
PDF_MAGIC = b"%PDF-"


def _keeper(request: DataShareRequest, acting_user: User) -> None:
    if not permissions.can_keep_case_file(acting_user, request):
        raise PermissionError("You cannot change this request's case file")


def note_add(*, request: DataShareRequest, acting_user: User, text: str) -> CaseNote:
    """An internal note: never shown to the requester."""
    _keeper(request, acting_user)
    if not text.strip():
        raise Refused(["Write the note"])
    note = CaseNote(request=request, text=text, author=acting_user)
    return save_with_history(note, acting_user=acting_user, reason="Note added")


def attachment_problems(upload: UploadedFile) -> list[str]:
    """Why an upload is refused: too big, empty, or not a PDF by its content."""
    limit = settings.DSAP_ATTACHMENT_MAX_MB * 1024 * 1024
    size = upload.size or 0
    if size == 0:
        return ["The selected file is empty"]
    if size > limit:
        mb = settings.DSAP_ATTACHMENT_MAX_MB
        return [f"The selected file must be smaller than {mb}MB"]
    upload.seek(0)
    header = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if header != PDF_MAGIC:  # the content decides, not the name or the browser
        return ["The selected file must be a PDF"]
    return []


def attachment_add(
    *,
    request: DataShareRequest,
    acting_user: User,
    kind: str,
    upload: UploadedFile,
    description: str = "",
) -> CaseAttachment:
    """Keep a PDF on the case file, in private storage under a name we choose."""
    _keeper(request, acting_user)
    problems = attachment_problems(upload)
    if kind not in CaseAttachment.Kind.values:
        problems.append("Choose what the document is")
    if problems:
        raise Refused(problems)
    attachment = CaseAttachment(
        request=request,
        kind=kind,
        description=description,
        size=upload.size or 0,
        uploaded_by=acting_user,
    )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    attachment.document.save(
        f"{request.reference}-{kind}-{stamp}.pdf", upload, save=False
    )
    label = CaseAttachment.Kind(kind).label
    return save_with_history(
        attachment, acting_user=acting_user, reason=f"Attached: {label}"
    )


def attachment_name(attachment: CaseAttachment) -> str:
    return PurePosixPath(attachment.document.name).name


def correspondence_log(
    *,
    request: DataShareRequest,
    acting_user: User,
    direction: str,
    channel: str,
    subject: str,
    summary: str,
    occurred_at: datetime,
) -> Correspondence:
    """Log a letter, call, meeting or email with the requester."""
    _keeper(request, acting_user)
    problems = []
    if direction not in Correspondence.Direction.values:
        problems.append("Choose whether it was sent or received")
    if channel not in Correspondence.Channel.values:
        problems.append("Choose how it was sent")
    if not subject.strip():
        problems.append("Give a subject")
    if occurred_at > timezone.now():
        problems.append("The date must be today or in the past")
    if problems:
        raise Refused(problems)
    entry = Correspondence(
        request=request,
        direction=direction,
        channel=channel,
        subject=subject,
        summary=summary,
        occurred_at=occurred_at,
        recorded_by=acting_user,
    )
    return save_with_history(
        entry, acting_user=acting_user, reason="Correspondence logged"
    )


# --- the public register ------------------------------------------------------------


def public_summary_write(
    *, request: DataShareRequest, acting_user: User, text: str
) -> PublicSummary:
    """Write the plain summary the register will show; it needs approval again."""
    _keeper(request, acting_user)
    if not text.strip():
        raise Refused(["Write the summary for the public register"])
    with transaction.atomic():
        summary = PublicSummary.objects.select_for_update().filter(
            request=request
        ).first() or PublicSummary(request=request)
        summary.text = text
        summary.written_by = acting_user
        summary.approved_by = None
        summary.approved_at = None
        return save_with_history(
            summary, acting_user=acting_user, reason="Public summary written"
        )


def public_summary_approve(
    *, request: DataShareRequest, acting_user: User
) -> PublicSummary:
    """A second caseworker approves the summary for publication (four eyes)."""
    _keeper(request, acting_user)
    with transaction.atomic():
        summary = (
            PublicSummary.objects.select_for_update().filter(request=request).first()
        )
        if summary is None:
            raise Refused(["Write the public summary first"])
        if summary.approved_at is not None:
            raise Refused(["The public summary is already approved"])
        if summary.written_by_id == acting_user.pk:
            raise Refused(["Another caseworker must approve the summary you wrote"])
        summary.approved_by = acting_user
        summary.approved_at = timezone.now()
        return save_with_history(
            summary,
            acting_user=acting_user,
            reason="Public summary approved for publication",
            fields=["approved_by", "approved_at"],
        )


# --- after approval -----------------------------------------------------------------

_COPIED = (
    "project_title",
    "summary",
    "research_interest",
    "legal_gateway",
    "lawful_basis",
    "special_category",
    "special_category_condition",
    "linkage",
    "linkage_detail",
    "records_expected",
    "access_route",
    "direct_supply_reason",
    "start_date",
    "end_date",
    "retention_plan",
)


def change_start(
    *, share: DataShareRequest, acting_user: User, kind: str
) -> DataShareRequest:
    """The requester asks to amend or extend a live share: a new draft request,
    copied from the share, that goes through assessment and decision."""
    if not permissions.requests_of_requester(acting_user).filter(pk=share.pk):
        raise PermissionError("Only the requesting organisation changes its share")
    if share.status not in (S.APPROVED, S.APPROVED_WITH_CONDITIONS, S.RELEASED):
        raise Refused(["Only a live share can be amended or extended"])
    if kind not in DataShareRequest.ChangeKind.values:
        raise Refused(["Choose an amendment or an extension"])
    if share.changes.exclude(status__in=[S.CLOSED, S.REJECTED, S.WITHDRAWN]).exists():
        raise Refused(["A change to this share is already open: finish it first"])
    values: dict[str, Any] = {field: getattr(share, field) for field in _COPIED}
    with transaction.atomic():
        change = save_with_history(
            DataShareRequest(
                reference=new_reference(),
                organisation=share.organisation,
                requester=acting_user,
                change_of=share,
                change_kind=kind,
                **values,
            ),
            acting_user=acting_user,
            reason=f"{DataShareRequest.ChangeKind(kind).label} of {share.reference}",
        )
        for dataset in share.datasets.all():
            RequestedDataset.objects.create(
                request=change, academic_year=dataset.academic_year, tier=dataset.tier
            )
        for researcher in share.researchers.all():
            Researcher.objects.create(
                request=change,
                full_name=researcher.full_name,
                email=researcher.email,
                accreditation=researcher.accreditation,
                accreditation_number=researcher.accreditation_number,
                accreditation_expires_on=researcher.accreditation_expires_on,
            )
    return change


def change_apply(*, change: DataShareRequest, acting_user: User) -> DataShareRequest:
    """A caseworker applies an approved change to its share: the new end date,
    and the datasets and researchers added; the change request then closes."""
    share = change.change_of
    if share is None:
        raise Refused(["This request is not a change to a share"])
    if not permissions.can_release(acting_user, share):
        raise PermissionError("You cannot change this share")
    with transaction.atomic():
        # Judged on both requests as they are now, under their row locks.
        change = DataShareRequest.objects.select_for_update().get(pk=change.pk)
        share = DataShareRequest.objects.select_for_update().get(pk=share.pk)
        _change_refusals(change, share)
        reason = f"{change.get_change_kind_display()} {change.reference} applied"
        share.end_date = change.end_date
        if change.change_kind == DataShareRequest.ChangeKind.AMENDMENT:
            _amend(share, change, acting_user, reason)
        save_with_history(share, acting_user=acting_user, reason=reason)
        change = request_transition(
            request=change,
            to=S.CLOSED,
            acting_user=acting_user,
            reason=f"Applied to {share.reference}",
            changes={"closed_at": timezone.now()},
        )
        tell_requester(share, "change approved and applied", f"{reason}.")
    return change


def _change_refusals(change: DataShareRequest, share: DataShareRequest) -> None:
    if not change.is_approved:
        raise Refused(["Only an approved change is applied"])
    unmet = [
        f"The condition of approval is not yet met: {condition.text}"
        for condition in conditions_unmet(change)
    ]
    if unmet:  # the change's own conditions, as a release needs the share's
        raise Refused(unmet)
    if share.status not in (S.APPROVED, S.APPROVED_WITH_CONDITIONS, S.RELEASED):
        raise Refused([f"{share.reference} is no longer live"])


def _amend(
    share: DataShareRequest, change: DataShareRequest, acting_user: User, reason: str
) -> None:
    years = set(share.datasets.values_list("academic_year", flat=True))
    for dataset in change.datasets.exclude(academic_year__in=years):
        save_with_history(
            RequestedDataset(
                request=share, academic_year=dataset.academic_year, tier=dataset.tier
            ),
            acting_user=acting_user,
            reason=reason,
        )
    emails = {e.lower() for e in share.researchers.values_list("email", flat=True)}
    for researcher in change.researchers.all():
        if researcher.email.lower() in emails:
            continue
        save_with_history(
            Researcher(
                request=share,
                full_name=researcher.full_name,
                email=researcher.email,
                accreditation=researcher.accreditation,
                accreditation_number=researcher.accreditation_number,
                accreditation_expires_on=researcher.accreditation_expires_on,
            ),
            acting_user=acting_user,
            reason=reason,
        )
    share.summary = change.summary
    share.research_interest = change.research_interest


def annual_review_complete(
    *, review: AnnualReview, acting_user: User, outcome: str, findings: str
) -> AnnualReview:
    """A caseworker records the outcome of a share's annual review."""
    _keeper(review.request, acting_user)
    if review.completed_at is not None:
        raise Refused(["This review is already recorded"])
    problems = []
    if outcome not in AnnualReview.Outcome.values:
        problems.append("Choose the outcome of the review")
    if not findings.strip():
        problems.append("Say what the review found")
    if problems:
        raise Refused(problems)
    review.outcome = outcome
    review.findings = findings
    review.completed_by = acting_user
    review.completed_at = timezone.now()
    label = AnnualReview.Outcome(outcome).label
    return save_with_history(
        review, acting_user=acting_user, reason=f"Annual review: {label}"
    )
