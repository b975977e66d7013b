"""PurposeDay's unique indexes lead with the day, and the (day, organisation)
index goes: the rules' window sums, admin and the audit's rewrite of a day read
the unique indexes, and the nightly write keeps one index fewer (issue 13).
The new constraints are made before the old go, so that the table is never
without them."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0021_usageday_refused_views'),
        ('registration', '0015_department_recertification'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='purposeday',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('day', 'organisation'), name='purpose_day_once_per_org_day'),
        ),
        migrations.AddConstraint(
            model_name='purposeday',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('day', 'organisation', 'user'), name='purpose_day_once_per_user_day'),
        ),
        migrations.RemoveIndex(
            model_name='purposeday',
            name='purpose_day_day_org_idx',
        ),
        migrations.RemoveConstraint(
            model_name='purposeday',
            name='purpose_day_once_per_org',
        ),
        migrations.RemoveConstraint(
            model_name='purposeday',
            name='purpose_day_once_per_user',
        ),
    ]
