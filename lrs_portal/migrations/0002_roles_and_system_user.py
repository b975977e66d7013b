from django.contrib.auth.hashers import make_password
from django.db import migrations

from lrs_portal import roles

SYSTEM_EMAIL = "system@lrs-portal.invalid"
# What this migration granted, frozen: roles.PERMISSIONS grows with later apps,
# whose own migrations (and roles.sync_roles) grant their permissions.
ROLE_PERMISSIONS = {
    roles.PROVIDER_USER: (),
    roles.PROVIDER_SUPER_USER: (),
    roles.CASEWORKER: ("lrs_portal.view_user", "lrs_portal.change_user"),
    roles.DSAP_ASSESSOR: (),
    roles.DSAP_PANEL_MEMBER: (),
    roles.DSAP_REQUESTER: (),
}


def create_roles(apps, schema_editor):
    roles.grant(apps, ROLE_PERMISSIONS)


def create_system_user(apps, schema_editor):
    user_model = apps.get_model("lrs_portal", "User")
    user_model.objects.get_or_create(
        email=SYSTEM_EMAIL,
        defaults={
            "full_name": "LRS Portal scheduled jobs",
            "is_active": False,
            "password": make_password(None),  # unusable: it can never sign in
        },
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=roles.ALL).delete()


def remove_system_user(apps, schema_editor):
    apps.get_model("lrs_portal", "User").objects.filter(email=SYSTEM_EMAIL).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lrs_portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_system_user, remove_system_user),
    ]
