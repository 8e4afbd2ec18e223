import django.db.models.deletion
from django.db import migrations, models

WORKER_TABLE = "enrollment_apparatusworker"

# Lists count a region's workers by status with an index-only scan, which reads the table row
# of every index entry whose page is not marked all-visible, and a write clears that mark.
# Left to the defaults, a table of millions of workers is vacuumed after a fifth of it changed,
# and a vacuum that finds few pages with dead rows skips the index clean-up, leaving exactly the
# recently written pages unmarked. So: vacuum after a fixed number of changed or inserted rows,
# whatever the table's size, and always clean the indexes.
AUTOVACUUM = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "10000",
    "autovacuum_vacuum_insert_scale_factor": "0",
    "autovacuum_vacuum_insert_threshold": "10000",
    "vacuum_index_cleanup": "on",
}


def set_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    options = ", ".join(f"{name} = {value}" for name, value in AUTOVACUUM.items())
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(WORKER_TABLE)} SET ({options})")


def reset_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(WORKER_TABLE)} RESET ({', '.join(AUTOVACUUM)})")


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0005_region_parents_unconstrained"),
        ("villages", "0002_code_patterns_end_of_string"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="apparatusworker",
            index=models.Index(fields=["regency", "id"], name="worker_regency_idx"),
        ),
        migrations.AddIndex(
            model_name="apparatusworker",
            index=models.Index(fields=["province", "id"], name="worker_province_idx"),
        ),
        migrations.AlterField(
            model_name="apparatusworker",
            name="province",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="villages.province",
                verbose_name="province",
            ),
        ),
        migrations.AlterField(
            model_name="apparatusworker",
            name="regency",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="villages.regency",
                verbose_name="regency/city",
            ),
        ),
        migrations.RunPython(set_autovacuum, reset_autovacuum, elidable=False),
    ]
