"""Read querysets of workers and their history."""

from django.db.models import QuerySet

from .models import ApparatusWorker, EnrollmentEvent


def worker_list() -> QuerySet[ApparatusWorker]:
    """Workers with the rows their representation shows, in one query."""
    # select_related: village/district/regency/province (codes shown), enrollment (status etc.)
    return ApparatusWorker.objects.select_related("village", "district", "regency", "province", "enrollment")


def worker_history(*, worker_id: int) -> QuerySet[EnrollmentEvent]:
    """A worker's events, oldest first."""
    return EnrollmentEvent.objects.filter(worker_id=worker_id).order_by("id")
