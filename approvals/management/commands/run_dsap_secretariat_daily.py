"""Run the DSAP secretariat's daily job now: reminders to assessors and to members
who have not voted, accreditation warnings and access ends, annual reviews. Safe
to run again: a second run sends nothing new."""

from approvals.management.daily_job import daily_job_command
from approvals.services.secretariat import secretariat_daily

Command = daily_job_command(
    secretariat_daily, label="DSAP secretariat job", doc=__doc__ or ""
)
