"""Who may see and do what in registration: the only place permission strings live.

"Not found" and "not yours" both give 404 (architecture.md rule 6): views call
these and raise Http404 when they say no.
"""

from django.contrib.auth.models import Group
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from lrs_portal import roles
from lrs_portal.models import User
from registration.models import (
    ApiClient,
    Membership,
    Organisation,
    RegistrationApplication,
)

_MEMBER_PERMS = ("registration.view_organisation",)
_SUPER_USER_PERMS = (
    "registration.view_organisation",
    "registration.manage_users_organisation",
    "registration.view_usage_organisation",
)


def member_permissions_grant(
    *, user: User, organisation: Organisation, super_user: bool
) -> None:
    """Give a member their role and object permissions on their organisation only."""
    names = [roles.PROVIDER_USER] + ([roles.PROVIDER_SUPER_USER] if super_user else [])
    user.groups.add(*Group.objects.filter(name__in=names))
    for perm in _SUPER_USER_PERMS if super_user else _MEMBER_PERMS:
        assign_perm(perm, user, organisation)


def member_permissions_revoke(*, user: User, organisation: Organisation) -> None:
    """Take away a former member's role and object permissions."""
    user.groups.remove(
        *Group.objects.filter(name__in=[roles.PROVIDER_USER, roles.PROVIDER_SUPER_USER])
    )
    for perm in _SUPER_USER_PERMS:
        remove_perm(perm, user, organisation)


def organisations_visible_to(user: User) -> QuerySet[Organisation]:
    """Organisations a provider user may see: their own only."""
    return get_objects_for_user(
        user,
        "registration.view_organisation",
        klass=Organisation,
        accept_global_perms=False,
    )


def _own_access_suspended(user: User) -> bool:
    """Whether a suspension of this user (not their organisation) is in force."""
    return Membership.objects.filter(user=user, suspended_at__isnull=False).exists()


def can_manage_users(user: User, organisation: Organisation) -> bool:
    """Only the organisation's super user invites and removes its users, and not
    while their own access is suspended."""
    if not user.is_active or _own_access_suspended(user):
        return False
    return user.has_perm("registration.manage_users_organisation", organisation)


def can_recertify_department(user: User) -> bool:
    """Only a superuser confirms the department's caseworkers, assessors and
    panel members each quarter (decision 0029)."""
    return user.is_active and user.is_staff and user.is_superuser


def can_view_usage(user: User, organisation: Organisation) -> bool:
    """Only the organisation's super user sees its usage and log, and not while
    their own access is suspended (the log lists the ULNs searched)."""
    if not user.is_active or _own_access_suspended(user):
        return False
    return user.has_perm("registration.view_usage_organisation", organisation)


def can_explain_suspension(user: User, organisation: Organisation) -> bool:
    """The organisation's super user reads its suspensions and explains them,
    even while suspended themselves: that is what the page is for."""
    if not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, organisation=organisation, is_super_user=True
    ).exists()


def applications_visible_to(user: User) -> QuerySet[RegistrationApplication]:
    """A provider sees only the applications they made."""
    return RegistrationApplication.objects.filter(applicant=user)


def can_edit_application(user: User, application: RegistrationApplication) -> bool:
    """The applicant edits their application while it is a draft or sent back."""
    if application.applicant_id != user.pk:
        return False
    return application.is_editable


def can_vet(user: User) -> bool:
    """Caseworkers record check outcomes, follow-ups and requests for information."""
    return user.is_active and user.has_perm("registration.vet_registrationapplication")


def can_decide(user: User, application: RegistrationApplication) -> bool:
    """Caseworkers approve or reject, never an application of their own."""
    if application.applicant_id == user.pk:
        return False
    return user.is_active and user.has_perm(
        "registration.decide_registrationapplication"
    )


def can_manage_agreements(user: User) -> bool:
    """Caseworkers publish new agreement versions."""
    return user.is_active and user.has_perm("registration.add_agreementversion")


def can_change_organisation_status(user: User) -> bool:
    """Caseworkers suspend, reinstate and revoke organisations."""
    return user.is_active and user.has_perm("registration.change_organisation")


def can_manage_api_clients(user: User, organisation: Organisation) -> bool:
    """Only the organisation's super user issues, rotates and revokes its API
    clients, and not while their own access is suspended (as for its users)."""
    return can_manage_users(user, organisation)


def api_clients_visible_to(
    user: User, organisation: Organisation
) -> QuerySet[ApiClient]:
    """The organisation's API clients, to its super user; nobody else's."""
    if not can_manage_api_clients(user, organisation):
        return ApiClient.objects.none()
    return ApiClient.objects.filter(organisation=organisation)


def can_revoke_api_client(user: User) -> bool:
    """Caseworkers revoke any organisation's API client, saying why."""
    return user.is_active and user.has_perm("registration.revoke_apiclient")
