from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0012_signature_corrections"),
    ]

    operations = [
        migrations.RenameField(model_name="lettercount", old_name="removed", new_name="rejected"),
        migrations.AlterField(
            model_name="lettercount",
            name="rejected",
            field=models.PositiveIntegerField(default=0, help_text="Signatures rejected after being public."),
        ),
        migrations.RemoveConstraint(model_name="lettercountbucket", name="count_bucket_unique"),
        migrations.RenameField(model_name="lettercountbucket", old_name="minute", new_name="start"),
        migrations.AlterField(
            model_name="lettercountbucket",
            name="start",
            field=models.DateTimeField(help_text="Start of the bucket (a minute, an hour or a day, by span)."),
        ),
        migrations.AlterModelOptions(name="lettercountbucket", options={"ordering": ["letter", "span", "start"]}),
        migrations.AddConstraint(
            model_name="lettercountbucket",
            constraint=models.UniqueConstraint(fields=("letter", "span", "start"), name="count_bucket_unique"),
        ),
    ]
