"""Workers registered before this version with a term start still ahead were counted from their
registration. Mark them as waiting for their term (`term_started` false, as registration now
does) and rebuild the counters from the worker rows, so that they count from the day
`expire_enrollments` starts their term. Their state periods stay as recorded."""

from django.db import migrations
from django.utils import timezone


def workers_waiting_marked(worker_model, today) -> int:
    """Mark the serving workers whose term starts after `today`; recount if there were any."""
    marked = worker_model.objects.filter(serving=True, term_started=True, term_start__gt=today).update(
        term_started=False
    )
    if marked:
        from coverage.services import counters_recount  # the one recount, as `recount_coverage` runs it

        counters_recount()
    return marked


def mark_waiting(apps, schema_editor):
    workers_waiting_marked(apps.get_model("enrollment", "ApparatusWorker"), timezone.localdate())


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0008_worker_term_waiting_index"),
        ("coverage", "0005_data_version"),
    ]

    operations = [migrations.RunPython(mark_waiting, migrations.RunPython.noop)]
