"""Companies House, asked again: the company's officers read no more than a
day ago, and whether a person is now a director who can sign (with the
correspondence address their letter goes to)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from registration.models import CompaniesHouseSnapshot
from registration.services.signing.refusals import (
    CompaniesHouseNotAnswering,
    DirectorNotCurrent,
    SigningRefused,
)

SNAPSHOT_MAX_AGE = timedelta(days=1)
_UK = {"", "england", "wales", "scotland", "northern ireland", "united kingdom", "uk"}


@dataclass(frozen=True)
class Officer:
    name: str
    appointment: str
    address: list[str]  # the correspondence address, as letter lines
    postcode: str


# --- Companies House, asked again -------------------------------------------------


def _recent_officers(company_number: str) -> dict[str, Any] | None:
    snapshot = (
        CompaniesHouseSnapshot.objects.filter(
            company_number=company_number,
            kind=CompaniesHouseSnapshot.Kind.OFFICERS,
            fetched_at__gte=timezone.now() - SNAPSHOT_MAX_AGE,
        )
        .order_by("-fetched_at")
        .first()
    )
    return snapshot.data if snapshot is not None else None


def company_officers_recent(company_number: str) -> dict[str, Any]:
    """The company's current officers as read no more than a day ago, fetched
    afresh through the Companies House client when the latest snapshot is older."""
    from registration.companies_house import CompaniesHouseUnavailable, company_fetch

    officers = _recent_officers(company_number)
    if officers is not None:
        return officers
    try:
        facts = company_fetch(company_number=company_number)
    except (CompaniesHouseUnavailable, ValidationError) as exc:
        raise CompaniesHouseNotAnswering(
            _("We could not check with Companies House just now. Try again later")
        ) from exc
    if not facts.found:
        raise DirectorNotCurrent(
            _("Companies House has no company with number %(number)s")
            % {"number": company_number}
        )
    return _recent_officers(company_number) or {}


def _address_lines(address: dict[str, Any]) -> list[str]:
    """Companies House's address as letter lines (the name goes above them), or
    [] when it cannot be posted to: Notify needs a UK postcode or, abroad, the
    country on the last line, and seven lines at most with the name."""

    def part(key: str) -> str:
        return str(address.get(key) or "").strip()

    first = " ".join(p for p in (part("premises"), part("address_line_1")) if p)
    lines = [
        f"c/o {part('care_of')}" if part("care_of") else "",
        f"PO Box {part('po_box')}" if part("po_box") else "",
        first,
        part("address_line_2"),
        part("locality"),
        part("region"),
        part("postal_code"),
    ]
    abroad = part("country").lower() not in _UK
    if abroad:
        lines.append(part("country"))
    lines = [line for line in lines if line]
    while len(lines) > 6:
        lines[1:3] = [", ".join(lines[1:3])]
    if len(lines) < 2 or not (abroad or part("postal_code")):
        return []
    return lines


def director_verify(*, company_number: str, appointment: str) -> Officer:
    """The person, if Companies House lists them now as a director with authority
    to sign (not resigned, not a secretary or corporate director); else refused."""
    from registration.companies_house import current_directors

    officers = company_officers_recent(company_number)
    current = {d.appointment: d for d in current_directors(officers)}
    director = current.get(appointment) if appointment else None
    if director is None:
        raise DirectorNotCurrent(
            _(
                "Companies House does not list this person as a current director of "
                "the company, so they cannot sign the agreement for it"
            )
        )
    items = officers.get("items") or []
    item = next(i for i in items if (i.get("links") or {}).get("self") == appointment)
    address = item.get("address") or {}
    lines = _address_lines(address)
    if not lines:
        raise SigningRefused(
            _(
                "Companies House holds no full correspondence address for the "
                "director, so we cannot post the signing code. The director can "
                "update it at Companies House"
            )
        )
    return Officer(
        name=director.name,
        appointment=appointment,
        address=lines,
        postcode=str(address.get("postal_code") or "")[:12],
    )
