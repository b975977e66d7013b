"""PurposeDay's indexes as they were before 0022: (organisation, day) and
(user, organisation, day) unique, and (day, organisation). 0022's indexes led
with the day for every reader, but the per-user rule's history (a list of users
over 28 days) and the admin panel's one user then walked every user's rows of
the days instead of going to theirs, and the night's write gained nothing
measurable (bench/RESULTS.md, issue 13). The old indexes are made before 0022's
go, so that the table is never without its uniqueness."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0022_purpose_day_indexes_lead_with_day'),
        ('registration', '0015_department_recertification'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='purposeday',
            index=models.Index(fields=['day', 'organisation'], name='purpose_day_day_org_idx'),
        ),
        migrations.AddConstraint(
            model_name='purposeday',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('organisation', 'day'), name='purpose_day_once_per_org'),
        ),
        migrations.AddConstraint(
            model_name='purposeday',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('user', 'organisation', 'day'), name='purpose_day_once_per_user'),
        ),
        migrations.RemoveConstraint(
            model_name='purposeday',
            name='purpose_day_once_per_org_day',
        ),
        migrations.RemoveConstraint(
            model_name='purposeday',
            name='purpose_day_once_per_user_day',
        ),
    ]
