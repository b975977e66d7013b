"""Learners, their achievements, the append-only log of every search and view,
usage alerts and the nightly audit's days, subject access requests and batches.

One module per concern; every model is re-exported here, so
`from records.models import Learner` (and the migrations) need not know which.
"""

# Batch matching's models (records/models/batches.py).
from records.models.batches import Batch, BatchRow
from records.models.learners import (
    Achievement,
    Learner,
    LearnerLink,
)
from records.models.log import (
    LearnerView,
)
from records.models.monitoring import (
    AuditedDay,
    AuditRule,
    PurposeDay,
    UsageAlert,
    UsageDay,
)
from records.models.subject_access import (
    SubjectAccessRequest,
)

__all__ = [
    "Achievement",
    "AuditRule",
    "AuditedDay",
    "Batch",
    "BatchRow",
    "Learner",
    "LearnerLink",
    "LearnerView",
    "PurposeDay",
    "SubjectAccessRequest",
    "UsageAlert",
    "UsageDay",
]
