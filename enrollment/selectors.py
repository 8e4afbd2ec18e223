"""Read querysets of workers and their history."""

from django.db.models import QuerySet

from .models import ApparatusWorker, EnrollmentEvent


def worker_list() -> QuerySet[ApparatusWorker]:
    """Workers with the rows their representation shows, in one query."""
    # select_related: village/district/regency/province (codes shown), enrollment (status etc.)
    return ApparatusWorker.objects.select_related("village", "district", "regency", "province", "enrollment")


REGIONS = ("village", "district", "regency", "province")


def worker_page() -> QuerySet[ApparatusWorker]:
    """Workers as a list shows them: with the codes of their regions (only those columns) in one
    query, and their enrollments in a second one, by the page's ids.

    The enrollment is not joined in: for a page of a big region in id order, PostgreSQL's
    estimate (from the ids of all workers, not the region's) made it merge the page with the
    enrollments from the first id on, reading millions of them for 50 rows.
    """
    worker_fields = [field.name for field in ApparatusWorker._meta.concrete_fields]
    return (
        ApparatusWorker.objects.select_related(*REGIONS)
        .only(*worker_fields, *(f"{region}__code" for region in REGIONS))
        .prefetch_related("enrollment")
    )


def worker_history(*, worker_id: int) -> QuerySet[EnrollmentEvent]:
    """A worker's events, oldest first."""
    return EnrollmentEvent.objects.filter(worker_id=worker_id).order_by("id")
