"""Run the nightly data share job now: reminders, closing ended shares, overdue
certificate alerts. Safe to run again: a second run sends nothing new."""

from approvals.management.daily_job import daily_job_command
from approvals.services import shares_nightly

Command = daily_job_command(shares_nightly, label="Data share job", doc=__doc__ or "")
