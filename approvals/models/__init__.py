"""Bulk data share requests to the Data Sharing Approvals Panel (DSAP).

A research organisation asks for National Pupil Database extracts; a caseworker
triages the request, an independent assessor rates it against the Five Safes and
scores its risk, a panel decides, and the department releases one extract per
dataset and academic year. When the share ends, the requester certifies that the
data was destroyed.

One module per concern; every model is re-exported here, so
`from approvals.models import DataShareRequest` (and the migrations) need not
know which. Statuses change only through approvals.services (one function, one
table of allowed moves). Every model is history-tracked.
"""

from approvals.models.aftercare import (
    ApprovalCondition,
    DestructionCertificate,
    Release,
)
from approvals.models.organisations import (
    Affiliation,
    ResearchOrganisation,
)
from approvals.models.panel import (
    FIVE_SAFES,
    Assessment,
    Decision,
    PanelMeeting,
    PanelVote,
    Recommendation,
    SafeRating,
    SiroEscalation,
)
from approvals.models.requests import (
    DataShareRequest,
    RequestedDataset,
    Researcher,
)
from approvals.models.risk import (
    MINIMUM_QUORUM,
    RiskAppetiteChange,
    RiskSettings,
)

# The panel secretariat's records (meetings, casework, reminders): decision 17.
from approvals.models.secretariat import (
    AnnualReview,
    CaseAttachment,
    CaseNote,
    CaseReminder,
    Correspondence,
    MeetingAction,
    MeetingAttendance,
    MeetingMinutes,
    PublicSummary,
)

__all__ = [
    "FIVE_SAFES",
    "MINIMUM_QUORUM",
    "Affiliation",
    "AnnualReview",
    "ApprovalCondition",
    "Assessment",
    "CaseAttachment",
    "CaseNote",
    "CaseReminder",
    "Correspondence",
    "DataShareRequest",
    "Decision",
    "DestructionCertificate",
    "MeetingAction",
    "MeetingAttendance",
    "MeetingMinutes",
    "PanelMeeting",
    "PanelVote",
    "PublicSummary",
    "Recommendation",
    "Release",
    "RequestedDataset",
    "ResearchOrganisation",
    "Researcher",
    "RiskAppetiteChange",
    "RiskSettings",
    "SafeRating",
    "SiroEscalation",
]
