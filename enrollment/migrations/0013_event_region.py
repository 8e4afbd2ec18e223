"""Where the worker was when each history event was written (its province and regency), set by
the database as the event is inserted, for the change feed of one region (integrations.selectors):
it walks that region's events in the feed's order by an index, not the whole country's history.

A trigger fills the two columns from the worker's row, whoever writes the event (the recording
services, imports, reconciliation, the seeds); every writer saves the worker before its event, so
a move's event carries the new place. Events already written get the worker's place now: the
feed showed them by the worker's place now until this migration, so nothing a reader saw moves.

Without blocking the writers for long (the migration is not atomic): the columns and the trigger
come first, each in a moment; the events already written are then filled in batches of
`BATCH` ids, each its own short transaction (on 5,000,000 workers, about 12,000,000 events: many
minutes, while the service goes on writing); the indexes are built last, on PostgreSQL
concurrently. Run it again if it is interrupted: a batch fills only the events still empty.
"""

from django.db import migrations, models, transaction

from core.db_operations import AddIndexWithoutBlocking

BATCH = 200_000

EVENTS = "enrollment_enrollmentevent"
WORKERS = "enrollment_apparatusworker"

POSTGRESQL = [
    f"""
    CREATE FUNCTION enrollment_event_region() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.worker_regency_id IS NULL THEN
            SELECT w.province_id, w.regency_id INTO NEW.worker_province_id, NEW.worker_regency_id
              FROM {WORKERS} w WHERE w.id = NEW.worker_id;
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE TRIGGER enrollment_event_region BEFORE INSERT ON {EVENTS}
        FOR EACH ROW EXECUTE FUNCTION enrollment_event_region()
    """,
]
FILL_POSTGRESQL = f"""
    UPDATE {EVENTS} e SET worker_province_id = w.province_id, worker_regency_id = w.regency_id
      FROM {WORKERS} w
     WHERE w.id = e.worker_id AND e.id >= %s AND e.id < %s AND e.worker_regency_id IS NULL
"""
POSTGRESQL_BACK = [
    f"DROP TRIGGER enrollment_event_region ON {EVENTS}",
    "DROP FUNCTION enrollment_event_region()",
]

# SQLite's triggers cannot change the row being inserted: the row is updated right after.
SQLITE = [
    f"""
    CREATE TRIGGER enrollment_event_region AFTER INSERT ON {EVENTS}
    FOR EACH ROW WHEN NEW.worker_regency_id IS NULL BEGIN
        UPDATE {EVENTS} SET
            worker_province_id = (SELECT province_id FROM {WORKERS} WHERE id = NEW.worker_id),
            worker_regency_id = (SELECT regency_id FROM {WORKERS} WHERE id = NEW.worker_id)
        WHERE id = NEW.id;
    END
    """,
]
FILL_SQLITE = f"""
    UPDATE {EVENTS} SET
        worker_province_id = (SELECT province_id FROM {WORKERS} w WHERE w.id = {EVENTS}.worker_id),
        worker_regency_id = (SELECT regency_id FROM {WORKERS} w WHERE w.id = {EVENTS}.worker_id)
    WHERE id >= %s AND id < %s AND worker_regency_id IS NULL
"""
SQLITE_BACK = ["DROP TRIGGER enrollment_event_region"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(f"No trigger for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement)

    return run


def fill(apps, schema_editor):
    """The events written before the trigger, `BATCH` ids at a time, each batch committed."""
    connection = schema_editor.connection
    statement = FILL_POSTGRESQL if connection.vendor == "postgresql" else FILL_SQLITE
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {EVENTS} WHERE worker_regency_id IS NULL")
        low, high = cursor.fetchone()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(statement, [start, start + BATCH])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("enrollment", "0012_event_xact"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollmentevent",
            name="worker_province_id",
            field=models.IntegerField(editable=False, null=True, verbose_name="worker's province"),
        ),
        migrations.AddField(
            model_name="enrollmentevent",
            name="worker_regency_id",
            field=models.IntegerField(editable=False, null=True, verbose_name="worker's regency"),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_BACK}),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        AddIndexWithoutBlocking(
            model_name="enrollmentevent",
            index=models.Index(fields=["worker_province_id", "xact", "id"], name="event_feed_province_idx"),
        ),
        AddIndexWithoutBlocking(
            model_name="enrollmentevent",
            index=models.Index(fields=["worker_regency_id", "xact", "id"], name="event_feed_regency_idx"),
        ),
        AddIndexWithoutBlocking(
            model_name="enrollmentevent",
            index=models.Index(
                condition=models.Q(("changes__has_key", "village"), ("kind", "updated")),
                fields=["xact", "id"],
                name="event_feed_moved_idx",
            ),
        ),
    ]
