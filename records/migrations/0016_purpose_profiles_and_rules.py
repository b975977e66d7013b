"""The purpose rules (issue 13): what lookups are for, not only how many.

PurposeDay keeps, per organisation and per user and day, the learners found in
age bands, postcode areas and distance bands (never a name, date of birth or
postcode); alerts can be closed as false positives, which the purpose rules then
accept until the pattern moves; and the four new rules are added as rows with
their defaults (the same rows records.audit.audit_rules_ensure would add), so
they are in admin, with history, from the moment the migration runs."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def add_purpose_rules(apps, schema_editor):
    from records.audit_defaults import DEFAULT_PURPOSE_RULES

    AuditRule = apps.get_model("records", "AuditRule")
    for code, threshold, minimum, suspends, description in DEFAULT_PURPOSE_RULES:
        AuditRule.objects.get_or_create(
            code=code,
            defaults={
                "threshold": threshold,
                "minimum_volume": minimum,
                "suspends": suspends,
                "description": description,
            },
        )


def remove_purpose_rules(apps, schema_editor):
    from records.audit_defaults import PURPOSE_RULES

    apps.get_model("records", "AuditRule").objects.filter(code__in=PURPOSE_RULES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0015_subject_access_requests'),
        ('registration', '0008_signing_codes_and_exceptions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalusagealert',
            name='false_positive',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='usagealert',
            name='false_positive',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='auditrule',
            name='code',
            field=models.CharField(choices=[('org_volume', 'Organisation volume above its expected volume'), ('user_volume', 'User volume above a daily cap'), ('user_spike', 'User volume far above their own baseline'), ('no_match_rate', 'High no-match rate in detail searches'), ('consecutive_ulns', 'Searches of consecutive ULNs'), ('night_time', 'Lookups outside working hours'), ('age_profile', 'Learners found far older than its purpose'), ('geographic_spread', 'Learners found far from its address'), ('detail_share', 'Nearly every search by details, not ULN'), ('purpose_change', 'A sudden change from its own pattern')], max_length=40, unique=True),
        ),
        migrations.AlterField(
            model_name='historicalauditrule',
            name='code',
            field=models.CharField(choices=[('org_volume', 'Organisation volume above its expected volume'), ('user_volume', 'User volume above a daily cap'), ('user_spike', 'User volume far above their own baseline'), ('no_match_rate', 'High no-match rate in detail searches'), ('consecutive_ulns', 'Searches of consecutive ULNs'), ('night_time', 'Lookups outside working hours'), ('age_profile', 'Learners found far older than its purpose'), ('geographic_spread', 'Learners found far from its address'), ('detail_share', 'Nearly every search by details, not ULN'), ('purpose_change', 'A sudden change from its own pattern')], db_index=True, max_length=40),
        ),
        migrations.CreateModel(
            name='PurposeDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('searches', models.PositiveIntegerField(default=0)),
                ('detail_searches', models.PositiveIntegerField(default=0)),
                ('found', models.PositiveIntegerField(default=0, help_text='Searches that found exactly one learner on the register.')),
                ('adults', models.PositiveIntegerField(default=0, help_text='Learners found aged 20 or over on the day.')),
                ('near', models.PositiveIntegerField(default=0, help_text='Learners found living within AUDIT_NEAR_KM of the registered address (by postcode area).')),
                ('known', models.PositiveIntegerField(default=0, help_text="Learners found whose distance is known (their postcode area and the registered address's are both known).")),
                ('age_bands', models.JSONField(default=list)),
                ('distance_bands', models.JSONField(default=list)),
                ('areas', models.JSONField(default=dict, help_text='Learners found per postcode area.')),
                ('organisation', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registration.organisation')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ('-day',),
                'indexes': [models.Index(fields=['day', 'organisation'], name='purpose_day_day_org_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('organisation', 'day'), name='purpose_day_once_per_org'), models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('user', 'organisation', 'day'), name='purpose_day_once_per_user')],
            },
        ),
        migrations.RunPython(add_purpose_rules, remove_purpose_rules),
    ]
