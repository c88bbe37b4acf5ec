"""Buckets count the events they folded, so the fold can find events that committed after its horizon passed
them (letters.counts). Existing buckets start at 0: the next fold re-tallies the minutes it rechecks, and the next
reconcile (every 10 min) finds the day buckets short of the history and rebuilds each letter once. `counted_at` is
now the fold's horizon; the instant an old fold stored is at or after every event it had taken in, so the first
horizon fold after it takes in nothing twice."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('letters', '0033_exportline_source_times_once'),
    ]

    operations = [
        migrations.AddField(
            model_name='lettercountbucket',
            name='events',
            field=models.PositiveIntegerField(default=0, help_text="History events folded into this bucket (the fold's check for late commits compares it)."),
        ),
        migrations.AlterField(
            model_name='lettercount',
            name='counted_at',
            field=models.DateTimeField(blank=True, help_text="The fold's horizon: the totals are exactly the history's at this instant (letters.counts).", null=True),
        ),
        migrations.AlterField(
            model_name='lettercount',
            name='last_event_id',
            field=models.BigIntegerField(default=0, help_text='The highest event id folded (for information only).'),
        ),
    ]
