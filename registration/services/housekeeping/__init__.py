"""The deregistration ladder, run each night (issue 5, architecture rule 7).

Each step is planned first, from what the database says now, as an ``Action``: a
line saying what it does and a function that does it through the one transition
service, as the system user and with a reason. A dry run prints the lines and
does nothing; a real run does each action and counts it in the JobRun.

Every step is keyed so that a second run the same day, or a run after a
caseworker's decision, does nothing new: a housekeeping suspension is opened once
per organisation, cause and day (the day the cause began: the re-sign deadline,
the day the company stopped being active, the day the ICO registration lapsed),
so a reinstated one is never opened again for the same cause (rule 7).

One module per rung: suspending (agreement, company, ICO, yearly confirmation),
deregistration, dormancy, accounts; steps holds the Action they all return and
job plans and runs them.
"""

from registration.services.housekeeping.job import (
    HousekeepingOutcome,
    housekeeping_plan,
    housekeeping_run,
)
from registration.services.housekeeping.steps import (
    Action,
)

__all__ = [
    "Action",
    "HousekeepingOutcome",
    "housekeeping_plan",
    "housekeeping_run",
]
