"""Quarterly recertification of providers' users (issue 14, decision 0029).

Each quarter every registered organisation's super users are asked to confirm
that each of their other users still needs LRS access. A user not confirmed
within RECERTIFICATION_DAYS cannot look up learners (records.permissions reads
Membership.recertify_by, set here) until a super user confirms them; removing a
user goes through membership_remove. The daily job opens the quarter's campaigns
and tells those who lost access; run twice, it creates and sends nothing twice.

One module per part: campaigns (the quarter, and opening an organisation's
campaign), department (the department's own staff), answers (confirming or
removing a user) and job (telling those who lost access, and the daily run).
Every name is importable from here as before.
"""

from registration.services.recertification.answers import (
    RecertificationRefused,
    recertification_confirm,
    recertification_pending,
    recertification_remove,
)
from registration.services.recertification.campaigns import (
    PENDING,
    quarter_start,
    recertification_open,
)
from registration.services.recertification.department import (
    DEPARTMENT_ROLES,
    department_recertification_open,
    department_recertification_pending,
    department_staff,
    staff_recertification_lapsed,
)
from registration.services.recertification.job import (
    JOB,
    RecertificationOutcome,
    recertification_notify_lapsed,
    recertification_run,
)

__all__ = [
    "DEPARTMENT_ROLES",
    "JOB",
    "PENDING",
    "RecertificationOutcome",
    "RecertificationRefused",
    "department_recertification_open",
    "department_recertification_pending",
    "department_staff",
    "quarter_start",
    "recertification_confirm",
    "recertification_notify_lapsed",
    "recertification_open",
    "recertification_pending",
    "recertification_remove",
    "recertification_run",
    "staff_recertification_lapsed",
]
