"""Read querysets of workers and their history."""

from typing import Any

from django.db.models import QuerySet

from access.context import may_see_personal_data, scope_for

from .models import ApparatusWorker, EnrollmentEvent, WorkerImport


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


def worker_imports_visible(*, user: Any) -> QuerySet[WorkerImport]:
    """The past imports `user` may see, newest first, without their files: all of them for an
    admin who may see personal data, one's own for everyone else (others' summaries quote their
    rows, a NIK's birth-date digits among them)."""
    # select_related: created_by (its username is shown); the file itself is deferred.
    queryset = WorkerImport.objects.select_related("created_by").defer("data").order_by("-id")
    if scope_for(user).everything and may_see_personal_data(user):
        return queryset
    return queryset.filter(created_by=user)
