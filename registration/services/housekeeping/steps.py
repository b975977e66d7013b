"""What every rung of the ladder returns (an Action), and what they share: the
causes, and the email to an organisation's super users.
"""

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from lrs_portal.models import User
from lrs_portal.services import notification_send
from registration.models import (
    Organisation,
    Suspension,
)

CAUSE_COMPANY = "company_not_active"
CAUSE_ICO = "ico_lapsed"
ORG = Suspension.Subject.ORGANISATION
S = Organisation.Status


@dataclass(frozen=True)
class Action:
    """One step of the ladder for one organisation or account."""

    key: str  # what it adds to in the JobRun's counts
    description: str  # what it does, in words (a dry run prints only this)
    apply: Callable[[User], bool]  # do it; False when it turned out done already


def months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def email_super_users(
    organisation: Organisation,
    *,
    subject: str,
    body: str,
    reference: str,
    also: tuple[str, ...] = (),
) -> None:
    """Email the organisation's super users who can act on it (their accounts are
    open: housekeeping never closes an organisation's last one); all of them only
    if a caseworker has closed every one."""
    super_users = organisation.memberships.filter(is_super_user=True)
    active = super_users.filter(user__is_active=True)
    emails = (active if active.exists() else super_users).values_list(
        "user__email", flat=True
    )
    for email in sorted({*emails, *also}):
        notification_send(
            to=email,
            subject=subject,
            body=f"{body}\n\nIf you have questions, email {settings.SUPPORT_EMAIL}.",
            reference=reference,
        )
