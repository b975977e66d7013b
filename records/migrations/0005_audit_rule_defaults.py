from decimal import Decimal

from django.db import migrations

from lrs_portal import roles

# The audit rules' defaults, which caseworkers tune in admin afterwards.
RULES = (
    (
        "org_volume",
        Decimal("3"),
        20,
        True,
        "The organisation's searches in a day are above this multiple of its "
        "expected daily volume (declared learners a year over 200 working days), "
        "and above the minimum volume.",
    ),
    (
        "user_volume",
        Decimal("150"),
        0,
        True,
        "One user made more than this many searches in a day.",
    ),
    (
        "user_spike",
        Decimal("5"),
        50,
        False,
        "One user's searches are above this multiple of their own usual daily "
        "searches (the mean of their active days over the previous 28 days, "
        "false positives left out).",
    ),
    (
        "no_match_rate",
        Decimal("0.5"),
        20,
        False,
        "More than this share (0 to 1) of a user's searches by details found "
        "nobody: a sign of fishing for people who are not the organisation's "
        "students. Applies from the minimum volume of such searches.",
    ),
    (
        "consecutive_ulns",
        Decimal("20"),
        0,
        True,
        "A user searched a run of at least this many consecutive ULNs in a day: "
        "a sign of enumerating the register.",
    ),
    (
        "night_time",
        Decimal("30"),
        0,
        False,
        "A user made more than this many lookups outside working hours "
        "(AUDIT_WORKING_HOURS_START to AUDIT_WORKING_HOURS_END, UK time).",
    ),
)

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


def rules_create(apps, schema_editor):
    rule_model = apps.get_model("records", "AuditRule")
    for code, threshold, minimum, suspends, description in RULES:
        rule_model.objects.get_or_create(
            code=code,
            defaults={
                "threshold": threshold,
                "minimum_volume": minimum,
                "suspends": suspends,
                "description": description,
            },
        )


def permissions_grant(apps, schema_editor):
    roles.grant(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0004_audit_rules_usage_days_jobrun_moved"),
        ("lrs_portal", "0005_jobrun"),
        ("registration", "0003_suspensions"),
    ]

    operations = [
        migrations.RunPython(rules_create, migrations.RunPython.noop),
        migrations.RunPython(permissions_grant, migrations.RunPython.noop),
    ]
