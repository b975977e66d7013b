"""The yearly confirmation's days: the anniversary it is due on, the reminders'
days and the day housekeeping suspends an organisation that has not answered
(whose suspension has the cause CAUSE)."""

import calendar
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from registration.models import YearlyConfirmation

# The housekeeping suspension's cause (registration.services.housekeeping).
CAUSE = "yearly_confirmation_overdue"
PENDING = YearlyConfirmation.Status.PENDING
REMINDER_DAYS = 7


def _anniversary_in(year: int, registered_on: date) -> date:
    """The anniversary in ``year`` (29 February is the 28th in other years)."""
    last_day = calendar.monthrange(year, registered_on.month)[1]
    return date(year, registered_on.month, min(registered_on.day, last_day))


def anniversary_next(registered_on: date, today: date) -> date:
    """The first anniversary of registration on or after ``today`` (never the
    day of registration itself)."""
    year = max(today.year, registered_on.year + 1)
    anniversary = _anniversary_in(year, registered_on)
    if anniversary < today:
        anniversary = _anniversary_in(year + 1, registered_on)
    return anniversary


def suspension_day(confirmation: YearlyConfirmation) -> date:
    """The day housekeeping suspends the organisation if it is still not answered."""
    return confirmation.due_on + timedelta(days=settings.YEARLY_CONFIRMATION_GRACE_DAYS)


def reminder_days(confirmation: YearlyConfirmation) -> list[date]:
    """The days a reminder is due: a week before it is due, the day it is due,
    and a week before the suspension; none on or before the day it opened (the
    opening email is the first word)."""
    opened_on = timezone.localdate(confirmation.opened_at)
    days = [
        confirmation.due_on - timedelta(days=REMINDER_DAYS),
        confirmation.due_on,
        suspension_day(confirmation) - timedelta(days=REMINDER_DAYS),
    ]
    return sorted({day for day in days if day > opened_on})
