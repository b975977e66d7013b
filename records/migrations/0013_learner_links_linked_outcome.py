"""Merged learners (the LRS's MasterSubstituted): a learner's record linked to
the one it was merged into, so a search by the merged ULN answers the master
(WSRC0022, the log's new outcome "linked learner match"). On the log only the
choices change, which writes no SQL on the partitioned table; on PostgreSQL a
trigger refuses a link that would close a cycle (records.pg)."""


import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from records import pg


def guard(apps, schema_editor):
    pg.learner_link_guard_install(using=schema_editor.connection.alias)


def unguard(apps, schema_editor):
    pg.learner_link_guard_uninstall(using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0012_learnerview_channel'),
    ]

    operations = [
        migrations.AlterField(
            model_name='learnerview',
            name='outcome',
            field=models.CharField(choices=[('exact_match', 'Exact match'), ('possible_matches', 'Possible matches'), ('too_many_matches', 'Too many matches'), ('no_match', 'No match'), ('linked_learner_match', 'Linked learner match'), ('shown', 'Record shown'), ('not_shared', 'Record shown, achievements withheld (WSEC0206)'), ('refused', 'Refused')], max_length=20),
        ),
        migrations.CreateModel(
            name='LearnerLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('linked_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('learner', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='link', to='records.learner')),
                ('master', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='linked', to='records.learner', verbose_name='merged into')),
            ],
            options={
                'ordering': ('master', 'learner'),
                'constraints': [models.CheckConstraint(condition=models.Q(('learner', models.F('master')), _negated=True), name='learner_link_not_to_itself')],
            },
        ),
        migrations.RunPython(guard, unguard, elidable=False),
    ]
