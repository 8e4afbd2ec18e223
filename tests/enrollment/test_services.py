"""The write path: registration, edits, every enrollment transition (legal and not), the history
event each writes, the coverage counters after each step, and the append-only history."""

import datetime

import pytest
from django.db import transaction
from django.utils import translation

from core.errors import ConflictError, ServiceError, StaleVersionError
from enrollment import services, transitions, writing
from enrollment.choices import POSITIONS_BY_INSTITUTION, EnrollmentStatus, EventKind
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from tests.helpers import nik_for

from .factories import (
    OTHER_REGENCY_VILLAGE,
    OTHER_VILLAGE_SAME_DISTRICT,
    VILLAGE,
    WorkerFactory,
    activate,
    activation,
    bring_to,
    end_service,
    lapse,
    renew,
    submit,
    village,
)
from .helpers import counter_rows, counters, db_state, recounted_rows

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
S = EnrollmentStatus
KEY = (VILLAGE, "pemerintah_desa")


def last_event(worker) -> EnrollmentEvent:
    return EnrollmentEvent.objects.filter(worker=worker).latest("id")


def reload(worker) -> ApparatusWorker:
    return ApparatusWorker.objects.select_related("enrollment").get(pk=worker.pk)


def codes(exc_info) -> set[tuple[str | None, str]]:
    return {(error.field, error.code) for error in exc_info.value.errors}


# --- registration -----------------------------------------------------------------------------


def test_register_creates_not_registered_enrollment_with_registered_event(regions, actor, admin_user):
    worker = WorkerFactory(actor=actor, nik="1501011705800001", phone="0812345678")

    assert worker.enrollment.status == S.NOT_REGISTERED
    assert worker.serving is True
    assert worker.version == 1
    (event,) = EnrollmentEvent.objects.filter(worker=worker)
    assert (event.kind, event.from_status, event.to_status, event.source) == ("registered", "", "not_registered", "api")
    assert event.actor == admin_user
    assert event.actor_label == "admin"
    assert event.effective_date == D(2024, 1, 1)  # the term start, already past
    assert event.changes["nik"] == [None, "1501011705800001"]
    assert event.changes["village"] == [None, VILLAGE]
    assert event.changes["birth_date"] == [None, "1980-05-17"]
    assert event.changes["phone"] == [None, "0812345678"]
    assert "term_end" not in event.changes  # empty values are not recorded
    assert counters() == {KEY: (1, 0)}


def test_register_copies_region_parents_of_village(regions):
    worker = WorkerFactory(village=village(OTHER_REGENCY_VILLAGE))

    assert (worker.district.code, worker.regency.code, worker.province.code) == ("15.08.01", "15.08", "15")
    assert counters() == {(OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (1, 0)}


def test_register_effective_today_when_term_starts_later(regions, today):
    worker = WorkerFactory(term_start=today + 5 * DAY)

    assert last_event(worker).effective_date == today


def test_register_strips_full_name(regions):
    worker = WorkerFactory(full_name="  Budi Santoso ")

    assert reload(worker).full_name == "Budi Santoso"


def test_register_conflict_when_nik_serves_elsewhere_names_village(regions):
    WorkerFactory(nik="1501011705800001")
    before = db_state()

    with pytest.raises(ConflictError) as exc_info:
        WorkerFactory(nik="1501011705800001", village=village(OTHER_REGENCY_VILLAGE))

    assert exc_info.value.code == "nik_serving_elsewhere"
    assert exc_info.value.field == "nik"
    assert VILLAGE in exc_info.value.message
    assert "Lempur Tengah" in exc_info.value.message
    assert db_state() == before


def test_register_rejects_bad_data_listing_every_problem_and_writes_nothing(regions):
    WorkerFactory()
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(
            nik="1501011705800002",
            sex="female",  # the NIK is a man's
            institution="bpd",
            position="kepala_desa",  # not a BPD position
            term_end=D(2023, 12, 31),  # before the term start
        )

    assert codes(exc_info) == {
        ("sex", "nik_sex_mismatch"),
        ("position", "position_not_in_institution"),
        ("term_end", "before_start"),
    }
    assert exc_info.value.status_code == 400
    assert db_state() == before


@pytest.mark.parametrize(
    ("institution", "position", "valid"),
    [
        ("pemerintah_desa", "kepala_desa", True),
        ("pemerintah_desa", "ketua", False),
        ("bpd", "ketua", True),
        ("bpd", "kepala_desa", False),
        ("bpd", "bendahara", False),
        ("rt", "bendahara", True),
        ("rt", "wakil_ketua", False),
        ("pkk", "kader", True),
        ("karang_taruna", "kader", False),
        ("posyandu", "kader", True),
        ("posyandu", "anggota", False),
        ("linmas", "anggota", True),
        ("linmas", "sekretaris", False),
        ("lembaga_adat", "wakil_ketua", True),
        ("other", "kepala_desa", True),
        ("other", "kader", True),
    ],
)
def test_register_position_must_exist_in_institution(regions, institution, position, valid):
    assert (position in POSITIONS_BY_INSTITUTION[institution]) is valid
    if valid:
        assert WorkerFactory(institution=institution, position=position).position == position
        return
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(institution=institution, position=position)
    assert codes(exc_info) == {("position", "position_not_in_institution")}
    assert ApparatusWorker.objects.count() == 0


def test_register_rejects_birth_date_in_future(regions, today):
    born = today + DAY
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(birth_date=born, nik=nik_for(born, "male", 1), term_start=today + 2 * DAY)

    assert ("birth_date", "future_date") in codes(exc_info)


def test_register_rejects_birth_date_before_1900(regions):
    born = D(1899, 12, 31)
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(birth_date=born, nik=nik_for(born, "male", 1))

    assert codes(exc_info) == {("birth_date", "date_too_early")}


def test_register_rejects_term_start_not_after_birth(regions):
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(term_start=D(1980, 5, 17))

    assert codes(exc_info) == {("term_start", "before_birth")}


def test_register_term_start_limited_by_future_horizon_setting(regions, settings, today):
    settings.UCJ_FUTURE_HORIZON_DAYS = 10

    WorkerFactory(term_start=today + 10 * DAY)
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(term_start=today + 11 * DAY)

    assert codes(exc_info) == {("term_start", "too_far_in_future")}
    assert "10" in exc_info.value.message
    assert ApparatusWorker.objects.count() == 1


def test_register_rejects_negative_monthly_wage(regions):
    with pytest.raises(ServiceError) as exc_info:
        WorkerFactory(monthly_wage=-1)

    assert codes(exc_info) == {("monthly_wage", "negative")}


def test_register_nik_region_prefix_need_not_match_village(regions):
    worker = WorkerFactory(nik=nik_for(D(1980, 5, 17), "male", 7, region="990101"), village=village())

    assert worker.nik == "9901011705800007"


# --- enrollment transitions -------------------------------------------------------------------

# The service of each transition kind: a row added to `transitions.TABLE` needs one here, and
# then gets its legal and illegal cases below.
ACTIONS = {
    EventKind.SUBMITTED: submit,
    EventKind.ACTIVATED: activate,
    EventKind.RENEWED: renew,
    EventKind.LAPSED: lapse,
    EventKind.SERVICE_ENDED: end_service,
}
TABLE = transitions.TABLE
# (kind, from, to): every legal transition, generated from the table.
LEGAL = [
    (str(kind), status, TABLE[kind].target(status))
    for kind in TABLE
    for status in S.values
    if TABLE[kind].allows(status)
]
ILLEGAL = [(str(kind), status) for kind in TABLE for status in S.values if not TABLE[kind].allows(status)]
# (serving, protected) of the worker's counter row in each status.
COUNTS = {S.NOT_REGISTERED: (1, 0), S.SUBMITTED: (1, 0), S.ACTIVE: (1, 1), S.LAPSED: (1, 0), S.ENDED: (0, 0)}


def test_state_machine_every_transition_has_a_service():
    assert set(ACTIONS) == set(TABLE)
    assert len(LEGAL) + len(ILLEGAL) == len(TABLE) * len(S.values)


def test_state_machine_table_agrees_with_facts_written_by_hand():
    """Not trusting the table blindly: what the domain says, written out independently of it."""
    assert sorted((kind, from_status) for kind, from_status, _to in LEGAL) == sorted(
        [
            ("submitted", S.NOT_REGISTERED),
            ("activated", S.NOT_REGISTERED),
            ("activated", S.SUBMITTED),
            ("renewed", S.ACTIVE),
            ("renewed", S.LAPSED),
            ("lapsed", S.ACTIVE),
            ("service_ended", S.NOT_REGISTERED),
            ("service_ended", S.SUBMITTED),
            ("service_ended", S.ACTIVE),
            ("service_ended", S.LAPSED),
        ]
    )
    assert TABLE[EventKind.LAPSED].target(S.ACTIVE) == S.LAPSED  # an active membership can lapse
    assert TABLE[EventKind.RENEWED].target(S.LAPSED) == S.ACTIVE  # a renewal revives a lapsed one
    assert not any(t.allows(S.ENDED) for t in TABLE.values())  # an ended service accepts nothing
    assert transitions.ends_service(EventKind.SERVICE_ENDED)
    assert not any(transitions.ends_service(kind) for kind in TABLE if kind != EventKind.SERVICE_ENDED)


def test_transition_active_membership_lapses_and_ended_service_accepts_nothing(regions, actor):
    """The same facts through the services, without the table."""
    worker = lapse(bring_to(WorkerFactory(), S.ACTIVE), actor=actor)
    assert reload(worker).enrollment.status == S.LAPSED
    ended = end_service(worker, actor=actor)
    before = db_state()
    for step in (submit, activate, renew, lapse, end_service):
        with pytest.raises(ConflictError) as exc_info:
            step(ended, actor=actor)
        assert (exc_info.value.status_code, exc_info.value.code) == (409, "illegal_transition")
    assert db_state() == before


def test_transition_illegal_message_names_the_allowed_statuses(regions, actor):
    worker = bring_to(WorkerFactory(), S.ACTIVE)

    with translation.override("en"), pytest.raises(ConflictError) as exc_info:
        activate(worker, actor=actor)

    assert exc_info.value.message == (
        "This change (membership activated) is not allowed while the enrollment is active; "
        "allowed from: not registered, submitted."
    )


@pytest.mark.parametrize(("kind", "from_status", "to_status"), LEGAL)
def test_transition_legal_writes_status_event_and_counters(regions, actor, admin_user, kind, from_status, to_status):
    worker = bring_to(WorkerFactory(), from_status)
    events_before = worker.events.count()

    ACTIONS[kind](worker, actor=actor)

    worker = reload(worker)
    assert worker.enrollment.status == to_status
    assert worker.events.count() == events_before + 1
    event = last_event(worker)
    assert (event.kind, event.from_status, event.to_status) == (kind, from_status, to_status)
    assert (event.source, event.actor, event.actor_label) == ("api", admin_user, "admin")
    assert event.changes["status"] == [from_status, to_status]
    assert event.effective_date == services.today()
    assert counters().get(KEY, (0, 0)) == COUNTS[to_status]
    assert counter_rows() == recounted_rows()


@pytest.mark.parametrize(("kind", "from_status"), ILLEGAL)
def test_transition_illegal_is_conflict_and_writes_nothing(regions, actor, kind, from_status):
    worker = bring_to(WorkerFactory(), from_status)
    before = db_state()

    with pytest.raises(ConflictError) as exc_info:
        ACTIONS[kind](
            worker, actor=actor, **({"paid_until": services.today() + 90 * DAY} if kind == EventKind.RENEWED else {})
        )

    assert exc_info.value.status_code == 409
    assert exc_info.value.code == "illegal_transition"
    assert exc_info.value.field == "status"
    assert db_state() == before
    assert reload(worker).enrollment.status == from_status


def test_transition_bumps_version_and_checks_expected_version(regions):
    worker = WorkerFactory()
    before = db_state()

    with pytest.raises(StaleVersionError) as exc_info:
        submit(worker, expected_version=2)

    assert exc_info.value.code == "stale_version"
    assert db_state() == before
    submit(worker, expected_version=1)
    assert reload(worker).version == 2


def test_activate_records_membership_and_changes(regions, today):
    worker = bring_to(WorkerFactory(), S.SUBMITTED)

    activate(
        worker,
        kpj_number="12345678901",
        scheme="pu",
        npp="NPP-00112233",
        programs=["jkk", "jkm", "jht", "jp"],
        funding_source="apbd_kabupaten",
        coverage_start=today - 10 * DAY,
        paid_until=today + 20 * DAY,
    )

    enrollment = Enrollment.objects.get(pk=worker.pk)
    assert (enrollment.kpj_number, enrollment.scheme, enrollment.npp) == ("12345678901", "pu", "NPP-00112233")
    assert enrollment.programs == ["jkk", "jkm", "jht", "jp"]
    assert (enrollment.coverage_start, enrollment.paid_until) == (today - 10 * DAY, today + 20 * DAY)
    changes = last_event(worker).changes
    assert changes["kpj_number"] == [None, "12345678901"]
    assert changes["scheme"] == ["", "pu"]
    assert changes["program_jp"] == [False, True]
    assert changes["coverage_start"] == [None, (today - 10 * DAY).isoformat()]
    assert changes["paid_until"] == [None, (today + 20 * DAY).isoformat()]


def test_activate_bpu_drops_npp(regions):
    worker = activate(WorkerFactory(), scheme="bpu", npp="NPP-1")

    assert reload(worker).enrollment.npp == ""


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"kpj_number": "1234567890"}, {("kpj_number", "kpj_shape")}),
        ({"kpj_number": "123456789012"}, {("kpj_number", "kpj_shape")}),
        ({"kpj_number": "1234567890A"}, {("kpj_number", "kpj_shape")}),
        ({"kpj_number": "１２３４５６７８９０１"}, {("kpj_number", "kpj_shape")}),  # full-width digits
        ({"kpj_number": ""}, {("kpj_number", "kpj_shape")}),
        ({"programs": ["jkk"]}, {("programs", "required_programs")}),
        ({"programs": ["jkm", "jht"]}, {("programs", "required_programs")}),
        ({"programs": []}, {("programs", "required_programs")}),
        ({"scheme": "bpu", "programs": ["jkk", "jkm", "jp"]}, {("programs", "jp_not_for_bpu")}),
        ({"scheme": "pu", "npp": ""}, {("npp", "required")}),
        (
            {"scheme": "pu", "npp": "", "programs": ["jkk"], "kpj_number": "1"},
            {("kpj_number", "kpj_shape"), ("programs", "required_programs"), ("npp", "required")},
        ),
    ],
)
def test_activate_rejects_membership_rules(regions, overrides, expected):
    worker = bring_to(WorkerFactory(), S.SUBMITTED)
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        activate(worker, **overrides)

    assert exc_info.value.status_code == 400
    assert codes(exc_info) == expected
    assert db_state() == before


def test_activate_pu_with_npp_allows_jp(regions):
    worker = activate(WorkerFactory(), scheme="pu", npp="NPP-1", programs=["jkk", "jkm", "jp"])

    assert reload(worker).enrollment.program_jp is True


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ({"coverage_start": 0, "paid_until": -1}, {("paid_until", "before_coverage_start")}),
        ({"coverage_start": -30, "paid_until": -1}, {("paid_until", "already_past")}),
        ({"coverage_start": 32, "paid_until": 40}, {("coverage_start", "too_far_in_future")}),
        ({"coverage_start": 0, "paid_until": 401}, {("paid_until", "too_far_in_future")}),
    ],
)
def test_activate_rejects_bad_period(regions, today, period, expected):
    worker = bring_to(WorkerFactory(), S.SUBMITTED)
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        activate(worker, **{field: today + days * DAY for field, days in period.items()})

    assert codes(exc_info) == expected
    assert db_state() == before


def test_activate_paid_until_equal_to_coverage_start_allowed(regions, today):
    worker = activate(WorkerFactory(), coverage_start=today, paid_until=today)

    assert reload(worker).enrollment.status == S.ACTIVE


def test_activate_horizons_follow_settings(regions, settings, today):
    settings.UCJ_PAID_UNTIL_HORIZON_DAYS = 100
    settings.UCJ_FUTURE_HORIZON_DAYS = 5
    first, second, third = WorkerFactory(), WorkerFactory(), WorkerFactory()

    activate(first, coverage_start=today + 5 * DAY, paid_until=today + 100 * DAY)
    with pytest.raises(ServiceError) as paid_exc:
        activate(second, paid_until=today + 101 * DAY)
    with pytest.raises(ServiceError) as start_exc:
        activate(third, coverage_start=today + 6 * DAY, paid_until=today + 50 * DAY)

    assert codes(paid_exc) == {("paid_until", "too_far_in_future")}
    assert "100" in paid_exc.value.message
    assert codes(start_exc) == {("coverage_start", "too_far_in_future")}
    assert Enrollment.objects.filter(status=S.ACTIVE).count() == 1


def test_activate_conflict_when_kpj_recorded_for_another_worker(regions):
    activate(WorkerFactory(), kpj_number="12345678901")
    worker = bring_to(WorkerFactory(), S.SUBMITTED)
    before = db_state()

    with pytest.raises(ConflictError) as exc_info:
        activate(worker, kpj_number="12345678901")

    assert (exc_info.value.code, exc_info.value.field) == ("kpj_taken", "kpj_number")
    assert db_state() == before


def test_kpj_refusal_inside_a_callers_transaction_leaves_it_usable(regions):
    activate(WorkerFactory(), kpj_number="12345678901")
    worker = bring_to(WorkerFactory(), S.SUBMITTED)
    other = bring_to(WorkerFactory(), S.SUBMITTED)

    with transaction.atomic():
        with pytest.raises(ConflictError) as exc_info:
            activate(worker, kpj_number="12345678901")
        activate(other, kpj_number="12345678902")  # the same transaction goes on

    assert exc_info.value.code == "kpj_taken"
    assert Enrollment.objects.get(pk=worker.pk).status == S.SUBMITTED
    assert Enrollment.objects.get(pk=other.pk).kpj_number == "12345678902"
    assert counter_rows() == recounted_rows()


def test_transition_effective_date_beyond_horizon_rejected(regions, settings, today):
    settings.UCJ_FUTURE_HORIZON_DAYS = 7
    worker = WorkerFactory()

    with pytest.raises(ServiceError) as exc_info:
        submit(worker, effective_date=today + 8 * DAY)

    assert codes(exc_info) == {("effective_date", "too_far_in_future")}
    submit(worker, effective_date=today + 7 * DAY)
    assert last_event(worker).effective_date == today + 7 * DAY


def test_transition_effective_date_before_last_event_rejected(regions):
    worker = WorkerFactory()  # registered effective 2024-01-01
    submit(worker, effective_date=D(2024, 3, 1))
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        activate(worker, effective_date=D(2024, 2, 29))

    assert codes(exc_info) == {("effective_date", "before_last_event")}
    assert "2024-03-01" in exc_info.value.message
    assert db_state() == before


def test_transition_effective_date_same_day_as_last_event_allowed(regions):
    worker = WorkerFactory()
    submit(worker, effective_date=D(2024, 3, 1))

    services.enrollment_activate(
        actor=services.Actor(label="test"),
        worker_id=worker.pk,
        effective_date=D(2024, 3, 1),
        **activation(coverage_start=D(2024, 3, 1)),
    )

    assert last_event(worker).effective_date == D(2024, 3, 1)


def test_periods_follow_every_change_and_a_same_day_change_replaces_that_days_state(regions):
    worker = WorkerFactory()  # registered from its term start, 2024-01-01
    submit(worker, effective_date=D(2024, 3, 1))
    activate(worker, effective_date=D(2024, 3, 1))
    lapse(worker, effective_date=D(2024, 6, 1))
    services.worker_update(
        actor=services.Actor(label="test"),
        worker_id=worker.pk,
        changes={"village": village(OTHER_VILLAGE_SAME_DISTRICT)},
        expected_version=None,
        effective_date=D(2024, 6, 1),
    )

    periods = list(
        WorkerPeriod.objects.filter(worker=worker)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "status", "village__code")
    )
    assert periods == [
        (D(2024, 1, 1), D(2024, 3, 1), S.NOT_REGISTERED, VILLAGE),
        (D(2024, 3, 1), D(2024, 6, 1), S.ACTIVE, VILLAGE),
        (D(2024, 6, 1), None, S.LAPSED, OTHER_VILLAGE_SAME_DISTRICT),
    ]


def test_renew_extends_paid_until_and_reactivates_lapsed(regions, today):
    worker = bring_to(WorkerFactory(), S.LAPSED)
    assert counters() == {KEY: (1, 0)}

    renew(worker, paid_until=today + 200 * DAY, funding_source="apbd_provinsi")

    enrollment = Enrollment.objects.get(pk=worker.pk)
    assert (enrollment.status, enrollment.paid_until, enrollment.funding_source) == (
        S.ACTIVE,
        today + 200 * DAY,
        "apbd_provinsi",
    )
    changes = last_event(worker).changes
    assert changes["paid_until"][1] == (today + 200 * DAY).isoformat()
    assert changes["funding_source"] == ["apbdes", "apbd_provinsi"]
    assert counters() == {KEY: (1, 1)}


@pytest.mark.parametrize(
    ("days_after_current", "expected"),
    [
        (0, {("paid_until", "not_later")}),
        (-1, {("paid_until", "not_later")}),
    ],
)
def test_renew_rejects_paid_until_not_later(regions, days_after_current, expected):
    worker = bring_to(WorkerFactory(), S.ACTIVE)
    current = worker.enrollment.paid_until
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        renew(worker, paid_until=current + days_after_current * DAY)

    assert codes(exc_info) == expected
    assert db_state() == before


def test_renew_rejects_paid_until_beyond_horizon(regions, settings, today):
    settings.UCJ_PAID_UNTIL_HORIZON_DAYS = 90
    worker = bring_to(WorkerFactory(), S.ACTIVE)  # paid until today + 60

    with pytest.raises(ServiceError) as exc_info:
        renew(worker, paid_until=today + 91 * DAY)

    assert codes(exc_info) == {("paid_until", "too_far_in_future")}
    renew(worker, paid_until=today + 90 * DAY)
    assert Enrollment.objects.get(pk=worker.pk).paid_until == today + 90 * DAY


def test_renew_lapsed_with_paid_until_already_past_rejected(regions, today):
    worker = WorkerFactory()
    activate(
        worker,
        coverage_start=D(2024, 2, 1),
        paid_until=D(2024, 3, 31),
        effective_date=D(2024, 2, 1),
    )
    lapse(worker, effective_date=D(2024, 4, 1))

    with pytest.raises(ServiceError) as exc_info:
        renew(worker, paid_until=D(2024, 6, 30))  # later than before, but already past today

    assert codes(exc_info) == {("paid_until", "already_past")}
    assert Enrollment.objects.get(pk=worker.pk).status == S.LAPSED


# --- end of service ---------------------------------------------------------------------------


def test_end_service_stops_serving_and_keeps_record(regions, today):
    worker = bring_to(WorkerFactory(), S.ACTIVE)
    assert counters() == {KEY: (1, 1)}

    end_service(worker)

    worker = reload(worker)
    assert (worker.serving, worker.term_end, worker.enrollment.status) == (False, today, S.ENDED)
    assert worker.enrollment.kpj_number is not None  # the membership data stays on record
    assert last_event(worker).changes["term_end"] == [None, today.isoformat()]
    assert counters() == {}
    assert worker.events.count() == 4


def test_end_service_before_term_start_rejected(regions, today):
    worker = WorkerFactory(term_start=today + 5 * DAY)  # registered effective today
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        end_service(worker)

    assert codes(exc_info) == {("effective_date", "before_term_start")}
    assert db_state() == before
    end_service(worker, effective_date=today + 5 * DAY)
    assert reload(worker).term_end == today + 5 * DAY


def test_end_service_frees_nik_for_another_village(regions):
    first = bring_to(WorkerFactory(nik="1501011705800001"), S.ACTIVE)
    end_service(first)

    second = WorkerFactory(nik="1501011705800001", village=village(OTHER_REGENCY_VILLAGE))

    assert second.pk != first.pk
    assert ApparatusWorker.objects.filter(nik="1501011705800001").count() == 2
    assert ApparatusWorker.objects.get(nik="1501011705800001", serving=True).pk == second.pk
    assert reload(first).enrollment.status == S.ENDED
    assert counters() == {(OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (1, 0)}


def test_ended_worker_cannot_be_edited(regions):
    worker = bring_to(WorkerFactory(), S.ENDED)
    before = db_state()

    with pytest.raises(ConflictError) as exc_info:
        services.worker_update(
            actor=services.Actor(label="test"),
            worker_id=worker.pk,
            changes={"phone": "081234567"},
            expected_version=None,
        )

    assert exc_info.value.code == "service_ended"
    assert db_state() == before


def test_ended_worker_cannot_be_renewed_or_reactivated(regions, today):
    worker = bring_to(WorkerFactory(), S.ACTIVE)
    end_service(worker)
    before = db_state()

    for attempt in (lambda: renew(worker, paid_until=today + 90 * DAY), lambda: activate(worker)):
        with pytest.raises(ConflictError) as exc_info:
            attempt()
        assert exc_info.value.code == "illegal_transition"
    assert db_state() == before


# --- editing the worker -----------------------------------------------------------------------


def update(worker, expected_version=None, **changes):
    return services.worker_update(
        actor=services.Actor(label="clerk"), worker_id=worker.pk, changes=changes, expected_version=expected_version
    )


def test_update_records_diff_and_bumps_version(regions):
    worker = bring_to(WorkerFactory(phone=""), S.SUBMITTED)

    update(worker, expected_version=2, phone="0812345678", full_name=worker.full_name)

    worker = reload(worker)
    assert (worker.phone, worker.version) == ("0812345678", 3)
    event = last_event(worker)
    assert (event.kind, event.from_status, event.to_status) == ("updated", S.SUBMITTED, S.SUBMITTED)
    assert event.changes == {"phone": ["", "0812345678"]}
    assert event.actor_label == "clerk"


def test_update_without_change_writes_nothing(regions):
    worker = WorkerFactory(phone="081234567")
    before = db_state()

    update(worker, phone="081234567")

    assert db_state() == before


def test_update_stale_version_rejected(regions):
    worker = WorkerFactory()
    update(worker, expected_version=1, phone="081111111")
    before = db_state()

    with pytest.raises(StaleVersionError) as exc_info:
        update(worker, expected_version=1, phone="082222222")

    assert (exc_info.value.code, exc_info.value.status_code, exc_info.value.field) == ("stale_version", 409, "version")
    assert db_state() == before


def test_update_unknown_field_rejected(regions):
    worker = WorkerFactory()

    with pytest.raises(ServiceError) as exc_info:
        update(worker, serving=False)

    assert "serving" in exc_info.value.message
    assert reload(worker).serving is True


def test_update_validates_like_registration(regions):
    worker = WorkerFactory()
    before = db_state()

    with pytest.raises(ServiceError) as exc_info:
        update(worker, birth_date=D(1980, 5, 18), institution="bpd")

    assert codes(exc_info) == {
        ("birth_date", "nik_birth_date_mismatch"),
        ("position", "position_not_in_institution"),
    }
    assert db_state() == before


def test_update_nik_to_one_serving_elsewhere_is_conflict(regions):
    WorkerFactory(nik="1501011705800001", village=village(OTHER_REGENCY_VILLAGE))
    worker = WorkerFactory(nik="1501011705800002")
    before = db_state()

    with pytest.raises(ConflictError) as exc_info:
        update(worker, nik="1501011705800001")

    assert exc_info.value.code == "nik_serving_elsewhere"
    assert OTHER_REGENCY_VILLAGE in exc_info.value.message
    assert db_state() == before


def test_update_effective_date_before_last_event_rejected(regions):
    worker = WorkerFactory()
    submit(worker, effective_date=D(2024, 6, 1))

    with pytest.raises(ServiceError) as exc_info:
        services.worker_update(
            actor=services.Actor(),
            worker_id=worker.pk,
            changes={"phone": "081234567"},
            expected_version=None,
            effective_date=D(2024, 5, 31),
        )

    assert codes(exc_info) == {("effective_date", "before_last_event")}


def test_update_moving_village_moves_counters(regions):
    moving = bring_to(WorkerFactory(), S.ACTIVE)
    WorkerFactory()  # stays behind, not protected
    assert counters() == {KEY: (2, 1)}

    update(moving, village=village(OTHER_REGENCY_VILLAGE))

    moving = reload(moving)
    assert (moving.district.code, moving.regency.code, moving.province.code) == ("15.08.01", "15.08", "15")
    assert counters() == {KEY: (1, 0), (OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (1, 1)}
    assert last_event(moving).changes["village"] == [VILLAGE, OTHER_REGENCY_VILLAGE]
    assert counter_rows() == recounted_rows()


def test_update_moving_institution_moves_counters(regions):
    worker = bring_to(WorkerFactory(), S.ACTIVE)

    update(worker, institution="bpd", position="ketua")

    assert counters() == {(VILLAGE, "bpd"): (1, 1)}
    assert counter_rows() == recounted_rows()


def test_update_moving_village_and_institution_of_unprotected_worker(regions):
    worker = bring_to(WorkerFactory(), S.LAPSED)

    update(worker, village=village(OTHER_VILLAGE_SAME_DISTRICT), institution="linmas", position="anggota")

    assert counters() == {(OTHER_VILLAGE_SAME_DISTRICT, "linmas"): (1, 0)}
    assert counter_rows() == recounted_rows()


# --- counters through a whole story -----------------------------------------------------------


def test_counters_follow_every_step_of_several_workers(regions):
    kepala = WorkerFactory()
    ketua = WorkerFactory(institution="bpd", position="ketua")
    kader = WorkerFactory(institution="posyandu", position="kader", village=village(OTHER_VILLAGE_SAME_DISTRICT))
    steps = [
        (lambda: None, {KEY: (1, 0), (VILLAGE, "bpd"): (1, 0), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)}),
        (
            lambda: submit(kepala),
            {KEY: (1, 0), (VILLAGE, "bpd"): (1, 0), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)},
        ),
        (
            lambda: activate(kepala),
            {KEY: (1, 1), (VILLAGE, "bpd"): (1, 0), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)},
        ),
        (
            lambda: activate(ketua),
            {KEY: (1, 1), (VILLAGE, "bpd"): (1, 1), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)},
        ),
        (
            lambda: lapse(kepala),
            {KEY: (1, 0), (VILLAGE, "bpd"): (1, 1), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)},
        ),
        (
            lambda: renew(kepala),
            {KEY: (1, 1), (VILLAGE, "bpd"): (1, 1), (OTHER_VILLAGE_SAME_DISTRICT, "posyandu"): (1, 0)},
        ),
        (
            lambda: update(kader, village=village()),
            {KEY: (1, 1), (VILLAGE, "bpd"): (1, 1), (VILLAGE, "posyandu"): (1, 0)},
        ),
        (lambda: end_service(ketua), {KEY: (1, 1), (VILLAGE, "posyandu"): (1, 0)}),
        (lambda: end_service(kepala), {(VILLAGE, "posyandu"): (1, 0)}),
    ]
    for step, expected in steps:
        step()
        assert counters() == expected
    assert counter_rows() == recounted_rows()


# --- append-only history ----------------------------------------------------------------------


def test_history_event_cannot_be_saved_again(regions):
    event = last_event(WorkerFactory())
    event.to_status = S.ACTIVE

    with pytest.raises(PermissionError):
        event.save()

    assert EnrollmentEvent.objects.get(pk=event.pk).to_status == S.NOT_REGISTERED


def test_history_event_cannot_be_deleted(regions):
    event = last_event(WorkerFactory())

    with pytest.raises(PermissionError):
        event.delete()

    assert EnrollmentEvent.objects.filter(pk=event.pk).exists()


def test_history_queryset_update_refused(regions):
    WorkerFactory()

    with pytest.raises(PermissionError):
        EnrollmentEvent.objects.all().update(source="admin")

    assert set(EnrollmentEvent.objects.values_list("source", flat=True)) == {"api"}


def test_history_queryset_delete_refused(regions):
    WorkerFactory()
    WorkerFactory()

    with pytest.raises(PermissionError):
        EnrollmentEvent.objects.filter(kind="registered").delete()

    assert EnrollmentEvent.objects.count() == 2


def test_history_keeps_every_event_in_order(regions):
    worker = WorkerFactory()
    bring_to(worker, S.ACTIVE)
    lapse(worker)
    renew(worker)
    end_service(worker)

    events = list(EnrollmentEvent.objects.filter(worker=worker).order_by("id"))
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        ("registered", "", S.NOT_REGISTERED),
        ("submitted", S.NOT_REGISTERED, S.SUBMITTED),
        ("activated", S.SUBMITTED, S.ACTIVE),
        ("lapsed", S.ACTIVE, S.LAPSED),
        ("renewed", S.LAPSED, S.ACTIVE),
        ("service_ended", S.ACTIVE, S.ENDED),
    ]
    dates = [e.effective_date for e in events]
    assert dates == sorted(dates)


def test_a_change_moves_updated_at_of_the_rows_it_writes(regions, actor):
    worker = WorkerFactory()
    before = ApparatusWorker.objects.values_list("updated_at", "enrollment__updated_at").get(pk=worker.pk)

    written = submit(worker, actor)

    after = ApparatusWorker.objects.values_list("updated_at", "enrollment__updated_at").get(pk=worker.pk)
    assert after[0] > before[0]
    assert after[1] > before[1]
    assert written.updated_at == after[0]
    assert written.enrollment.updated_at == after[1]
    services.worker_update(actor=actor, worker_id=worker.pk, changes={"phone": "0812999"}, expected_version=None)
    assert ApparatusWorker.objects.values_list("updated_at", flat=True).get(pk=worker.pk) > after[0]


@pytest.mark.django_db(transaction=True)
def test_a_worker_is_locked_only_inside_a_transaction(regions):
    worker = WorkerFactory()

    with pytest.raises(transaction.TransactionManagementError):
        writing._lock(worker.pk)
    with writing.worker_locked(worker.pk) as locked:
        assert locked.enrollment.status == EnrollmentStatus.NOT_REGISTERED
        assert locked.worker.enrollment is locked.enrollment
