"""A record view whose achievements were withheld because the learner has not
agreed to share them (the LRS's WSEC0206) has its own outcome. Choices only: no
SQL, so the partitioned, append-only log is not touched."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0010_learnerview_stamped_by_database_audit_rules_on_trail'),
    ]

    operations = [
        migrations.AlterField(
            model_name='learnerview',
            name='outcome',
            field=models.CharField(choices=[('exact_match', 'Exact match'), ('possible_matches', 'Possible matches'), ('too_many_matches', 'Too many matches'), ('no_match', 'No match'), ('shown', 'Record shown'), ('not_shared', 'Record shown, achievements withheld (WSEC0206)'), ('refused', 'Refused')], max_length=20),
        ),
    ]
