"""Each log row says how the lookup reached the gate: a portal page, the web
service (API) or a batch file. A database default of "page", so the partitioned
log is not rewritten and the rows before it read as the pages, then the only way in."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0011_learnerview_outcome_not_shared'),
    ]

    operations = [
        migrations.AddField(
            model_name='learnerview',
            name='channel',
            field=models.CharField(choices=[('page', 'Portal page'), ('api', 'Web service (API)'), ('batch', 'Batch file')], db_default='page', max_length=10),
        ),
    ]
