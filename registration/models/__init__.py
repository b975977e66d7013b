"""Organisations, their registration applications and vetting checks, the LRS
agreement and its signatures, memberships and invitations, suspensions and
re-verification cases, and the periodic confirmations of access.

One module per concern; every model is re-exported here, so
`from registration.models import Organisation` (and the migrations) need not
know which. Statuses change only through registration.services (one function
per workflow, with a table of allowed moves). Every model is history-tracked.
"""

# API clients live in a module of their own (registration/api_clients.py).
from registration.api_clients import ApiClient
from registration.models.agreements import (
    AgreementSignature,
    AgreementVersion,
    DirectorEmailException,
    SigningCode,
    SigningRequest,
    sha256_text,
)
from registration.models.applications import (
    ApplicationCheck,
    AwardingOrganisationAccreditation,
    CheckGuidance,
    CheckKind,
    FollowUpDiscussion,
    RegistrationApplication,
)
from registration.models.cases import (
    ReverificationCase,
    Suspension,
)
from registration.models.confirmations import (
    RecertificationCampaign,
    RecertificationConfirmation,
    Reminder,
    YearlyConfirmation,
)
from registration.models.declared_learners import (
    LEARNER_REACH_KM_MAX,
    DeclaredLearners,
    LearnerAge,
    LearnerReach,
    learner_ages_words,
    learner_reach_words,
)
from registration.models.organisations import (
    Invitation,
    Membership,
    Organisation,
)
from registration.models.registers import (
    CompaniesHouseSnapshot,
    IcoRegistration,
)

__all__ = [
    "LEARNER_REACH_KM_MAX",
    "AgreementSignature",
    "AgreementVersion",
    "ApiClient",
    "ApplicationCheck",
    "AwardingOrganisationAccreditation",
    "CheckGuidance",
    "CheckKind",
    "CompaniesHouseSnapshot",
    "DeclaredLearners",
    "DirectorEmailException",
    "FollowUpDiscussion",
    "IcoRegistration",
    "Invitation",
    "LearnerAge",
    "LearnerReach",
    "Membership",
    "Organisation",
    "RecertificationCampaign",
    "RecertificationConfirmation",
    "RegistrationApplication",
    "Reminder",
    "ReverificationCase",
    "SigningCode",
    "SigningRequest",
    "Suspension",
    "YearlyConfirmation",
    "learner_ages_words",
    "learner_reach_words",
    "sha256_text",
]
