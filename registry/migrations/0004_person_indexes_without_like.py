"""Person and PersonEmail: their indexes without the LIKE (varchar_pattern_ops) twins Django adds on PostgreSQL
for indexed and unique CharFields, and the self-reference indexed only where set. The new indexes and unique
constraints are built before the old ones go, so the columns are never without their uniqueness."""

import django.db.models.deletion
import registry.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_person_block_keys"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["sort_name"], name="person_sort_name_idx"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["name_key"], name="person_name_key_idx"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["name_skeleton"], name="person_name_skeleton_idx"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="person_merged_into_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(fields=("public_id",), name="person_public_id_unique"),
        ),
        migrations.AddConstraint(
            model_name="personemail",
            constraint=models.UniqueConstraint(fields=("email_key",), name="person_email_key_unique"),
        ),
        migrations.AlterField(
            model_name="person",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_people",
                to="registry.person",
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="name_key",
            field=models.CharField(help_text="Normalized name for matching.", max_length=200),
        ),
        migrations.AlterField(
            model_name="person",
            name="name_skeleton",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="person",
            name="public_id",
            field=models.CharField(default=registry.models.new_public_id, editable=False, max_length=24),
        ),
        migrations.AlterField(
            model_name="person",
            name="sort_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="personemail",
            name="email_key",
            field=models.CharField(max_length=254),
        ),
    ]
