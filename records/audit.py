"""The nightly usage audit (issue 5; architecture.md rules 4, 5 and 7).

For each UTC day it counts, from the learner view log, every user's searches,
record views, detail searches that found nobody, lookups outside working hours
and the longest run of consecutive ULNs searched; it keeps those counts as
``UsageDay`` rows; it applies the ``AuditRule`` table; each hit becomes one
``UsageAlert`` (unique per subject, day and rule), and the hits of rules marked
as suspending open one ``Suspension`` per subject and day.

Each day is audited in one transaction: a run that fails half way leaves every
finished day finished and nothing of the failed day, and the next run carries
on from the first day not finished. Running a day again finds the same hits,
whose alerts and suspensions already exist, and so adds nothing; a suspension a
caseworker reinstated is never opened again for that day, and its day is left
out of the subject's later baselines.

This module holds the run: the days due, each day's transaction, and the
alerts and suspensions its hits raise. The counts, the ULN runs and the
UsageDay rows are in records.audit_counts; the rules of the counts in
records.audit_rules; every rule's defaults in records.audit_defaults; Hit in
records.audit_hits; the purpose rules in records.purpose (each importable from
here as before).
"""

import logging
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User, system_user
from records.audit_counts import (
    AUDIT_SESSION,
    BLOCK_BUCKETS,
    COUNTER_BITS,
    ONE,
    SEARCHES,
    STEM_BLOCK,
    ULN_RUNS_SQL,
    A,
    DayCounts,
    DayScan,
    O,
    could_run,
    counts_query,
    day_bounds,
    heaviest_users,
    run_floor,
    uln_bucket_counts,
    uln_runs,
    usage_days_write,
)
from records.audit_defaults import DEFAULT_RULES, audit_rules_ensure
from records.audit_hits import Hit
from records.audit_rules import expected_daily_volume, hits_find, volume_details
from records.models import AuditedDay, UsageAlert
from records.purpose import purpose_hits
from records.purpose_days import purpose_days_fill, purpose_days_write
from registration.models import Organisation, Suspension
from registration.services import suspension_open

logger = logging.getLogger(__name__)

# Moved to records.audit_counts, records.audit_defaults, records.audit_hits and
# records.audit_rules (issue 18) and still importable from here.
__all__ = [
    "AUDIT_SESSION",
    "BLOCK_BUCKETS",
    "COUNTER_BITS",
    "DEFAULT_RULES",
    "ONE",
    "SEARCHES",
    "STEM_BLOCK",
    "ULN_RUNS_SQL",
    "A",
    "DayCounts",
    "DayScan",
    "Hit",
    "O",
    "audit_rules_ensure",
    "could_run",
    "counts_query",
    "day_bounds",
    "expected_daily_volume",
    "heaviest_users",
    "hits_find",
    "run_floor",
    "uln_bucket_counts",
    "uln_runs",
    "usage_days_write",
    "volume_details",
]

JOB = "audit_usage"


def _alert_key(
    subject_type: str, organisation_id: int, user_id: int | None, rule: str
) -> tuple[str, int | None, str]:
    """What makes an alert unique: a user's is one per user, day and rule (in
    whichever organisation), an organisation's one per organisation."""
    if subject_type == UsageAlert.Subject.USER:
        return (subject_type, user_id, rule)
    return (subject_type, organisation_id, rule)


def _alerts_raise(hits: list[Hit], day: date, acting_user: User) -> int:
    """Raise each hit's alert unless the day already has it; return how many are
    new. One query reads the day's alerts, one writes the new ones and one their
    history (the run holds the job's lock, so nothing else adds audit alerts)."""
    existing = {
        _alert_key(*row)
        for row in UsageAlert.objects.filter(day=day).values_list(
            "subject_type", "organisation_id", "user_id", "rule"
        )
    }
    new = []
    for hit in hits:
        key = _alert_key(
            hit.subject_type, hit.organisation_id, hit.user_id, hit.rule.code
        )
        if key in existing:
            continue
        existing.add(key)
        new.append(
            UsageAlert(
                subject_type=hit.subject_type,
                organisation_id=hit.organisation_id,
                user_id=hit.user_id,
                day=day,
                rule=hit.rule.code,
                value=hit.value,
                threshold=hit.threshold,
                details=hit.details,
            )
        )
    if new:
        bulk_create_with_history(
            new,
            UsageAlert,
            batch_size=500,
            default_user=acting_user,
            default_change_reason="Nightly usage audit",
        )
    return len(new)


def _already_decided(day: date) -> set[tuple[str, int]]:
    """Subjects with a usage-audit case for the day, or any case in force: opening
    another would change nothing, so the audit does not try."""
    cases = Suspension.objects.filter(
        Q(source=Suspension.Source.USAGE_AUDIT, cause="usage", day=day)
        | Q(status__in=[Suspension.Status.OPEN, Suspension.Status.UPHELD])
    ).values_list("subject_type", "user_id", "organisation_id")
    return {
        (subject_type, user_id if subject_type == Suspension.Subject.USER else org_id)
        for subject_type, user_id, org_id in cases
    }


def _suspension_reason(hits: list[Hit]) -> str:
    found = "; ".join(
        f"{hit.rule.get_code_display().lower()}: {hit.details}" for hit in hits
    )
    return f"The nightly check of LRS usage found {found}"


def audit_day(day: date, progress: JobProgress) -> None:
    """Audit one UTC day in one transaction."""
    acting_user = system_user()
    audit_rules_ensure()  # before the ULN runs read their rule
    with transaction.atomic():
        counted, found, unstamped = usage_days_write(day)
        users_counted = len(counted)
        profiles = purpose_days_write(day, counted, found, unstamped)
        history_from = day - timedelta(
            days=settings.AUDIT_BASELINE_DAYS + settings.AUDIT_PURPOSE_WINDOW_DAYS
        )
        filled = purpose_days_fill(history_from, day - timedelta(days=1))
        if filled:
            progress.add("profile_days_filled", filled)
        hits = hits_find(day, counted) + purpose_hits(
            day, profiles.organisations, progress, users=profiles.users
        )
        progress.add("hits", len(hits))
        progress.add("alerts_raised", _alerts_raise(hits, day, acting_user))
        decided = _already_decided(day)
        suspending: dict[tuple[str, int], list[Hit]] = defaultdict(list)
        for hit in hits:
            if hit.rule.suspends and (hit.subject_type, hit.subject_id) not in decided:
                suspending[(hit.subject_type, hit.subject_id)].append(hit)
        # Only the subjects to suspend are read in full.
        first_hits = [subject_hits[0] for subject_hits in suspending.values()]
        organisations = Organisation.objects.in_bulk(
            {hit.organisation_id for hit in first_hits}
        )
        users = User.objects.in_bulk({hit.user_id for hit in first_hits if hit.user_id})
        opened = False
        # Organisations first: a user of a suspended organisation is already out.
        for (subject_type, _), subject_hits in sorted(
            suspending.items(),
            key=lambda item: item[0][0] != UsageAlert.Subject.ORGANISATION,
        ):
            first = subject_hits[0]
            _, created = suspension_open(
                subject_type=subject_type,
                organisation=organisations[first.organisation_id],
                user=users[first.user_id] if first.user_id else None,
                source=Suspension.Source.USAGE_AUDIT,
                cause="usage",
                day=day,
                reason=_suspension_reason(subject_hits),
                rules=[hit.as_json() for hit in subject_hits],
                acting_user=acting_user,
            )
            if created:
                progress.add("suspensions_opened")
                opened = True
        progress.add("days_audited")
        progress.add("users_counted", users_counted)
        AuditedDay.objects.update_or_create(
            day=day, defaults={"audited_at": timezone.now()}
        )
        if not opened and connection.vendor == "postgresql":
            # Only counts and alerts to keep, which a run rebuilds: the commit
            # need not wait for the disk. Should the database server crash in
            # that moment, the day has no AuditedDay row and the next run audits
            # it again. A day that suspends anyone (ending sessions, sending
            # emails) commits durably.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
    progress.day_done(day)


def audit_days_due(*, today: date | None = None) -> tuple[list[date], int]:
    """The days to audit: every day of the last AUDIT_CATCH_UP_DAYS up to
    yesterday (UTC) not audited yet, from the first day ever audited on
    (yesterday alone on the very first run); and how many missed days lie
    before that window, which no run will audit unless asked with --date."""
    yesterday = (today or timezone.now().date()) - timedelta(days=1)
    first_ever = (
        AuditedDay.objects.order_by("day").values_list("day", flat=True).first()
    )
    if first_ever is None:
        return [yesterday], 0
    window = yesterday - timedelta(days=settings.AUDIT_CATCH_UP_DAYS - 1)
    start = max(window, first_ever)
    done = set(
        AuditedDay.objects.filter(day__gte=start, day__lte=yesterday).values_list(
            "day", flat=True
        )
    )
    days = [start + timedelta(days=n) for n in range((yesterday - start).days + 1)]
    beyond = 0
    if first_ever < window:
        audited_before = AuditedDay.objects.filter(day__lt=window).count()
        beyond = (window - first_ever).days - audited_before
    return [day for day in days if day not in done], beyond


def audit_usage(progress: JobProgress, *, day: date | None = None) -> list[date]:
    """Audit one given day, or every day due; return the days audited."""
    if day is not None:
        days = [day]
    else:
        days, beyond = audit_days_due()
        if beyond:
            progress.add("days_missed_beyond_catch_up", beyond)
            logger.warning(
                "audit_days_beyond_catch_up", extra={"days": beyond, "job": JOB}
            )
    for each in days:
        audit_day(each, progress)
    return days
