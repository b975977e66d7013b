"""The service's roles. Each is a Django group created by a data migration.

Model permissions are listed here as ``app_label.codename`` and granted by each
app's own data migration through ``grant``; object permissions (an organisation,
a request) are granted at run time through each app's ``permissions.py``.
"""

from typing import Any

from django.utils.translation import gettext_noop

# The groups' names, in English (the code and the casework admin use them);
# marked so the account page can show each in the page's language (decision 34).
PROVIDER_USER = gettext_noop("Provider user")
PROVIDER_SUPER_USER = gettext_noop("Provider super user")
CASEWORKER = gettext_noop("Caseworker")
DSAP_ASSESSOR = gettext_noop("DSAP assessor")
DSAP_PANEL_MEMBER = gettext_noop("DSAP panel member")
DSAP_REQUESTER = gettext_noop("DSAP requester")
SIRO = gettext_noop("Senior information risk owner")

ALL = (
    PROVIDER_USER,
    PROVIDER_SUPER_USER,
    CASEWORKER,
    DSAP_ASSESSOR,
    DSAP_PANEL_MEMBER,
    DSAP_REQUESTER,
    SIRO,
)
# Roles that use the department's admin site and so must use MFA.
STAFF_ROLES = frozenset({CASEWORKER, DSAP_ASSESSOR, DSAP_PANEL_MEMBER, SIRO})
MFA_REQUIRED = STAFF_ROLES

# Model permissions of each role. Data migrations grant them when they are first
# needed, and sync_roles (after every migrate, and after a test flush) keeps the
# groups matching this table.
_CASEWORKER_REGISTRATION = tuple(
    f"registration.{codename}"
    for codename in (
        "view_registrationapplication",
        "change_registrationapplication",
        "vet_registrationapplication",
        "decide_registrationapplication",
        "view_applicationcheck",
        "change_applicationcheck",
        "view_awardingorganisationaccreditation",
        "view_followupdiscussion",
        "add_followupdiscussion",
        "view_organisation",
        "change_organisation",
        "view_membership",
        "view_invitation",
        "view_signingrequest",
        "view_agreementsignature",
        "view_signingcode",
        "view_directoremailexception",
        "add_directoremailexception",
        "view_agreementversion",
        "add_agreementversion",
        "change_agreementversion",
        "view_reverificationcase",
        "change_reverificationcase",
        "view_checkguidance",
        "change_checkguidance",
        "view_companieshousesnapshot",
        "view_icoregistration",
        "view_suspension",
        "change_suspension",
        "decide_suspension",
        "view_apiclient",
        "revoke_apiclient",
        "view_recertificationcampaign",
        "view_recertificationconfirmation",
        "view_yearlyconfirmation",
    )
)
_CASEWORKER_RECORDS = (
    "records.view_learner",
    "records.view_achievement",
    "records.view_learnerview",
    "records.view_usagealert",
    "records.change_usagealert",
    "lrs_portal.view_jobrun",
    "lrs_portal.view_servicealert",
    "lrs_portal.view_changetrail",
    "records.view_auditrule",
    "records.change_auditrule",
    "records.view_usageday",
    "records.view_subjectaccessrequest",
    "records.add_subjectaccessrequest",
    "records.change_subjectaccessrequest",
)
# Assessors and panel members hold no model permissions: approvals.permissions
# grants them object permissions on the requests assigned to them.
_CASEWORKER_APPROVALS = tuple(
    f"approvals.{codename}"
    for codename in (
        "view_datasharerequest",
        "triage_datasharerequest",
        "release_datasharerequest",
        "view_researchorganisation",
        "add_researchorganisation",
        "change_researchorganisation",
        "view_affiliation",
        "add_affiliation",
        "change_affiliation",
        "view_requesteddataset",
        "view_researcher",
        "view_assessment",
        "view_panelmeeting",
        "add_panelmeeting",
        "change_panelmeeting",
        "view_panelvote",
        "view_decision",
        "view_siroescalation",
        "view_release",
        "view_destructioncertificate",
        "view_risksettings",
        "view_riskappetitechange",
        "view_approvalcondition",
        # The secretariat (decision 17): changed only through workflow pages.
        "view_meetingattendance",
        "view_meetingminutes",
        "view_meetingaction",
        "view_casenote",
        "view_caseattachment",
        "view_correspondence",
        "view_publicsummary",
        "view_casereminder",
        "view_annualreview",
    )
)
_SIRO_APPROVALS = (
    "approvals.view_datasharerequest",
    "approvals.accept_risk_datasharerequest",
    "approvals.view_assessment",
    "approvals.view_siroescalation",
    "approvals.view_decision",
    "approvals.view_risksettings",
    "approvals.view_riskappetitechange",
    "approvals.view_approvalcondition",
)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    PROVIDER_USER: (),
    PROVIDER_SUPER_USER: (),
    CASEWORKER: (
        "lrs_portal.view_user",
        "lrs_portal.change_user",
        *_CASEWORKER_REGISTRATION,
        *_CASEWORKER_RECORDS,
        *_CASEWORKER_APPROVALS,
    ),
    DSAP_ASSESSOR: (),
    DSAP_PANEL_MEMBER: (),
    DSAP_REQUESTER: (),
    SIRO: _SIRO_APPROVALS,
}


def sync_roles(**_: Any) -> None:
    """Make every role's group exist with its listed permissions, and the system
    user exist (post_migrate: also after a test database flush)."""
    from django.apps import apps as global_apps
    from django.contrib.auth import get_user_model

    # The user model through auth, not lrs_portal.models: the models import
    # these roles, so importing them back would close a loop.
    User = get_user_model()

    group_model = global_apps.get_model("auth", "Group")
    permission_model = global_apps.get_model("auth", "Permission")
    for role, names in PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # its app may not be migrated yet
                group.permissions.add(permission)
    if not User.objects.filter(email=User.SYSTEM_EMAIL).exists():
        system = User(
            email=User.SYSTEM_EMAIL,
            full_name="LRS Portal scheduled jobs",
            is_active=False,
        )
        system.set_unusable_password()
        system.save()


def grant(apps: Any, role_permissions: dict[str, tuple[str, ...]]) -> None:
    """Create the roles' groups and add the listed model permissions (migrations)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in role_permissions.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                permission_model.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )
