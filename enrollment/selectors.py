"""Read querysets of workers and their history."""

import datetime
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from access.context import may_see_personal_data, scope_for

from .choices import EnrollmentStatus, EventKind
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


def _last_event_date(kind: str) -> Subquery:
    """The effective date of the worker's latest event of `kind` (one row per worker: a subquery,
    not a join that would repeat the worker per event)."""
    events = EnrollmentEvent.objects.filter(worker_id=OuterRef("pk"), kind=kind).order_by("-id")
    return Subquery(events.values("effective_date")[:1])


def activation_queue() -> QuerySet[ApparatusWorker]:
    """Workers submitted to BPJS Ketenagakerjaan and waiting for activation, oldest submission
    first (the date the submission took effect, then the order they were registered);
    `submitted_on` is that date."""
    # select_related (worker_list): regions (names shown) and enrollment (status)
    return (
        worker_list()
        .filter(enrollment_status=EnrollmentStatus.SUBMITTED)
        .annotate(submitted_on=_last_event_date(EventKind.SUBMITTED))
        .order_by("submitted_on", "id")
    )


def memberships_due(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Active memberships paid until a day from `as_of` to `days` after it, the soonest first: what
    a branch renews before people lose protection. A paid-until just passed but within the grace
    period (`UCJ_LAPSE_GRACE_DAYS`: not lapsed yet) counts too; one older than that is the daily
    `enrollments_expire`'s to lapse, not a renewal falling due."""
    earliest = as_of - datetime.timedelta(days=settings.UCJ_LAPSE_GRACE_DAYS)
    return (
        worker_list()
        .filter(
            enrollment_status=EnrollmentStatus.ACTIVE,
            enrollment__paid_until__gte=earliest,
            enrollment__paid_until__lte=as_of + datetime.timedelta(days),
        )
        .order_by("enrollment__paid_until", "id")
    )


def memberships_lapsed(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Memberships lapsed in the `days` up to `as_of` (and not renewed since), the latest lapse
    first; `lapsed_on` is the date the lapse took effect."""
    return (
        worker_list()
        .filter(enrollment_status=EnrollmentStatus.LAPSED)
        .annotate(lapsed_on=_last_event_date(EventKind.LAPSED))
        .filter(lapsed_on__gte=as_of - datetime.timedelta(days), lapsed_on__lte=as_of)
        .order_by("-lapsed_on", "id")
    )


def terms_ended_serving(*, as_of: datetime.date) -> QuerySet[ApparatusWorker]:
    """Workers whose recorded term end is before `as_of` but whose service is still open, the
    oldest term end first: those the daily `terms_expire` has not ended (yet): it ends each on
    its next run, so this is what a person sees between a term end and that run, or what the run
    could not end."""
    return worker_list().filter(serving=True, term_end__lt=as_of).order_by("term_end", "id")


def terms_ending(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Serving workers whose term ends within `days` from `as_of` (that day included), the soonest
    first: the daily `terms_expire` ends their service the day after, unless someone records a
    new term end (reappointed) first."""
    return (
        worker_list()
        .filter(serving=True, term_end__gte=as_of, term_end__lte=as_of + datetime.timedelta(days))
        .order_by("term_end", "id")
    )


def worker_imports_visible(*, user: Any) -> QuerySet[WorkerImport]:
    """The past imports `user` may see, newest first, without their files: all of them for an
    admin who may see personal data, one's own for everyone else (others' summaries quote their
    rows, a NIK's birth-date digits among them)."""
    # select_related: created_by (its username is shown); the file itself is deferred.
    queryset = WorkerImport.objects.select_related("created_by").defer("data").order_by("-id")
    if scope_for(user).everything and may_see_personal_data(user):
        return queryset
    return queryset.filter(created_by=user)
