"""Every write in approvals that changes a status or has a side effect.

Split by who acts: requests (the requester, and the one transition function),
casework (triage), assessment, voting (the panel's votes),
decisions (the SIRO and the decision) and aftercare (releases, the nightly
end-date job, destruction certificates). The secretariat's (decision 17) are
imported from their own modules: meetings (attendance, minutes, sign-off),
secretariat (time targets and the daily reminders) and casefile (notes,
attachments, correspondence, the public summary, changes, annual reviews).
"""

from approvals.services.aftercare import (
    certificate_accept,
    certificate_submit,
    release_record,
    researchers_to_flag,
    shares_nightly,
)
from approvals.services.assessment import assessment_record, risk_score
from approvals.services.casework import (
    request_accept_for_assessment,
    request_assign_assessor,
    request_return_for_information,
)
from approvals.services.conditions import (
    condition_lines,
    condition_mark_met,
    conditions_unmet,
)
from approvals.services.decisions import (
    decision_blockers,
    decision_record,
    escalation_refusals,
    risk_escalation_record,
)
from approvals.services.panel import (
    current_escalation,
    meeting_change_refusals,
    meeting_day_refusal,
    votes_set_aside_for_affiliation,
)
from approvals.services.requests import (
    REQUEST_TRANSITIONS,
    Refused,
    dataset_add,
    dataset_remove,
    request_missing_sections,
    request_save_answers,
    request_start,
    request_submit,
    request_transition,
    request_withdraw,
    requester_add,
    researcher_add,
    researcher_remove,
)
from approvals.services.risk import risk_appetite_change
from approvals.services.voting import (
    panel_conflict_declare,
    panel_vote_cast,
    request_place_on_meeting,
    votes_counted,
    votes_set_aside,
)

__all__ = [
    "REQUEST_TRANSITIONS",
    "Refused",
    "assessment_record",
    "certificate_accept",
    "certificate_submit",
    "condition_lines",
    "condition_mark_met",
    "conditions_unmet",
    "current_escalation",
    "dataset_add",
    "dataset_remove",
    "decision_blockers",
    "decision_record",
    "escalation_refusals",
    "meeting_change_refusals",
    "meeting_day_refusal",
    "panel_conflict_declare",
    "panel_vote_cast",
    "release_record",
    "request_accept_for_assessment",
    "request_assign_assessor",
    "request_missing_sections",
    "request_place_on_meeting",
    "request_return_for_information",
    "request_save_answers",
    "request_start",
    "request_submit",
    "request_transition",
    "request_withdraw",
    "requester_add",
    "researcher_add",
    "researcher_remove",
    "researchers_to_flag",
    "risk_appetite_change",
    "risk_escalation_record",
    "risk_score",
    "shares_nightly",
    "votes_counted",
    "votes_set_aside",
    "votes_set_aside_for_affiliation",
]
