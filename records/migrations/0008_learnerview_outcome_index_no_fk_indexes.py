"""The log loses its two single-column foreign-key indexes, which its
(organisation, viewed_at) and (user, viewed_at) indexes make redundant (every
lookup's log row wrote both), and gains an (outcome, viewed_at) index for the
admin's outcome filter (refusals are rare: without it a page of them reads the
whole log).

The foreign keys themselves stay as they are: only the state says db_index=False,
and the database drops the two indexes by name (Django's own AlterField would
drop and re-add each foreign key, checking every row of the log again).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "records_learnerview"
FK_INDEXES = {
    "organisation_id": "records_learnerview_organisation_id_372622a7",
    "user_id": "records_learnerview_user_id_6ca7ba16",
}


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0007_audited_days_usage_day_per_organisation"),
        ("registration", "0002_caseworker_permissions_and_guidance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="learnerview",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registration.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="learnerview",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    f'CREATE INDEX IF NOT EXISTS "{index}" ON "{TABLE}" ("{column}")',
                )
                for column, index in FK_INDEXES.items()
            ],
        ),
        migrations.AddIndex(
            model_name="learnerview",
            index=models.Index(
                fields=["outcome", "viewed_at"], name="learnerview_outcome_time_idx"
            ),
        ),
    ]
