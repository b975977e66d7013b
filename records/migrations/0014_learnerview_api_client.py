"""Each log row names the API client a web-service call came through (issue 12).

Nullable with no default, so adding it rewrites no partition; no foreign-key
constraint (validating one would scan the whole partitioned log, and each API
row would lock the client's row), as learner_uln has none; a partial index on
(api_client, viewed_at) for the client's calls, which page rows never write.
See docs/decisions/0020-api-clients-and-tokens.md.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0013_learner_links_linked_outcome'),
        ('registration', '0009_api_clients'),
    ]

    operations = [
        migrations.AddField(
            model_name='learnerview',
            name='api_client',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registration.apiclient'),
        ),
        migrations.AddIndex(
            model_name='learnerview',
            index=models.Index(condition=models.Q(('api_client__isnull', False)), fields=['api_client', 'viewed_at'], name='learnerview_client_time_idx'),
        ),
    ]
