"""Management commands: `expire_enrollments` (lapse memberships past paid-until + grace, end terms
past their end) and `recount_coverage` (rebuild the counters from the worker rows)."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from coverage.models import VillageCoverage
from enrollment import services
from enrollment.models import Enrollment, EnrollmentEvent

from .factories import (
    OTHER_REGENCY_VILLAGE,
    VILLAGE,
    WorkerFactory,
    activate,
    bring_to,
    end_service,
    lapse,
    renew,
    submit,
    village,
)
from .helpers import counter_rows, counters, recounted_rows

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
KEY = (VILLAGE, "pemerintah_desa")
FEB_1_2024 = D(2024, 2, 1)


def expire(*args: str) -> str:
    out = StringIO()
    call_command("expire_enrollments", *args, stdout=out)
    return out.getvalue()


def paid_until(worker, until: datetime.date, start: datetime.date = FEB_1_2024):
    """An active BPU membership from `start` paid until `until`, recorded on `start`."""
    return activate(worker, coverage_start=start, paid_until=until, effective_date=start)


def status(worker) -> str:
    return Enrollment.objects.get(pk=worker.pk).status


def last_event(worker) -> EnrollmentEvent:
    return EnrollmentEvent.objects.filter(worker=worker).latest("id")


def test_expire_lapses_membership_past_paid_until(regions):
    due = paid_until(WorkerFactory(), D(2024, 6, 30))
    later = paid_until(WorkerFactory(), D(2024, 7, 10))
    assert counters() == {KEY: (2, 2)}

    output = expire("--as-of", "2024-07-01")

    assert (status(due), status(later)) == ("lapsed", "active")
    event = last_event(due)
    assert (event.kind, event.from_status, event.to_status) == ("lapsed", "active", "lapsed")
    assert (event.source, event.actor, event.actor_label) == ("system", None, "system")
    assert event.effective_date == D(2024, 7, 1)
    assert counters() == {KEY: (2, 1)}
    assert "1 memberships lapsed" in output


def test_expire_keeps_membership_paid_through_as_of_date(regions):
    worker = paid_until(WorkerFactory(), D(2024, 6, 30))

    output = expire("--as-of", "2024-06-30")

    assert status(worker) == "active"
    assert "0 memberships lapsed" in output


def test_expire_waits_for_grace_days(regions, settings):
    settings.UCJ_LAPSE_GRACE_DAYS = 30
    worker = paid_until(WorkerFactory(), D(2024, 6, 30))

    expire("--as-of", "2024-07-30")  # paid-until + 30 days: still within grace
    assert status(worker) == "active"

    expire("--as-of", "2024-07-31")

    assert status(worker) == "lapsed"
    assert last_event(worker).effective_date == D(2024, 7, 31)  # the day after paid-until + grace
    assert counters() == {KEY: (1, 0)}


def test_expire_defaults_to_today(regions, today):
    worker = paid_until(WorkerFactory(), today - 2 * DAY, start=today - 20 * DAY)

    expire()

    assert status(worker) == "lapsed"
    assert last_event(worker).effective_date == today - DAY


def test_expire_touches_only_active_memberships(regions):
    submitted = bring_to(WorkerFactory(), "submitted")
    lapsed = paid_until(WorkerFactory(), D(2024, 6, 30))
    lapse(lapsed, effective_date=D(2024, 6, 1))
    ended = paid_until(WorkerFactory(), D(2024, 6, 30))
    end_service(ended, effective_date=D(2024, 6, 15))
    events = EnrollmentEvent.objects.count()

    output = expire("--as-of", "2024-12-01")

    assert (status(submitted), status(lapsed), status(ended)) == ("submitted", "lapsed", "ended")
    assert EnrollmentEvent.objects.count() == events
    assert "0 memberships lapsed" in output


def test_expire_twice_lapses_once(regions):
    worker = paid_until(WorkerFactory(), D(2024, 6, 30))

    first = expire("--as-of", "2024-08-01")
    second = expire("--as-of", "2024-08-01")

    assert "1 memberships lapsed" in first
    assert "0 memberships lapsed" in second
    assert EnrollmentEvent.objects.filter(worker=worker, kind="lapsed").count() == 1


def test_expire_renewed_membership_not_lapsed(regions, today):
    worker = paid_until(WorkerFactory(), D(2024, 6, 30), start=D(2024, 2, 1))
    services.enrollment_renew(
        actor=services.Actor(label="branch"),
        worker_id=worker.pk,
        paid_until=today + 30 * DAY,
        effective_date=D(2024, 6, 20),
    )

    expire("--as-of", "2024-07-01")

    assert status(worker) == "active"


def test_expire_lapses_membership_edited_after_it_fell_due(regions):
    worker = paid_until(WorkerFactory(), D(2024, 6, 30))
    services.worker_update(
        actor=services.Actor(label="clerk"),
        worker_id=worker.pk,
        changes={"phone": "081234567"},
        expected_version=None,
        effective_date=D(2024, 9, 1),
    )

    output = expire("--as-of", "2024-10-01")

    assert status(worker) == "lapsed"
    # history never goes backwards: the lapse takes effect on the later edit's date
    assert last_event(worker).effective_date == D(2024, 9, 1)
    assert "1 memberships lapsed" in output
    assert counters() == {KEY: (1, 0)}


def test_expire_ends_service_past_term_end(regions):
    leaving = paid_until(WorkerFactory(term_end=D(2024, 12, 31)), D(2025, 6, 30))
    staying = WorkerFactory(term_end=D(2025, 12, 31))

    output = expire("--as-of", "2025-01-01")

    assert (status(leaving), status(staying)) == ("ended", "not_registered")
    event = last_event(leaving)
    assert (event.kind, event.source, event.effective_date) == ("service_ended", "system", D(2024, 12, 31))
    assert "1 services ended" in output
    assert counters() == {KEY: (1, 0)}


def test_expire_rejects_bad_as_of_date(regions):
    with pytest.raises(CommandError):
        expire("--as-of", "01-07-2024")


def test_expire_starts_terms_whose_start_has_come_and_counts_them(regions, today):
    start = today + 5 * DAY
    waiting = WorkerFactory(term_start=start)
    activate(waiting, coverage_start=today, paid_until=today + 60 * DAY, effective_date=today)
    assert counters() == {}

    assert "0 terms started" in expire("--as-of", (start - DAY).isoformat())
    assert counters() == {}

    output = expire("--as-of", start.isoformat())

    assert "1 terms started; 0 memberships lapsed" in output
    assert counters() == {KEY: (1, 1)}
    assert counter_rows() == recounted_rows()
    assert "0 terms started" in expire("--as-of", start.isoformat())


# --- recount_coverage -------------------------------------------------------------------------


def _mixed_history():
    """Workers in three villages and several institutions, through every state."""
    a = bring_to(WorkerFactory(), "active")
    b = bring_to(WorkerFactory(institution="bpd"), "lapsed")
    renew(b)
    c = bring_to(WorkerFactory(village=village(OTHER_REGENCY_VILLAGE), institution="posyandu"), "submitted")
    activate(c)
    d = bring_to(WorkerFactory(institution="rt"), "active")
    end_service(d)
    e = WorkerFactory(institution="linmas")
    services.worker_update(
        actor=services.Actor(), worker_id=e.pk, changes={"village": village(OTHER_REGENCY_VILLAGE)}, expected_version=1
    )
    submit(WorkerFactory())
    return a, b, c, d, e


def test_recount_equals_maintained_counters(regions):
    _mixed_history()
    maintained = counter_rows()
    assert counters() == {
        KEY: (2, 1),
        (VILLAGE, "bpd"): (1, 1),
        (OTHER_REGENCY_VILLAGE, "posyandu"): (1, 1),
        (OTHER_REGENCY_VILLAGE, "linmas"): (1, 0),
    }
    out = StringIO()

    call_command("recount_coverage", stdout=out)

    assert counter_rows() == maintained
    assert "4 village/institution rows" in out.getvalue()


def test_recount_repairs_wrong_counters(regions):
    _mixed_history()
    expected = counter_rows()
    VillageCoverage.objects.filter(institution="bpd").update(serving=99, protected=50)
    VillageCoverage.objects.filter(institution="linmas").delete()

    call_command("recount_coverage", stdout=StringIO())

    assert counter_rows() == expected


def test_recount_of_nothing_leaves_no_rows(regions):
    worker = WorkerFactory()
    end_service(worker)
    assert VillageCoverage.objects.count() == 1  # a zero row remains after the worker leaves

    call_command("recount_coverage", stdout=StringIO())

    assert VillageCoverage.objects.count() == 0
    assert recounted_rows() == set()


# --- recount_coverage --check ----------------------------------------------------------------


def check(*args: str) -> tuple[int, str]:
    """Run `recount_coverage --check`: the exit status cron sees (manage.py exits with a
    CommandError's returncode) and the output."""
    out = StringIO()
    try:
        call_command("recount_coverage", "--check", *args, stdout=out)
    except CommandError as error:
        return error.returncode, f"{out.getvalue()}{error}"
    return 0, out.getvalue()


def test_recount_check_reports_differing_counters_writes_nothing_and_exits_1(regions):
    from coverage.models import RegencyCoverage

    _mixed_history()
    VillageCoverage.objects.filter(institution="bpd").update(serving=9, protected=5)
    VillageCoverage.objects.filter(institution="linmas").delete()
    corrupted = counter_rows()

    status, output = check()

    assert status == 1
    lines = output.splitlines()
    assert (
        "village 15.01.01.2001 Lempur Tengah, bpd: counted serving 9, protected 5; recount serving 1, protected 1"
        in lines
    )
    assert (
        "village 15.08.01.2001 Rantau Keloyang, linmas: counted serving 0, protected 0; recount serving 1, protected 0"
        in lines
    )
    assert "2 counter rows differ from a recount" in output
    assert counter_rows() == corrupted  # nothing written
    assert RegencyCoverage.objects.count() > 0


def test_recount_check_names_a_differing_regency_counter(regions):
    from coverage.models import RegencyCoverage

    _mixed_history()
    RegencyCoverage.objects.filter(institution="posyandu").update(serving=7)

    with pytest.raises(CommandError) as error:
        call_command("recount_coverage", "--check", stdout=(out := StringIO()))

    assert error.value.returncode == 1
    assert out.getvalue().splitlines() == [
        "regency 15.08 Kabupaten Bungo, posyandu: counted serving 7, protected 1; recount serving 1, protected 1"
    ]
    assert RegencyCoverage.objects.get(institution="posyandu").serving == 7


def test_recount_check_exits_0_with_a_clean_report_when_counters_agree(regions):
    _mixed_history()
    before = counter_rows()

    status, output = check()

    assert status == 0
    assert output.strip() == "Counters agree with a recount."
    assert counter_rows() == before


def test_recount_check_names_differing_totals_with_their_breakdowns(regions):
    """The totals of all institutions are checked too, every figure of them: here the wages of
    the unprotected wage earners, on which the premium estimate rests."""
    from coverage.models import VillageTotals

    _mixed_history()
    VillageTotals.objects.filter(village__code=OTHER_REGENCY_VILLAGE).update(unprotected_wages=1)

    status, output = check()

    assert status == 1
    (line,) = [line for line in output.splitlines() if line.startswith("village ")]
    assert line.startswith(
        f"village {OTHER_REGENCY_VILLAGE} Rantau Keloyang, all institutions: counted serving 2, protected 1; "
        "recount serving 2, protected 1 (all figures: counted ["
    )
    assert line.endswith(", 1, 1], recount [2, 1, 1, 0, 0, 0, 0, 0, 1, 2500000])")
    assert "1 counter rows differ from a recount" in output
