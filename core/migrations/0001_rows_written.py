"""`ucj_rows_written(written_rows, expected_rows, statement)`: a write sent with its transaction's COMMIT
(core.db.WriteBatch.send) has its row count checked by the server, before the COMMIT, which an
error here keeps from running. PostgreSQL only: elsewhere writes are never held back."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ucj_rows_written(written_rows bigint, expected_rows bigint, statement text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF written_rows <> expected_rows THEN
        RAISE EXCEPTION '% rows written, % expected: %', written_rows, expected_rows, statement;
    END IF;
    RETURN written_rows;
END
$$
"""

DROP = "DROP FUNCTION IF EXISTS ucj_rows_written(bigint, bigint, text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunPython(create, drop, elidable=False)]
