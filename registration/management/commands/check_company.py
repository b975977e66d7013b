from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from registration.companies_house import (
    CompaniesHouseUnavailable,
    CompanyFacts,
    company_fetch,
    govuk_date,
)


class Command(BaseCommand):
    help = (
        "Show what Companies House says about a company: its name and status, any "
        "going-concern concerns, and its current directors. Stores a snapshot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="Company number, like 01234567 or SC123456")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            facts = company_fetch(company_number=options["number"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except CompaniesHouseUnavailable as exc:
            raise CommandError(f"{exc}. Try again later.") from exc
        if not facts.found:
            raise CommandError(facts.findings[0].message)
        self.stdout.write("\n".join(_report(facts)))


_LABELS = {"fail": "Fail", "needs_review": "Needs review"}


def _report(facts: CompanyFacts) -> list[str]:
    source = "offline fixtures" if facts.source == "fixture" else "Companies House"
    status = facts.company_status
    if facts.company_status_detail and facts.company_status_detail != status:
        status = f"{status} ({facts.company_status_detail})"
    lines = [
        f"{facts.company_name} ({facts.company_number})",
        f"Status: {status}",
        f"Read from {source} at {timezone.localtime(facts.fetched_at):%d %B %Y %H:%M}",
        "",
        "Going concern:",
    ]
    lines += [f"  {_LABELS[f.severity]}: {f.message}" for f in facts.findings] or [
        "  No going-concern concerns found"
    ]
    lines += ["", f"Current directors ({len(facts.directors)}):"]
    lines += [
        f"  {d.name}, appointed {govuk_date(d.appointed_on) or '(date not given)'}"
        for d in facts.directors
    ] or ["  None: nobody can sign the LRS agreement for this company"]
    return lines
