"""Reading a company from Companies House and keeping what was read as
CompaniesHouseSnapshot rows (company_fetch).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from registration.companies_house.client import CompaniesHouseClient, checked_number
from registration.companies_house.findings import (
    Director,
    Finding,
    Result,
    current_directors,
    findings_result,
    going_concern_findings,
)
from registration.models import CompaniesHouseSnapshot

logger = logging.getLogger("registration.companies_house")


# --- The service --------------------------------------------------------------


@dataclass(frozen=True)
class CompanyFacts:
    company_number: str
    found: bool
    company_name: str
    company_status: str
    company_status_detail: str
    profile: dict[str, Any]
    directors: list[Director]
    findings: list[Finding]
    fetched_at: datetime
    source: str = "api"  # "api" or "fixture"

    @property
    def result(self) -> Result:
        return findings_result(self.findings)


def _not_found(number: str) -> Finding:
    return Finding(
        "company_not_found",
        "fail",
        f"Companies House has no company with number {number}. Check the number "
        "on the certificate of incorporation.",
    )


def _read(
    client: CompaniesHouseClient, number: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    profile = client.get_profile(number)
    # No officers to read for a company that does not exist.
    return profile, client.get_officers(number) if profile is not None else None


def _store_snapshots(
    *,
    number: str,
    profile: dict[str, Any] | None,
    officers: dict[str, Any] | None,
    source: str,
) -> datetime:
    fetched_at = timezone.now()
    kind = CompaniesHouseSnapshot.Kind
    snapshots = [
        CompaniesHouseSnapshot(
            company_number=number,
            kind=kind.PROFILE,
            found=profile is not None,
            data=profile or {},
            source=source,
            fetched_at=fetched_at,
        )
    ]
    if officers is not None:
        snapshots.append(
            CompaniesHouseSnapshot(
                company_number=number,
                kind=kind.OFFICERS,
                data=officers,
                source=source,
                fetched_at=fetched_at,
            )
        )
    CompaniesHouseSnapshot.objects.bulk_create(snapshots)
    return fetched_at


def company_fetch(
    *, company_number: str, client: CompaniesHouseClient | None = None
) -> CompanyFacts:
    """Read a company's profile and current officers from Companies House, store
    them as snapshots, and say what they show.

    Raises ValidationError for an invalid number and CompaniesHouseUnavailable when
    Companies House cannot answer; stores nothing in either case."""
    number = checked_number(company_number)
    if client is None:
        client = CompaniesHouseClient()
        try:
            profile, officers = _read(client, number)
        finally:
            client.close()
    else:
        profile, officers = _read(client, number)
    found = profile is not None
    fetched_at = _store_snapshots(
        number=number, profile=profile, officers=officers, source=client.source
    )
    logger.info(
        "companies_house_fetched", extra={"company_number": number, "found": found}
    )
    profile = profile or {}
    return CompanyFacts(
        company_number=number,
        found=found,
        company_name=str(profile.get("company_name") or ""),
        company_status=str(profile.get("company_status") or ""),
        company_status_detail=str(profile.get("company_status_detail") or ""),
        profile=profile,
        directors=current_directors(officers or {}),
        findings=going_concern_findings(profile) if found else [_not_found(number)],
        fetched_at=fetched_at,
        source=client.source,
    )
