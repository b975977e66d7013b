"""After approval: releases, the nightly end-date job, destruction certificates."""

import logging
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    DataShareRequest,
    DestructionCertificate,
    Release,
    RequestedDataset,
    Researcher,
    RiskSettings,
)
from approvals.services.conditions import conditions_unmet
from approvals.services.emails import tell_requester
from approvals.services.requests import Refused, request_transition
from lrs_portal import roles
from lrs_portal.jobs import JobLocked, JobProgress, job_run
from lrs_portal.models import User, system_user
from lrs_portal.services import notification_send_to_role
from lrs_portal.transitions import save_with_history

logger = logging.getLogger(__name__)
S = DataShareRequest.Status
REMINDER_DAYS = (30, 7)


# --- releases -------------------------------------------------------------------------


def researchers_to_flag(
    researchers: list[Researcher], end_date: date | None
) -> list[Researcher]:
    """Researchers whose accreditation does not last until the end date."""
    return [r for r in researchers if not r.accredited_until(end_date)]


def release_record(
    *,
    request: DataShareRequest,
    acting_user: User,
    dataset: RequestedDataset,
    srs_project_reference: str,
    researchers: list[Researcher],
    end_date: date,
) -> Release:
    """Release one extract (one dataset and academic year) of an approved request,
    judged on the request as it is now: its row is locked and read again, so a
    share closed (or a second release) meanwhile is refused, not overwritten."""
    if not permissions.can_release(acting_user, request):
        raise PermissionError("You cannot release data for this request")
    with transaction.atomic():
        locked = DataShareRequest.objects.select_for_update().get(pk=request.pk)
        problems = _release_refusals(
            locked, dataset, srs_project_reference, researchers, end_date
        )
        if problems:
            raise Refused(problems)
        release = save_with_history(
            Release(
                request=locked,
                dataset=dataset,
                srs_project_reference=srs_project_reference,
                access_route=locked.access_route,
                end_date=end_date,
                released_by=acting_user,
            ),
            acting_user=acting_user,
            reason=f"Released {dataset}",
        )
        release.researchers.set(researchers)
        if locked.status != S.RELEASED:
            request_transition(
                request=locked,
                to=S.RELEASED,
                acting_user=acting_user,
                reason="First extract released",
                changes={"released_at": release.released_at},
            )
        tell_requester(
            locked,
            f"data released: {dataset.academic_year}",
            f"We have released {dataset} for your project"
            + (
                f" (ONS SRS project {srs_project_reference})"
                if srs_project_reference
                else ""
            )
            + f". Access ends on {end_date:%d %B %Y}.",
        )
    return release


def _release_refusals(
    request: DataShareRequest,
    dataset: RequestedDataset,
    srs_project_reference: str,
    researchers: list[Researcher],
    end_date: date,
) -> list[str]:
    today = timezone.localdate()
    problems = []
    if not (request.is_approved or request.status == S.RELEASED):
        problems.append("Only an approved request has data released")
    problems += [
        f"The condition of approval is not yet met: {condition.text}"
        for condition in conditions_unmet(request)
    ]
    if dataset.request_id != request.pk:
        problems.append("The dataset is not part of this request")
    elif Release.objects.filter(dataset=dataset).exists():
        problems.append(f"{dataset} has already been released")
    direct = request.access_route == DataShareRequest.AccessRoute.DIRECT_SUPPLY
    if not direct and not srs_project_reference.strip():
        problems.append("Give the ONS Secure Research Service project reference")
    if not researchers:
        problems.append("Choose at least one approved researcher")
    if any(r.request_id != request.pk for r in researchers):
        problems.append("Every researcher must be named on the request")
    problems += [_accreditation_problem(r, today) for r in researchers]
    if request.end_date and request.end_date < today:
        problems.append(
            f"The approved share ended on {request.end_date:%-d %B %Y}: nothing "
            "more is released"
        )
    elif request.end_date and end_date > request.end_date:
        problems.append("The release cannot end after the approved end date")
    if end_date < today:
        problems.append("The release's end date has passed")
    return [problem for problem in problems if problem]


def _accreditation_problem(researcher: Researcher, today: date) -> str:
    expires = researcher.accreditation_expires_on
    if researcher.accreditation == Researcher.Accreditation.NONE:
        return (
            f"{researcher.full_name} is not an accredited researcher: the ONS "
            "Secure Research Service gives access only to accredited researchers"
        )
    if expires is None:
        return f"{researcher.full_name}'s accreditation has no expiry date to check"
    if expires < today:
        return f"{researcher.full_name}'s accreditation expired on {expires:%d %B %Y}"
    return ""


# --- destruction certificates ---------------------------------------------------------


def certificate_submit(
    *,
    request: DataShareRequest,
    acting_user: User,
    destroyed_by: str,
    destroyed_on: date,
    what_was_destroyed: str,
    method: str,
) -> DestructionCertificate:
    """The requester certifies who destroyed what, when and how."""
    if not permissions.requests_of_requester(acting_user).filter(pk=request.pk):
        raise PermissionError("Only the requesting organisation certifies destruction")
    if request.status not in (S.RELEASED, S.CLOSING):
        raise Refused(["Only released data needs a destruction certificate"])
    if DestructionCertificate.objects.filter(request=request).exists():
        raise Refused(["A destruction certificate has already been submitted"])
    if destroyed_on > timezone.localdate():
        raise Refused(["The date of destruction must be today or in the past"])
    certificate = DestructionCertificate(
        request=request,
        destroyed_by=destroyed_by,
        destroyed_on=destroyed_on,
        what_was_destroyed=what_was_destroyed,
        method=method,
        submitted_by=acting_user,
    )
    return save_with_history(
        certificate, acting_user=acting_user, reason="Certificate submitted"
    )


def certificate_accept(
    *, request: DataShareRequest, acting_user: User
) -> DataShareRequest:
    """A caseworker accepts the certificate and the case closes."""
    if not permissions.can_release(acting_user, request):
        raise PermissionError("You cannot accept this certificate")
    certificate = DestructionCertificate.objects.filter(request=request).first()
    if certificate is None:
        raise Refused(["No destruction certificate has been submitted"])
    if certificate.accepted_at is not None:
        raise Refused(["The certificate has already been accepted"])
    now = timezone.now()
    with transaction.atomic():
        certificate.accepted_by = acting_user
        certificate.accepted_at = now
        save_with_history(
            certificate,
            acting_user=acting_user,
            reason="Certificate accepted",
            fields=["accepted_by", "accepted_at"],
        )
        if request.status == S.RELEASED:  # destroyed before the end date
            request = _close_share(request, acting_user, today=timezone.localdate())
        request = request_transition(
            request=request,
            to=S.CLOSED,
            acting_user=acting_user,
            reason="Destruction certificate accepted: case closed",
            changes={"closed_at": now},
        )
        tell_requester(
            request, "case closed", "We accepted your destruction certificate."
        )
    return request


# --- the nightly job ------------------------------------------------------------------


def _close_share(
    request: DataShareRequest, acting_user: User, *, today: date
) -> DataShareRequest:
    due = RiskSettings.current().certificate_due_days
    due_on = (request.end_date or today) + timedelta(days=due)
    return request_transition(
        request=request,
        to=S.CLOSING,
        acting_user=acting_user,
        reason="Share ended: destruction certificate due",
        changes={"certificate_due_on": due_on},
    )


def _remind(request: DataShareRequest, today: date, job: User) -> str | None:
    """Send the one reminder due for a released share; say which, or None."""
    if request.end_date is None:
        return None
    days_left = (request.end_date - today).days
    if days_left <= 0:
        request = _close_share(request, job, today=today)
        tell_requester(
            request,
            "your data share has ended",
            "The share has ended. Destroy the data and send us a destruction "
            f"certificate by {request.certificate_due_on:%d %B %Y}.",
        )
        return "closed"
    for days, field in ((7, "reminded_7_days_at"), (30, "reminded_30_days_at")):
        if days_left > days:
            continue
        if getattr(request, field) is not None:
            return None
        request.reminded_30_days_at = request.reminded_30_days_at or timezone.now()
        request.reminded_7_days_at = (
            timezone.now() if days == 7 else request.reminded_7_days_at
        )
        save_with_history(
            request,
            acting_user=job,
            reason=f"{days}-day reminder sent",
            fields=["reminded_30_days_at", "reminded_7_days_at"],
        )
        tell_requester(
            request,
            f"your data share ends on {request.end_date:%d %B %Y}",
            f"Your data share ends in {days_left} days. On that day access stops "
            "and you must destroy the data and send us a destruction certificate.",
        )
        return f"reminded_{days}"
    return None


def _alert_overdue(request: DataShareRequest, job: User) -> bool:
    if hasattr(request, "certificate") or request.certificate_overdue_alerted_at:
        return False
    request.certificate_overdue_alerted_at = timezone.now()
    save_with_history(
        request,
        acting_user=job,
        reason="Destruction certificate overdue: caseworkers alerted",
        fields=["certificate_overdue_alerted_at"],
    )
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"{request.reference}: destruction certificate overdue",
        body=(
            f"{request.organisation} has not sent the destruction certificate "
            f"for {request.reference}, due {request.certificate_due_on:%d %B %Y}."
        ),
        reference=f"approvals.{request.reference}.overdue",
    )
    return True


JOB = "data_shares_nightly"


def shares_nightly(*, today: date | None = None) -> dict[str, Any]:
    """Remind 30 and 7 days before the end date, close shares at it, and alert
    caseworkers to overdue certificates, under the job's advisory lock with a
    JobRun (lrs_portal.jobs). Running it twice changes nothing more: each row is
    locked and re-read, and each reminder and alert is stamped. Another run
    holding the lock makes this one a skipped run: {"skipped": True}."""
    today = today or timezone.localdate()
    counts = {
        "reminded_30": 0,
        "reminded_7": 0,
        "closed": 0,
        "closed_unreleased": 0,
        "overdue_alerts": 0,
    }

    def work(progress: JobProgress) -> None:
        job = system_user()
        released = DataShareRequest.objects.filter(
            status=S.RELEASED, end_date__lte=today + timedelta(days=30)
        ).values_list("pk", flat=True)
        for pk in list(released):
            with transaction.atomic():
                request = DataShareRequest.objects.select_for_update().get(pk=pk)
                if request.status != S.RELEASED:
                    continue
                done = _remind(request, today, job)
            if done:
                counts[done] += 1
        unreleased = DataShareRequest.objects.filter(
            status__in=[S.APPROVED, S.APPROVED_WITH_CONDITIONS], end_date__lte=today
        ).values_list("pk", flat=True)
        for pk in list(unreleased):
            with transaction.atomic():
                request = DataShareRequest.objects.select_for_update().get(pk=pk)
                if request.status not in (S.APPROVED, S.APPROVED_WITH_CONDITIONS):
                    continue
                request_transition(
                    request=request,
                    to=S.CLOSED,
                    acting_user=job,
                    reason="Share ended with no data released: nothing to destroy",
                    changes={"closed_at": timezone.now()},
                )
                tell_requester(
                    request,
                    "your approved data share has ended",
                    "The approved end date has passed and no data was released, "
                    "so the case is closed. Apply again if you still need the data.",
                )
            counts["closed_unreleased"] += 1
        overdue = DataShareRequest.objects.filter(
            status=S.CLOSING,
            certificate_due_on__lt=today,
            certificate_overdue_alerted_at__isnull=True,
        ).values_list("pk", flat=True)
        for pk in list(overdue):
            with transaction.atomic():
                request = DataShareRequest.objects.select_for_update().get(pk=pk)
                counts["overdue_alerts"] += _alert_overdue(request, job)
        for key, number in counts.items():
            progress.add(key, number)
        progress.day_done(today)

    try:
        job_run(JOB, work)
    except JobLocked:
        return {"skipped": True}
    logger.info("shares_nightly", extra={"counts": counts})
    return counts
