from django.db import migrations, models


class Migration(migrations.Migration):
    """`is_public` read as "the signature is public"; it says whether the name is shown. The column keeps its name
    (the export-line SQL of 0007 reads it), so this changes no table."""

    dependencies = [
        ("letters", "0013_count_names_say_what_they_count"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="signature", old_name="is_public", new_name="name_shown"),
                migrations.AlterField(
                    model_name="signature",
                    name="name_shown",
                    field=models.BooleanField(
                        db_column="is_public",
                        default=True,
                        help_text="The signer lets the name be shown; withheld names still count.",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
