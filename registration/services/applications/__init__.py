"""Registration applications: apply, vet check by check, decide.

One module per part: moves (the table of status moves, the one function that
changes it, ApprovalBlocked), applying (the provider starts, completes, submits
or withdraws one), vetting (the automatic checks and the caseworker's outcomes,
requests for information, follow-up discussions) and decisions (what blocks
approval, approval and rejection). Every name is importable from here as before.
"""

from registration.services.applications.applying import (
    PURPOSE_MIN_LENGTH,
    RUN_CHECKS_TASK,
    application_missing_sections,
    application_start,
    application_submit,
    application_withdraw,
    reregistration_start,
)
from registration.services.applications.decisions import (
    application_approve,
    application_reject,
    approval_blockers,
)
from registration.services.applications.moves import (
    APPLICATION_TRANSITIONS,
    ApprovalBlocked,
    application_transition,
)
from registration.services.applications.vetting import (
    application_record_follow_up,
    application_request_information,
    application_run_checks,
    check_record_outcome,
)

__all__ = [
    "APPLICATION_TRANSITIONS",
    "PURPOSE_MIN_LENGTH",
    "RUN_CHECKS_TASK",
    "ApprovalBlocked",
    "application_approve",
    "application_missing_sections",
    "application_record_follow_up",
    "application_reject",
    "application_request_information",
    "application_run_checks",
    "application_start",
    "application_submit",
    "application_transition",
    "application_withdraw",
    "approval_blockers",
    "check_record_outcome",
    "reregistration_start",
]
