"""Companies House: a company's profile and current officers, and what they say about
whether it can hold LRS access (domain.md 4).

With COMPANIES_HOUSE_API_KEY set, CompaniesHouseClient calls the API. Without it
(development, the demo) it reads recorded responses from COMPANIES_HOUSE_FIXTURES.
Either way company_fetch stores what it read as CompaniesHouseSnapshot rows, so that
every decision can be traced back to the data it was made on.

Three concerns, one module each, all re-exported here: the HTTP client
(client.py), what the data says (findings.py, with the names in names.py), and the
service that reads a company and keeps what it read (facts.py).
"""

from registration.companies_house.client import (
    MAX_OFFICER_PAGES,
    OFFICERS_PAGE_SIZE,
    TIMEOUT,
    CompaniesHouseClient,
    CompaniesHouseUnavailable,
    RateLimiter,
    companies_house_retry,
    rate_limiter_from_settings,
)
from registration.companies_house.facts import (
    CompanyFacts,
    company_fetch,
)
from registration.companies_house.findings import (
    ACTIVE_STATUSES,
    Director,
    Finding,
    Result,
    Severity,
    current_directors,
    findings_result,
    going_concern_findings,
    govuk_date,
    status_finding,
)
from registration.companies_house.names import (
    name_matches,
    person_name_matches,
)

__all__ = [
    "ACTIVE_STATUSES",
    "MAX_OFFICER_PAGES",
    "OFFICERS_PAGE_SIZE",
    "TIMEOUT",
    "CompaniesHouseClient",
    "CompaniesHouseUnavailable",
    "CompanyFacts",
    "Director",
    "Finding",
    "RateLimiter",
    "Result",
    "Severity",
    "companies_house_retry",
    "company_fetch",
    "current_directors",
    "findings_result",
    "going_concern_findings",
    "govuk_date",
    "name_matches",
    "person_name_matches",
    "rate_limiter_from_settings",
    "status_finding",
]
