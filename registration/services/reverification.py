"""The nightly re-verification: read Companies House and the ICO register again for
every organisation that holds (or is suspended from) LRS access, and open a
re-verification case for each change that needs a caseworker (the 2020 lesson: a
new name, officers or company status on an old registration must be vetted again).

Opening a case is idempotent (one open case per organisation and reason), so a run
repeated the same night opens nothing new. Companies House failing for one
organisation is counted and that organisation skipped; the others still run.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, User, system_user
from lrs_portal.services import notification_send_to_role
from registration.companies_house import (
    CompaniesHouseClient,
    CompaniesHouseUnavailable,
    CompanyFacts,
    company_fetch,
    going_concern_findings,
    govuk_date,
    name_matches,
    person_name_matches,
    rate_limiter_from_settings,
    status_finding,
)
from registration.models import (
    CompaniesHouseSnapshot,
    IcoRegistration,
    Organisation,
    ReverificationCase,
)
from registration.services.organisations import reverification_open
from registration.validators import normalise_ico_number

logger = logging.getLogger(__name__)

JOB = "reverify_organisations"
SOURCE = "nightly re-verification"
Reason = ReverificationCase.Reason


@dataclass(frozen=True)
class Change:
    reason: str
    details: str
    new_value: str = ""


def _company_changes(organisation: Organisation, facts: CompanyFacts) -> list[Change]:
    """What Companies House now says that differs from what was vetted."""
    if not facts.found:
        return [
            Change(
                Reason.COMPANY_NOT_ACTIVE,
                f"Companies House no longer has a company numbered "
                f"{facts.company_number}.",
            )
        ]
    changes = []
    if not name_matches(organisation.legal_name, facts.company_name):
        changes.append(
            Change(
                Reason.LEGAL_NAME_CHANGED,
                f"Companies House now lists company {facts.company_number} as "
                f"“{facts.company_name}”, not “{organisation.legal_name}”.",
                new_value=facts.company_name,
            )
        )
    status = status_finding(facts.profile)
    if status is not None:
        changes.append(Change(Reason.COMPANY_NOT_ACTIVE, status.message))
    # The vetting check's own reading of the profile, so the two never differ.
    changes.extend(
        Change(Reason.STRIKE_OFF_PROPOSED, finding.message)
        for finding in going_concern_findings(facts.profile)
        if finding.code == "proposal_to_strike_off"
    )
    if organisation.signing_director_name and not _still_a_director(
        organisation, facts
    ):
        changes.append(
            Change(
                Reason.DIRECTOR_LEFT,
                f"{organisation.signing_director_name}, who signed the agreement, is "
                "no longer among the company's current directors at Companies House.",
            )
        )
    return changes


def _still_a_director(organisation: Organisation, facts: CompanyFacts) -> bool:
    """The appointment identifies the signing director; by name only when it was
    not recorded."""
    appointment = organisation.signing_director_appointment
    if appointment:
        return any(d.appointment == appointment for d in facts.directors)
    name = organisation.signing_director_name
    return any(person_name_matches(name, d.name) for d in facts.directors)


def _ico_change(organisation: Organisation, today: date) -> Change | None:
    number = normalise_ico_number(organisation.ico_number)
    registration = IcoRegistration.objects.filter(registration_number=number).first()
    if registration is None:
        return Change(
            Reason.ICO_LAPSED,
            f"The ICO register no longer lists registration number {number}.",
        )
    if registration.removed_at is not None:
        return Change(
            Reason.ICO_LAPSED,
            f"The ICO register no longer lists registration number {number}: it "
            f"left the register file imported on "
            f"{govuk_date(registration.removed_at.date())}.",
        )
    if registration.end_date is not None and registration.end_date < today:
        return Change(
            Reason.ICO_LAPSED,
            f"The ICO registration {number} lapsed on "
            f"{govuk_date(registration.end_date)}.",
        )
    return None


def _open_cases(
    organisation: Organisation,
    changes: list[Change],
    *,
    acting_user: User,
    progress: JobProgress,
) -> None:
    for change in changes:
        already_open = ReverificationCase.objects.filter(
            organisation=organisation,
            reason=change.reason,
            status=ReverificationCase.Status.OPEN,
        ).exists()
        reverification_open(
            organisation=organisation,
            reason=change.reason,
            details=change.details,
            source=SOURCE,
            acting_user=acting_user,
            new_value=change.new_value,
        )
        progress.add("cases_already_open" if already_open else "cases_opened")


def organisation_reverify(
    *,
    organisation: Organisation,
    client: CompaniesHouseClient,
    acting_user: User,
    progress: JobProgress,
    today: date,
    ico_register_imported: bool,
) -> None:
    """Re-read one organisation's company and ICO registration; open a case for
    each change. Companies House being unavailable skips the company part only."""
    changes: list[Change] = []
    try:
        facts = company_fetch(
            company_number=organisation.companies_house_number, client=client
        )
    except CompaniesHouseUnavailable as exc:
        progress.add("companies_house_unavailable")
        logger.warning(
            "reverify_companies_house_unavailable",
            extra={"organisation_id": organisation.pk, "reason": str(exc)},
        )
    except ValidationError:
        progress.add("invalid_company_number")
    else:
        progress.add("companies_read")
        changes.extend(_company_changes(organisation, facts))
    if ico_register_imported:
        ico = _ico_change(organisation, today)
        changes.extend([ico] if ico else [])
    _open_cases(organisation, changes, acting_user=acting_user, progress=progress)
    progress.add("organisations_checked")


def _tell_caseworkers(*, opened_since: datetime, today: date) -> None:
    """One email to every caseworker listing the cases this run opened (none
    when it opened none: a repeated run the same night sends nothing)."""
    opened = list(
        ReverificationCase.objects.filter(source=SOURCE, opened_at__gte=opened_since)
        .select_related("organisation")
        .order_by("organisation__legal_name", "reason")
    )
    if not opened:
        return
    queue = settings.SERVICE_URL + reverse(
        "admin:registration_reverificationcase_changelist"
    )
    lines = "\n".join(
        f"- {case.organisation.legal_name}: {case.get_reason_display()}"
        for case in opened
    )
    count = f"{len(opened)} re-verification case{'s' if len(opened) > 1 else ''}"
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"Re-verification opened {count}",
        body=(
            f"The nightly re-verification of {govuk_date(today)} opened {count} "
            f"that need a caseworker:\n\n{lines}\n\nOpen the queue: {queue}"
        ),
        reference=f"reverification.{today.isoformat()}.cases_opened",
    )


def organisations_to_reverify() -> list[Organisation]:
    """Registered and suspended organisations, those whose company was read longest
    ago (or never) first: a run cut short is carried on by the next."""
    last_read = (
        CompaniesHouseSnapshot.objects.filter(
            company_number=OuterRef("companies_house_number"),
            kind=CompaniesHouseSnapshot.Kind.PROFILE,
        )
        .order_by("-fetched_at")
        .values("fetched_at")[:1]
    )
    return list(
        Organisation.objects.filter(
            status__in=(Organisation.Status.REGISTERED, Organisation.Status.SUSPENDED)
        )
        .annotate(last_read=Subquery(last_read))
        .order_by(F("last_read").asc(nulls_first=True), "pk")
    )


def reverify_organisations_run(
    *,
    client: CompaniesHouseClient | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> JobRun | None:
    """Re-verify every registered or suspended organisation, within Companies
    House's rate limit (COMPANIES_HOUSE_RATE_LIMIT requests a period), stopping
    after REVERIFY_TIME_BUDGET_MINUTES; the next run starts with those left."""
    own_client = client is None
    if client is None:
        client = CompaniesHouseClient(rate_limiter=rate_limiter_from_settings())
    stop_at = clock() + settings.REVERIFY_TIME_BUDGET_MINUTES * 60

    def work(progress: JobProgress) -> None:
        acting_user = system_user()
        started = timezone.now()
        today = started.date()
        # Without the register every number would look lapsed: that is ours to fix.
        imported = IcoRegistration.objects.exists()
        if not imported:
            progress.add("ico_register_not_imported")
        organisations = organisations_to_reverify()
        for done, organisation in enumerate(organisations):
            if clock() >= stop_at:
                progress.add(
                    "organisations_left_for_next_run", len(organisations) - done
                )
                break
            organisation_reverify(
                organisation=organisation,
                client=client,
                acting_user=acting_user,
                progress=progress,
                today=today,
                ico_register_imported=imported,
            )
        if client.rate_limiter is not None:
            progress.add("companies_house_requests", client.rate_limiter.requests)
            progress.add("rate_limit_waits_seconds", int(client.rate_limiter.waited))
        _tell_caseworkers(opened_since=started, today=today)
        progress.day_done(today)

    try:
        return job_run(JOB, work)
    finally:
        if own_client:
            client.close()
