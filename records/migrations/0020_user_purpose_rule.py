"""The per-user purpose rule (issue 13): one member of an ordinary organisation
searching for a third party. Its row is added with its defaults, as
records.audit.audit_rules_ensure would add it, so it is in admin with history
from the moment the migration runs."""

from django.db import migrations, models


def add_user_purpose_rule(apps, schema_editor):
    from records.audit_defaults import DEFAULT_USER_PURPOSE_RULES

    AuditRule = apps.get_model("records", "AuditRule")
    for code, threshold, minimum, suspends, description in DEFAULT_USER_PURPOSE_RULES:
        AuditRule.objects.get_or_create(
            code=code,
            defaults={
                "threshold": threshold,
                "minimum_volume": minimum,
                "suspends": suspends,
                "description": description,
            },
        )


def remove_user_purpose_rule(apps, schema_editor):
    apps.get_model("records", "AuditRule").objects.filter(code="user_purpose").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0019_learnerview_learner_band_and_area'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditrule',
            name='code',
            field=models.CharField(choices=[('org_volume', 'Organisation volume above its expected volume'), ('user_volume', 'User volume above a daily cap'), ('user_spike', 'User volume far above their own baseline'), ('no_match_rate', 'High no-match rate in detail searches'), ('consecutive_ulns', 'Searches of consecutive ULNs'), ('night_time', 'Lookups outside working hours'), ('age_profile', 'Learners found far older than its purpose'), ('geographic_spread', 'Learners found far from its address'), ('detail_share', 'Nearly every search by details, not ULN'), ('purpose_change', 'A sudden change from its own pattern'), ('user_purpose', "One user's lookups unlike their organisation's")], max_length=40, unique=True),
        ),
        migrations.AlterField(
            model_name='historicalauditrule',
            name='code',
            field=models.CharField(choices=[('org_volume', 'Organisation volume above its expected volume'), ('user_volume', 'User volume above a daily cap'), ('user_spike', 'User volume far above their own baseline'), ('no_match_rate', 'High no-match rate in detail searches'), ('consecutive_ulns', 'Searches of consecutive ULNs'), ('night_time', 'Lookups outside working hours'), ('age_profile', 'Learners found far older than its purpose'), ('geographic_spread', 'Learners found far from its address'), ('detail_share', 'Nearly every search by details, not ULN'), ('purpose_change', 'A sudden change from its own pattern'), ('user_purpose', "One user's lookups unlike their organisation's")], db_index=True, max_length=40),
        ),
        migrations.RunPython(add_user_purpose_rule, remove_user_purpose_rule),
    ]
