"""Checking an organisation's ICO registration against the imported register."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from registration.companies_house import Result, govuk_date, name_matches
from registration.ico.register import shown
from registration.models import IcoRegistration
from registration.validators import normalise_ico_number, validate_ico_number

# --- Checking a registration --------------------------------------------------


@dataclass(frozen=True)
class IcoVerification:
    result: Result  # the values of ApplicationCheck.Result: pass, needs_review, fail
    code: str
    message: str
    registration: IcoRegistration | None = None

    @property
    def evidence(self) -> dict[str, Any]:
        """What the check saw, as JSON (for ApplicationCheck.evidence)."""
        found = self.registration
        if found is None:
            return {"code": self.code}
        return {
            "code": self.code,
            "registration_number": found.registration_number,
            "organisation_name": found.organisation_name,
            "trading_names": _names(found)[1:],
            "start_date": found.start_date.isoformat() if found.start_date else None,
            "end_date": found.end_date.isoformat() if found.end_date else None,
            "payment_tier": found.payment_tier,
            "imported_at": found.imported_at.isoformat(),
        }


def _names(registration: IcoRegistration) -> list[str]:
    trading = [n.strip() for n in registration.trading_names.splitlines()]
    return [registration.organisation_name, *(n for n in trading if n)]


def ico_verify(
    *, ico_number: str, organisation_name: str, on: date | None = None
) -> IcoVerification:
    """Whether the ICO register holds the number, unexpired on the date, under the
    organisation's name or one of its trading names."""
    on = on or timezone.localdate()
    number = normalise_ico_number(ico_number)
    try:
        validate_ico_number(number)
    except ValidationError:
        return IcoVerification(
            "fail",
            "invalid_number",
            f"{shown(number)} is not an ICO registration number, like Z1234567.",
        )
    found = IcoRegistration.objects.filter(registration_number=number).first()
    if found is None or found.removed_at is not None:
        return _not_found(number)
    if found.end_date is None:
        return IcoVerification(
            "needs_review",
            "no_end_date",
            f"The ICO register gives no end date for {number}: check the entry on "
            "the ICO's website.",
            found,
        )
    if found.end_date < on:
        return IcoVerification(
            "fail",
            "lapsed",
            f"The ICO registration {number} lapsed on {govuk_date(found.end_date)}. "
            "The organisation must pay the data protection fee again.",
            found,
        )
    if not any(name_matches(organisation_name, name) for name in _names(found)):
        return IcoVerification(
            "needs_review",
            "name_mismatch",
            f"The ICO register lists {number} under “{found.organisation_name}”, "
            f"not “{organisation_name}”. Check that they are the same organisation.",
            found,
        )
    return IcoVerification(
        "pass",
        "registered",
        f"{number} is registered to {found.organisation_name} until "
        f"{govuk_date(found.end_date)}.",
        found,
    )


def _not_found(number: str) -> IcoVerification:
    if not IcoRegistration.objects.exists():
        # Without the register every number would fail: that is ours to fix.
        return IcoVerification(
            "needs_review",
            "register_not_imported",
            f"The ICO register has not been imported, so {number} could not be "
            "checked. Check it on the ICO's website.",
        )
    return IcoVerification(
        "fail",
        "not_found",
        f"The ICO register has no registration number {number}. Ask the "
        "organisation for the number on its data protection fee certificate.",
    )
