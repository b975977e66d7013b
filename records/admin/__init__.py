"""Learners, the lookup log, usage alerts and the usage casework in the department's
admin (job runs are in lrs_portal's).

Learner and LearnerView are large (28M learners, 10M+ log rows), so their pages
must stay under 300 ms (architecture.md):

- counts come from the planner's estimate or stop at 10,000 rows
  (RecordsPaginator; 1,000 for the log, LogPaginator), and pages stop there;
- every search is an indexed equality: a ULN, a family name through the
  UPPER(family_name) expression index, a request id inside a time window;
- filters are text boxes or fixed choices, never a list built from the table,
  and facet counts are off;
- columns sort only where an index gives the order.

Nothing here adds, changes or deletes a learner, achievement or log row: import
commands load learners and the lookup services write the log.

The admin is in modules, one concern each: ``base`` (what they share: the large
tables' paging, counting and sorting), ``learners`` (learners and achievements,
with the learner's access report), ``log`` (the lookup log, its filters and the
subject access report from its list), ``alerts`` (usage alerts and closing them),
``suspensions`` (Suspension's casework), ``suspension_chart`` (the usage a case's
page draws), ``casework_dashboard`` and ``audit_rules`` (the audit's rules and the
counts it keeps).
"""

# Importing the modules registers their ModelAdmins (the admin's pages list them by
# name, whatever the order); subject access requests and the purpose profile
# panels are registered after them, as before.
from records.admin import alerts, audit_rules, learners, log, suspensions

# isort: split
from records import purpose_admin, subject_access_admin

__all__ = [
    "alerts",
    "audit_rules",
    "learners",
    "log",
    "purpose_admin",
    "subject_access_admin",
    "suspensions",
]
