"""core.db: writes collected and sent together keep the ORM's values, run in order,
and are all or nothing within a transaction."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.db.models.sql import InsertQuery, UpdateQuery, compiler

from access.models import RateCount
from core.db import Joined, PreparedRead, WriteBatch
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerPeriod
from tests.enrollment.factories import WorkerFactory

pytestmark = pytest.mark.django_db


def test_writes_run_in_the_order_added():
    writes = WriteBatch()
    writes.insert(RateCount(key="a", window_no=1, hits=1, expires=100))
    writes.update(RateCount.objects.filter(key="a"), rows=1, hits=7)
    writes.insert(RateCount(key="b", window_no=1, hits=2, expires=100))
    writes.update(RateCount.objects.filter(hits__gt=1), rows=2, window_no=9)
    assert len(writes) == 4

    writes.send()

    assert sorted(RateCount.objects.values_list("key", "hits", "window_no")) == [("a", 7, 9), ("b", 2, 9)]
    assert len(writes) == 0  # sent once: a second send writes nothing again
    writes.send()
    assert RateCount.objects.count() == 2


def test_an_unexpected_row_count_undoes_every_write_of_the_transaction():
    writes = WriteBatch()
    writes.insert(RateCount(key="a", window_no=1, hits=1, expires=100))
    writes.update(RateCount.objects.filter(key="missing"), rows=1, hits=3)
    writes.insert(RateCount(key="b", window_no=1, hits=1, expires=100))

    with pytest.raises(DatabaseError, match="0 rows written, 1 expected"), transaction.atomic():
        writes.send()

    assert not RateCount.objects.exists()


def test_a_refused_write_is_djangos_error_and_nothing_is_written():
    RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
    writes = WriteBatch()
    writes.update(RateCount.objects.filter(key="a"), rows=1, hits=5)
    writes.insert(RateCount(key="a", window_no=2, hits=1, expires=100))  # the primary key is taken

    with pytest.raises(IntegrityError), transaction.atomic():
        writes.send()

    assert list(RateCount.objects.values_list("key", "hits")) == [("a", 1)]
    # The connection is usable afterwards.
    assert RateCount.objects.count() == 1


def test_save_writes_the_named_fields_as_save_would():
    row = RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
    row.hits, row.expires = 4, 500
    writes = WriteBatch()
    writes.save(row, update_fields=["hits"])
    writes.send()

    assert RateCount.objects.values_list("hits", "expires").get() == (4, 100)


def test_a_prepared_read_is_compiled_once_and_read_with_each_value(django_assert_num_queries):
    RateCount.objects.bulk_create(
        [RateCount(key=k, window_no=n, hits=n, expires=100) for n, k in enumerate(["a", "b", "c"], start=1)]
    )
    built = []

    def build(key):
        built.append(key)
        return [
            RateCount.objects.filter(key=key).annotate(total=F("hits") + F("window_no")),
            RateCount.objects.filter(key__gt=key).order_by("key"),
        ]

    prepared = PreparedRead(build)
    with django_assert_num_queries(2):
        (a,), after_a = prepared.read("a")
    (c,), after_c = prepared.read("c")

    assert (a.key, a.hits, a.total) == ("a", 1, 2)
    assert [row.key for row in after_a] == ["b", "c"]
    assert (c.key, c.total, after_c) == ("c", 6, [])
    assert built == [PreparedRead.STAND_IN]  # compiled once


def test_a_prepared_read_refuses_querysets_with_other_parameters():
    prepared = PreparedRead(lambda key: [RateCount.objects.filter(key=key, hits__gt=3)])

    with pytest.raises(ValueError, match="only parameter"):
        prepared.read("a")


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_unflushed_transaction_commits_without_waiting_for_the_disk_and_only_itself():
    from django.db import connection

    from core.db import unflushed

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    before = synchronous_commit()
    with unflushed():
        RateCount.objects.create(key="u", window_no=1, hits=1, expires=100)
        assert synchronous_commit() == "off"
    assert synchronous_commit() == before == "on"
    assert RateCount.objects.filter(key="u").exists()
    with transaction.atomic():  # inside another transaction: a plain savepoint, the outer one unchanged
        with unflushed():
            RateCount.objects.create(key="w", window_no=1, hits=1, expires=100)
        assert synchronous_commit() == "on"


def test_an_unflushed_transaction_is_all_or_nothing():
    from core.db import unflushed

    def failing() -> None:
        with unflushed():
            RateCount.objects.create(key="v", window_no=1, hits=1, expires=100)
            raise DatabaseError("after the write")

    with pytest.raises(DatabaseError):
        failing()
    assert not RateCount.objects.filter(key="v").exists()


def _params(params):
    # psycopg's JSON wrapper has no equality of its own: compare what it wraps.
    return [getattr(param, "obj", param) for param in params]


def _rows_written(worker):
    """A worker's row saved (a column set to NULL among them), its open period changed, and an
    event and a closed period inserted, as the write path does."""
    writes = WriteBatch()
    worker.phone, worker.version, worker.term_end = f"0812{worker.pk:08d}", worker.version + 1, None
    writes.save(worker, update_fields=["phone", "term_end", "version", "updated_at"])
    writes.update_where(
        WorkerPeriod, {"worker_id": worker.pk, "valid_to__isnull": True}, rows=1, paid_until=None, serving=True
    )
    event = EnrollmentEvent(
        worker_id=worker.pk,
        kind="updated",
        effective_date=datetime.date(2026, 1, 5),
        actor_label="test",
        changes={"phone": ["", worker.phone]},
    )
    period = WorkerPeriod(
        worker_id=worker.pk,
        valid_from=datetime.date(2020, 1, 5),
        valid_to=datetime.date(2020, 2, 5),  # a closed period: the worker has its open one
        village_id=worker.village_id,
        district_id=worker.district_id,
        regency_id=worker.regency_id,
        province_id=worker.province_id,
        institution=worker.institution,
        serving=True,
        status="not_registered",
    )
    writes.insert(event)
    writes.insert(period)
    return writes, [event, period]


def test_a_rows_write_is_compiled_once_per_columns_and_sent_as_the_orm_compiles_it(regions, monkeypatch):
    """The write path's row statements (a worker's UPDATE by primary key, its open period's
    UPDATE, an event's and a period's INSERT) are compiled by the ORM the first time for a model,
    its columns (those set to NULL, those taking their database default) and lookups, then
    reused: the same SQL, with the values prepared as the ORM prepares them."""
    first, second = WorkerFactory(), WorkerFactory()
    _rows_written(first)  # compiled, and kept
    compiled = []
    for klass in (compiler.SQLInsertCompiler, compiler.SQLUpdateCompiler):
        as_sql = klass.as_sql
        monkeypatch.setattr(
            klass, "as_sql", lambda self, *a, _as_sql=as_sql, **k: compiled.append(self) or _as_sql(self, *a, **k)
        )
    writes, inserted = _rows_written(second)
    monkeypatch.undo()
    assert compiled == []  # nothing compiled again for the same columns

    # The ORM's own statements for the same rows, with the same values (raw: no new times).
    update = ApparatusWorker._base_manager.filter(pk=second.pk).query.chain(UpdateQuery)
    update.add_update_values(
        {"phone": second.phone, "term_end": None, "version": second.version, "updated_at": second.updated_at}
    )
    period_update = WorkerPeriod.objects.filter(worker_id=second.pk, valid_to__isnull=True).query.chain(UpdateQuery)
    period_update.add_update_values({"paid_until": None, "serving": True})
    expected = [update.get_compiler("default").as_sql(), period_update.get_compiler("default").as_sql()]
    for row in inserted:
        insert = InsertQuery(type(row))
        insert.insert_values([f for f in row._meta.local_concrete_fields if not f.primary_key], [row], raw=True)
        expected += insert.get_compiler("default").as_sql()
    sent = [(sql, _params(params)) for sql, params, _rows in writes._statements]
    assert sent == [(sql, _params(params)) for sql, params in expected]

    writes.send()
    assert ApparatusWorker.objects.get(pk=second.pk).phone == second.phone
    assert EnrollmentEvent.objects.get(worker_id=second.pk, kind="updated").changes == {"phone": ["", second.phone]}
    assert WorkerPeriod.objects.filter(worker_id=second.pk, valid_from=datetime.date(2020, 1, 5)).exists()


@pytest.mark.requires_postgres
def test_timestamps_are_read_in_c_as_djangos_loader_reads_them():
    """core.db.timestamps_read_in_c: the same datetimes (in UTC, as `datetime.timezone.utc`) and
    the same refusals as Django's loader, for what PostgreSQL writes."""
    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    values = [
        "2026-12-05 13:08:07.065979+00",
        "2026-12-05 13:08:07+00",
        "1899-03-01 00:00:00.5+00",
        "0001-01-01 00:00:00+00",
        "9999-12-31 23:59:59.999999+00",
        "2026-06-01 12:00:00+07",
        "2026-06-01 12:00:00.1-03:30",
    ]
    query = "SELECT " + ", ".join(["%s::timestamptz"] * len(values))
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(1184, Format.TEXT).__name__ == "UtcTimestampLoader"

    with connection.cursor() as ours, connection.cursor() as djangos:
        register_tzloader(datetime.UTC, djangos.cursor)
        ours.execute(query, values)
        djangos.execute(query, values)
        read, expected = ours.fetchone(), djangos.fetchone()
        assert read == expected
        assert [value.tzinfo for value in read] == [datetime.UTC] * len(values)
        for refused in ("infinity", "-infinity"):
            ours.execute("SELECT %s::timestamptz", [refused])
            djangos.execute("SELECT %s::timestamptz", [refused])
            with pytest.raises(DatabaseError) as ours_refused:
                ours.fetchone()
            with pytest.raises(DatabaseError) as djangos_refused:
                djangos.fetchone()
            assert type(ours_refused.value) is type(djangos_refused.value)


def _count(key: str) -> Joined:
    from access.throttling import count_joined

    return count_joined(key, 1, 100)


@pytest.mark.parametrize("found", [0, 1, 2])
def test_statements_joined_into_another_give_their_rows_as_if_run_alone(found):
    """`fetch_joined`: on PostgreSQL the rate count (a DELETE and an upsert in the WITH) and the
    data version ride in one statement with the rows of another; elsewhere they run beside it.
    Either way the same rows, and the count is made whether the other statement finds a row or
    not."""
    from core.data_version import version_joined, version_statement
    from core.db import fetch_along, fetch_joined

    for n in range(found):
        RateCount.objects.create(key=f"row{n}", window_no=1, hits=n + 10, expires=100)
    rows_sql = ("SELECT key, hits FROM access_ratecount WHERE key LIKE %s ORDER BY key", ["row%"])

    rows, (counted, version), (one,) = fetch_joined(
        "default", rows_sql, [_count("k"), version_joined()], [("SELECT 7", [])]
    )
    _rows, (counted_again,) = fetch_joined("default", rows_sql, [_count("k")])[:2]
    _alone, (expected_version,) = fetch_along("default", ("SELECT 1", []), [version_statement()])

    assert [tuple(row) for row in rows] == [(f"row{n}", n + 10) for n in range(found)]
    assert (counted, counted_again, one) == ((1,), (2,), (7,))
    assert tuple(version) == tuple(expected_version)
    assert RateCount.objects.get(key="k").hits == 2


@pytest.mark.django_db(transaction=True)
def test_one_statement_fetched_outside_a_transaction_gives_its_rows_and_leaves_none_open():
    """`fetch_along` of one statement with nothing along and no transaction to begin: sent as it
    is (no pipeline), with the same rows, errors as Django's, and the connection left idle."""
    from django.db import connection

    from core.db import fetch_along

    RateCount.objects.create(key="alone", window_no=1, hits=4, expires=100)
    statement = ("SELECT key, hits FROM access_ratecount WHERE key = %s", ["alone"])

    rows, along = fetch_along("default", statement)
    with transaction.atomic():
        in_transaction = fetch_along("default", statement)
    with pytest.raises(DatabaseError):
        fetch_along("default", ("SELECT hits FROM no_such_table", []))

    assert [tuple(row) for row in rows] == [("alone", 4)] == [tuple(row) for row in in_transaction[0]]
    assert along == [] == in_transaction[1]
    assert not connection.in_atomic_block
    assert RateCount.objects.get(key="alone").hits == 4  # the connection still answers


def test_results_read_in_binary_are_the_values_read_as_text():
    """core.db.binary_results: integers, their sums (bigint), numbers, text and NULL read the same
    either way."""
    from django.db import connection

    from core.db import binary_results

    sql = (
        "SELECT CAST(7 AS integer), CAST(-2147483648 AS integer), CAST(5000000000 AS bigint), SUM(n), NULL, "
        "12.50, 'Desa é' FROM (SELECT 2147483647 AS n UNION ALL SELECT 2147483647) v"
    )
    with connection.cursor() as text:
        text.execute(sql)
        expected = text.fetchall()
    with connection.cursor() as binary:
        binary_results(binary)
        binary.execute(sql)
        read = binary.fetchall()

    assert read == expected
    assert [type(value) for value in read[0]] == [type(value) for value in expected[0]]
