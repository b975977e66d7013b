"""Every write in registration that changes a status or has a side effect.

Split by workflow: applications (apply, vet, decide), agreements (signing),
organisations (status, identity changes, revocation) and members (invitations).
"""

from registration.services.agreements import (
    agreement_current_version,
    agreement_publish_recipients,
    agreement_sign,
    agreement_version_publish,
    signing_request_find,
    signing_request_send,
)
from registration.services.applications import (
    APPLICATION_TRANSITIONS,
    ApprovalBlocked,
    application_approve,
    application_missing_sections,
    application_record_follow_up,
    application_reject,
    application_request_information,
    application_run_checks,
    application_start,
    application_submit,
    application_transition,
    application_withdraw,
    approval_blockers,
    check_record_outcome,
    reregistration_start,
)
from registration.services.members import (
    invitation_accept,
    invitation_find,
    invitation_send,
    membership_accept_terms,
    membership_remove,
)
from registration.services.organisations import (
    ORGANISATION_TRANSITIONS,
    organisation_change_details,
    organisation_reinstate,
    organisation_revoke,
    organisation_transition,
    reverification_open,
    reverification_resolve,
)

__all__ = [
    "APPLICATION_TRANSITIONS",
    "ORGANISATION_TRANSITIONS",
    "ApprovalBlocked",
    "agreement_current_version",
    "agreement_publish_recipients",
    "agreement_sign",
    "agreement_version_publish",
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
    "invitation_accept",
    "invitation_find",
    "invitation_send",
    "membership_accept_terms",
    "membership_remove",
    "organisation_change_details",
    "organisation_reinstate",
    "organisation_revoke",
    "organisation_transition",
    "reregistration_start",
    "reverification_open",
    "reverification_resolve",
    "signing_request_find",
    "signing_request_send",
]
