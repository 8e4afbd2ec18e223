"""The writing transaction of each history event (core.commit_order), for the change feed's order.

Cheap on a table of millions of rows: the column is added with a constant default (PostgreSQL
stores it in the catalogue, no table rewrite, existing rows read 0: "before the feed"), then its
default becomes the writing transaction's id, which applies to new rows only. A volatile default
added at once would have rewritten the whole table. The index is built in the migration's
transaction (it blocks writes to the table while it builds: seconds for 5,000,000 rows).
"""

from django.db import migrations, models

import core.commit_order


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0011_reconciliation"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollmentevent",
            name="xact",
            field=models.BigIntegerField(db_default=0, editable=False, verbose_name="writing transaction"),
        ),
        migrations.AlterField(
            model_name="enrollmentevent",
            name="xact",
            field=models.BigIntegerField(
                db_default=core.commit_order.CurrentTransaction(), editable=False, verbose_name="writing transaction"
            ),
        ),
        migrations.AddIndex(
            model_name="enrollmentevent",
            index=models.Index(fields=["xact", "id"], name="event_feed_idx"),
        ),
    ]
