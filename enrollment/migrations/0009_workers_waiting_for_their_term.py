"""Workers registered before this version with a term start still ahead were counted from their
registration. Mark them as waiting for their term (`term_started` false, as registration now
does) and rebuild the counters from the worker rows, so that they count from the day
`expire_enrollments` starts their term. Their state periods stay as recorded."""

from django.db import migrations
from django.utils import timezone


def counters_recounted(apps, connection) -> None:
    """The counters per village and institution and per regency and institution rebuilt from the
    worker rows, as `counters_recount` rebuilt them when this migration was written (copied here:
    later counter tables are created, and filled, by later migrations)."""
    quote = connection.ops.quote_name
    worker, enrollment, village, regency = (
        quote(apps.get_model(*name.split("."))._meta.db_table)
        for name in (
            "enrollment.ApparatusWorker",
            "enrollment.Enrollment",
            "coverage.VillageCoverage",
            "coverage.RegencyCoverage",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {regency}")
        cursor.execute(f"DELETE FROM {village}")
        cursor.execute(
            f"INSERT INTO {village} (village_id, district_id, regency_id, province_id, institution, serving, protected) "
            "SELECT w.village_id, w.district_id, w.regency_id, w.province_id, w.institution, COUNT(*), "
            "SUM(CASE WHEN e.status = 'active' THEN 1 ELSE 0 END) "
            f"FROM {worker} w JOIN {enrollment} e ON e.worker_id = w.id WHERE w.serving AND w.term_started "
            "GROUP BY w.village_id, w.district_id, w.regency_id, w.province_id, w.institution"
        )
        cursor.execute(
            f"INSERT INTO {regency} (regency_id, province_id, institution, serving, protected) "
            f"SELECT regency_id, province_id, institution, SUM(serving), SUM(protected) FROM {village} "
            "GROUP BY regency_id, province_id, institution"
        )


def workers_waiting_marked(worker_model, today, recount=lambda: None) -> int:
    """Mark the serving workers whose term starts after `today`; recount if there were any."""
    marked = worker_model.objects.filter(serving=True, term_started=True, term_start__gt=today).update(
        term_started=False
    )
    if marked:
        recount()
    return marked


def mark_waiting(apps, schema_editor):
    workers_waiting_marked(
        apps.get_model("enrollment", "ApparatusWorker"),
        timezone.localdate(),
        lambda: counters_recounted(apps, schema_editor.connection),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0008_worker_term_waiting_index"),
        ("coverage", "0005_data_version"),
    ]

    operations = [migrations.RunPython(mark_waiting, migrations.RunPython.noop)]
