"""The yearly confirmation of an organisation's registration (issue 14,
decision 0031).

Each year, as the anniversary of its registration nears, every registered
organisation's super users are asked to confirm what it registered with: its
purpose, the learners it serves a year, its awarding organisations and that the
director who signed the agreement is still in office (checked against Companies
House's officers). Nothing changed: it is confirmed. A change opens a
re-verification case for caseworkers, like a change of identity, and nothing on
the organisation changes until a caseworker resolves it. Not answered
YEARLY_CONFIRMATION_GRACE_DAYS after it was due, housekeeping suspends the
organisation (registration.services.housekeeping); answering lifts it.

The daily job opens the confirmations and sends the reminders; run twice, it
creates and sends nothing twice (a unique anniversary per organisation, a row
lock, and each reminder's reference naming its day).

One module per part: dates (the anniversary, the reminders' days, the day of the
suspension), on_record (what the organisation registered with, and its director
at Companies House), opening (opening, reminding, the daily job) and answers (the
super user's answer). Every name is importable from here as before.
"""

from registration.services.yearly_confirmation.answers import (
    SOURCE,
    Answers,
    YearlyConfirmationRefused,
    answer_changes,
    yearly_confirmation_answer,
    yearly_confirmation_pending,
)
from registration.services.yearly_confirmation.dates import (
    CAUSE,
    PENDING,
    REMINDER_DAYS,
    anniversary_next,
    reminder_days,
    suspension_day,
)
from registration.services.yearly_confirmation.on_record import (
    CURRENT,
    NOT_CURRENT,
    UNKNOWN,
    director_standing,
    registration_on_record,
)
from registration.services.yearly_confirmation.opening import (
    JOB,
    YearlyConfirmationOutcome,
    yearly_confirmation_open,
    yearly_confirmation_remind,
    yearly_confirmation_run,
)

__all__ = [
    "CAUSE",
    "CURRENT",
    "JOB",
    "NOT_CURRENT",
    "PENDING",
    "REMINDER_DAYS",
    "SOURCE",
    "UNKNOWN",
    "Answers",
    "YearlyConfirmationOutcome",
    "YearlyConfirmationRefused",
    "anniversary_next",
    "answer_changes",
    "director_standing",
    "registration_on_record",
    "reminder_days",
    "suspension_day",
    "yearly_confirmation_answer",
    "yearly_confirmation_open",
    "yearly_confirmation_pending",
    "yearly_confirmation_remind",
    "yearly_confirmation_run",
]
