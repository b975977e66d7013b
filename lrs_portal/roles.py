"""The service's roles. Each is a Django group created by a data migration.

Model permissions are listed here as ``app_label.codename`` and granted by each
app's own data migration through ``grant``; object permissions (an organisation,
a request) are granted at run time through each app's ``permissions.py``.
"""

from typing import Any

PROVIDER_USER = "Provider user"
PROVIDER_SUPER_USER = "Provider super user"
CASEWORKER = "Caseworker"
DSAP_ASSESSOR = "DSAP assessor"
DSAP_PANEL_MEMBER = "DSAP panel member"
DSAP_REQUESTER = "DSAP requester"

ALL = (
    PROVIDER_USER,
    PROVIDER_SUPER_USER,
    CASEWORKER,
    DSAP_ASSESSOR,
    DSAP_PANEL_MEMBER,
    DSAP_REQUESTER,
)
# Roles that use the department's admin site and so must use MFA.
STAFF_ROLES = frozenset({CASEWORKER, DSAP_ASSESSOR, DSAP_PANEL_MEMBER})
MFA_REQUIRED = STAFF_ROLES

# Model permissions of each role for lrs_portal's own models. Each app grants its
# own models' permissions in a data migration (registration 0002, for example).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    PROVIDER_USER: (),
    PROVIDER_SUPER_USER: (),
    CASEWORKER: ("lrs_portal.view_user", "lrs_portal.change_user"),
    DSAP_ASSESSOR: (),
    DSAP_PANEL_MEMBER: (),
    DSAP_REQUESTER: (),
}


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
