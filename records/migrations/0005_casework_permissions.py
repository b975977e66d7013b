from django.db import migrations

from lrs_portal import roles

PERMISSIONS = {
    roles.CASEWORKER: (
        "lrs_portal.view_jobrun",
        "records.view_auditrule",
        "records.change_auditrule",
        "records.view_usageday",
        "registration.view_suspension",
        "registration.change_suspension",
        "registration.decide_suspension",
    )
}


def permissions_grant(apps, schema_editor):
    roles.grant(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0004_audit_rules_usage_days_jobrun_moved"),
        ("lrs_portal", "0005_jobrun"),
        ("registration", "0003_suspensions"),
    ]

    operations = [
        migrations.RunPython(permissions_grant, migrations.RunPython.noop),
    ]
