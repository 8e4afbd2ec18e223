"""core.db: the writes of a request's transaction held back and sent with its COMMIT
(`WriteBatch.send` in `all_or_nothing`): what the transaction reads still sees them, a row count
that is not the one expected and a refusal of the database still undo everything, and the
caller's `refusals` still name the refusal."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from access.models import RateCount
from core.db import WriteBatch, all_or_nothing, once_committed, refusals, with_commit
from core.errors import ConflictError

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]


def _insert(key: str) -> WriteBatch:
    writes = WriteBatch()
    writes.insert(RateCount(key=key, window_no=1, hits=1, expires=100))
    return writes


def _log(key: str):
    return ("INSERT INTO access_ratecount (key, window_no, hits, expires) VALUES (%s, 1, 1, 100)", [key])


def _taken(exc: DatabaseError) -> None:
    if isinstance(exc, IntegrityError) and "access_ratecount_pkey" in str(exc):
        raise ConflictError("taken", field="key", code="taken") from exc


def test_held_writes_are_committed_and_read_by_their_own_transaction():
    done = []
    with all_or_nothing():
        writes = _insert("a")
        writes.update(RateCount.objects.filter(key="a"), rows=1, hits=5)
        writes.send()
        assert len(connection.execute_wrappers) == 1  # held: the next statement sends them first
        # Read in the same transaction: the held writes go first.
        assert list(RateCount.objects.values_list("key", "hits")) == [("a", 5)]
        assert connection.execute_wrappers == []
        writes = _insert("b")
        writes.send()
        with_commit(_log("log"))
        once_committed("done", ("SELECT 1", []), done=lambda: done.append(True))

    assert sorted(RateCount.objects.values_list("key", "hits")) == [("a", 5), ("b", 1), ("log", 1)]
    assert done == [True]
    assert connection.execute_wrappers == []


def test_a_held_write_of_another_row_count_undoes_the_whole_transaction():
    done = []

    def request():
        with all_or_nothing():
            writes = _insert("a")
            writes.update(RateCount.objects.filter(key="missing"), rows=1, hits=3)
            writes.send()
            with_commit(_log("log"))
            once_committed("done", ("SELECT 1", []), done=lambda: done.append(True))

    with pytest.raises(DatabaseError, match="0 rows written, 1 expected: UPDATE"):
        request()

    assert not RateCount.objects.exists()  # neither the writes nor the statement sent with the COMMIT
    assert done == []
    assert connection.execute_wrappers == []


def test_a_held_write_the_database_refuses_is_named_by_the_callers_refusal():
    RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)

    def request():
        with all_or_nothing():
            with refusals(_taken):
                _insert("b").send()
                _insert("a").send()  # the primary key is taken: known only with the COMMIT
            with_commit(_log("log"))

    with pytest.raises(ConflictError) as refused:
        request()

    assert isinstance(refused.value.__cause__, IntegrityError)
    assert list(RateCount.objects.values_list("key", flat=True)) == ["a"]
    assert connection.execute_wrappers == []


def test_a_refusal_met_when_a_read_sends_the_held_writes_is_named_too():
    RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)

    def request():
        with all_or_nothing():
            with refusals(_taken):
                _insert("a").send()
            RateCount.objects.count()  # sends the held write first, which the database refuses

    with pytest.raises(ConflictError):
        request()

    assert RateCount.objects.count() == 1
    assert connection.execute_wrappers == []


def test_an_error_after_writes_were_held_sends_none_of_them():
    def request():
        with all_or_nothing():
            _insert("a").send()
            raise RuntimeError("the answer failed")

    with pytest.raises(RuntimeError):
        request()

    assert not RateCount.objects.exists()
    assert connection.execute_wrappers == []
    assert connection.get_autocommit()


def test_writes_under_a_savepoint_are_sent_at_once():
    """A savepoint rolled back alone would have to take back writes never sent: under one, the
    writes go at once, and their row counts are checked there."""

    def under_a_savepoint():
        with transaction.atomic():
            writes = _insert("a")
            writes.update(RateCount.objects.filter(key="missing"), rows=1, hits=3)
            writes.send()

    with all_or_nothing():
        with pytest.raises(DatabaseError, match="0 rows written, 1 expected"):
            under_a_savepoint()
        _insert("b").send()

    assert list(RateCount.objects.values_list("key", flat=True)) == ["b"]
