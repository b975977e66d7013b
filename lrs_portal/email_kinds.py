"""The kinds of email the service sends, each with its GOV.UK Notify template
(decision 0028).

A notification's kind is its reference with the parts that name one case (a
database id, a request reference, a date) left out: ``suspension.12.opened`` is of
kind ``suspension.opened``. Every kind is listed here, with the environment
variable that holds its Notify template id; queueing an email of a kind not
listed is refused, so the deploy check (lrs_portal.checks) can say that every email
the service can send has a template.

Every template is filled with the same two personalisation fields, written in the
repository: ``((subject))`` for the template's subject line and ``((body))`` for
its message. The wording is reviewed and tested with the code and reads the same
in the console, in tests and in the inbox; a template per kind lets the
department brand, pause or report on each kind in Notify on its own.

This module imports nothing from Django: settings reads it.
"""

from dataclasses import dataclass

PERSONALISATION = ("subject", "body")


@dataclass(frozen=True)
class EmailKind:
    name: str
    setting: str
    recipient: str
    sent_when: str
    # A permanent failure to this recipient opens a task for caseworkers.
    to_director: bool = False


def _kind(name: str, recipient: str, sent_when: str, **extra: bool) -> EmailKind:
    setting = "NOTIFY_TEMPLATE_" + name.upper().replace(".", "_")
    return EmailKind(name, setting, recipient, sent_when, **extra)


EMAIL_KINDS: tuple[EmailKind, ...] = (
    _kind(
        "agreement.signing_link",
        "the nominated director",
        "a director is asked to sign the agreement",
        to_director=True,
    ),
    _kind(
        "agreement.links_not_sent",
        "caseworkers",
        "signing links for a new agreement version could not be sent",
    ),
    _kind(
        "agreement.director_nominated",
        "caseworkers",
        "a super user nominates a signing director",
    ),
    _kind(
        "agreement.director_changed",
        "caseworkers",
        "the signing director changes",
    ),
    _kind(
        "members.invitation",
        "an invited provider user",
        "a super user invites someone to the organisation",
    ),
    _kind(
        "housekeeping.deregistered",
        "the organisation's super users",
        "housekeeping deregisters the organisation",
    ),
    _kind(
        "housekeeping.dormancy_warning",
        "the organisation's super users",
        "the organisation has not searched for a long time",
    ),
    _kind(
        "housekeeping.user.unused_warning",
        "a provider user",
        "housekeeping warns that an unused account will be closed",
    ),
    _kind(
        "housekeeping.user.deactivated",
        "the organisation's super users",
        "housekeeping closes an account that is not used",
    ),
    _kind(
        "reverification.cases_opened",
        "caseworkers",
        "the nightly re-verification opens cases",
    ),
    _kind(
        "suspension.opened",
        "super users and caseworkers",
        "access is suspended",
    ),
    _kind(
        "suspension.explained",
        "caseworkers",
        "an organisation explains a suspension",
    ),
    _kind(
        "suspension.upheld", "the organisation's super users", "a suspension is upheld"
    ),
    _kind(
        "suspension.reinstated",
        "the organisation's super users",
        "access is reinstated",
    ),
    _kind(
        "suspension.lifted", "the organisation's super users", "a suspension is lifted"
    ),
    _kind(
        "suspension.escalated",
        "the organisation's super users",
        "access is revoked",
    ),
    _kind(
        "approvals.requester",
        "a data share requester",
        "their request moves on or needs an answer",
    ),
    _kind(
        "approvals.staff",
        "assessors and panel members",
        "a data share request needs them",
    ),
    _kind(
        "approvals.accreditation",
        "caseworkers",
        "a researcher's accreditation expires or their access ends",
    ),
    _kind("approvals.review", "caseworkers", "a data share's annual review is due"),
    _kind("approvals.overdue", "caseworkers", "a destruction certificate is overdue"),
    _kind("jobs.late", "caseworkers", "a nightly job has not completed"),
    _kind(
        "trail.outside_change",
        "caseworkers",
        "a change was made outside the portal",
    ),
    _kind(
        "notify.permanent_failure",
        "caseworkers",
        "an email to a director or super user could not be delivered",
    ),
    _kind(
        "api_client.expiry",
        "the organisation's super users and the client's member",
        "an API client expires in 30 days, and again in 7",
    ),
    _kind(
        "recertification.opened",
        "the organisation's super users",
        "a quarter's recertification asks them to confirm their users",
    ),
    _kind(
        "recertification.lapsed",
        "the organisation's super users",
        "users not confirmed in time can no longer look up learners",
    ),
    _kind(
        "recertification.user.lapsed",
        "a provider user",
        "their super user did not confirm they still need LRS access in time",
    ),
    _kind(
        "recertification.department.opened",
        "superusers",
        "a quarter's recertification asks them to confirm the department's "
        "caseworkers, assessors and panel members",
    ),
    _kind(
        "recertification.department.lapsed",
        "superusers",
        "department staff not confirmed in time can no longer use the admin site",
    ),
    _kind(
        "recertification.staff.lapsed",
        "a caseworker, assessor or panel member",
        "no superuser confirmed in time that they still need department access",
    ),
    _kind(
        "yearly_confirmation.opened",
        "the organisation's super users",
        "the year's confirmation of the registration opens, before its anniversary",
    ),
    _kind(
        "yearly_confirmation.reminder",
        "the organisation's super users",
        "the yearly confirmation is due in 7 days, due today, or the organisation "
        "is suspended in 7 days without it",
    ),
    _kind(
        "yearly_confirmation.changed",
        "caseworkers",
        "a super user reports a change at the yearly confirmation",
    ),
    _kind(
        "application.draft_reminder",
        "the applicant",
        "their draft application has not changed for "
        "APPLICATION_DRAFT_FIRST_REMINDER_DAYS (7)",
    ),
    _kind(
        "application.draft_last_reminder",
        "the applicant",
        "their draft application has not changed for "
        "APPLICATION_DRAFT_LAST_REMINDER_DAYS (21)",
    ),
    _kind(
        "application.information_reminder",
        "the applicant",
        "a caseworker's request for information is unanswered after "
        "APPLICATION_INFORMATION_REMINDER_DAYS (14)",
    ),
    _kind(
        "application.signing_link_expiring",
        "the applicant",
        "their director's signing link expires within SIGNING_LINK_REMINDER_DAYS "
        "(3) and the director has not signed",
    ),
    _kind(
        "agreement.signing_link_reminder",
        "the nominated director",
        "their signing link expires within SIGNING_LINK_REMINDER_DAYS (3)",
        to_director=True,
    ),
    _kind(
        "agreement.resign_reminder",
        "the signing director and the organisation's super users",
        "a new agreement version's re-sign deadline is "
        "AGREEMENT_RESIGN_FIRST_REMINDER_DAYS (14), and again "
        "AGREEMENT_RESIGN_LAST_REMINDER_DAYS (3), away and it is not signed",
    ),
)

BY_NAME = {kind.name: kind for kind in EMAIL_KINDS}


def kind_of(reference: str) -> str:
    """A reference's kind: its dot-separated parts, less those with a digit."""
    return ".".join(
        part for part in reference.split(".") if not any(c.isdigit() for c in part)
    )
