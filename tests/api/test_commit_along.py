"""core.db: a transaction's BEGIN sent with its first statements, and what an `all_or_nothing`
transaction sends with its COMMIT (statements before it, statements once it is done), keep every
promise of a transaction: all or nothing, in order, and the connection as Django expects it after."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL

from access.models import RateCount
from core.db import all_or_nothing, once_committed, read_together, with_commit

pytestmark = pytest.mark.django_db

INSERT = "INSERT INTO access_ratecount (key, window_no, hits, expires) VALUES (%s, 1, %s, 100)"


def keys() -> list[str]:
    return sorted(RateCount.objects.values_list("key", flat=True))


def assert_connection_as_django_expects() -> None:
    """Autocommit on, as Django and psycopg both see it, and no transaction left open."""
    from psycopg.pq import TransactionStatus

    assert connection.get_autocommit() is True
    assert connection.connection.autocommit is True
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.parametrize("outer", [False, True])
def test_nothing_is_carried_where_the_transaction_does_not_commit_itself(outer):
    """Outside `all_or_nothing`, inside one nested in another transaction, or on SQLite, the
    caller is told to run its statement itself."""

    def carried() -> tuple[bool, bool]:
        with all_or_nothing():
            return with_commit((INSERT, ["a", 1])), once_committed("k", (INSERT, ["b", 1]))

    assert with_commit((INSERT, ["a", 1])) is False
    if outer:  # the tests' own transaction is around this one anyway
        with transaction.atomic():
            assert carried() == (False, False)
    else:
        assert carried() == (False, False)
    assert keys() == []


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_sent_with_the_commit_is_written_with_the_transaction_and_only_then():
    done = []
    with all_or_nothing():
        RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
        assert with_commit((INSERT, ["b", 2])) is True
        assert once_committed("c", (INSERT, ["c", 3]), done=lambda: done.append("c")) is True
        assert once_committed("c", (INSERT, ["c", 4]), done=lambda: done.append("again")) is True  # once per key
        assert keys() == ["a"]  # not sent yet

    assert list(RateCount.objects.order_by("key").values_list("key", "hits")) == [("a", 1), ("b", 2), ("c", 3)]
    assert done == ["c"]
    assert_connection_as_django_expects()


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_error_in_a_statement_sent_before_the_commit_rolls_back_the_whole_transaction():
    done: list[str] = []

    def write() -> None:
        with all_or_nothing():
            RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
            with_commit((INSERT, ["a", 2]))  # the primary key is taken
            once_committed("c", (INSERT, ["c", 3]), done=lambda: done.append("c"))

    with pytest.raises(IntegrityError):
        write()

    assert keys() == []
    assert done == []
    assert_connection_as_django_expects()
    assert RateCount.objects.count() == 0  # and the connection works


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_sent_once_committed_runs_after_the_commit():
    """Its error comes once the transaction is committed: what the transaction wrote is kept."""

    def write() -> None:
        with all_or_nothing():
            RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
            once_committed("fails", ("SELECT 1 / 0", []))

    with pytest.raises(DatabaseError, match="division by zero"):
        write()

    assert keys() == ["a"]
    assert_connection_as_django_expects()


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_block_that_failed_inside_sends_nothing_with_the_commit():
    """An inner block's error caught inside (which `all_or_nothing` forbids, and Django then rolls
    back at the end) does not let the statements carried with the COMMIT through."""
    with all_or_nothing():
        RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
        with_commit((INSERT, ["b", 2]))
        try:
            with transaction.atomic(savepoint=False):
                RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
        except IntegrityError:
            pass

    assert keys() == []
    assert_connection_as_django_expects()


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_begun_with_its_first_pipelined_statements_is_all_or_nothing():
    """The BEGIN goes with the first statements (core.db.pipelined): whatever follows is in the
    transaction, and the rollback takes all of it."""
    RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)

    def write_then_fail() -> None:
        with transaction.atomic():
            [found] = read_together(RateCount.objects.filter(key="a"))
            assert [row.key for row in found] == ["a"]
            RateCount.objects.filter(key="a").update(hits=5)
            RateCount.objects.create(key="b", window_no=1, hits=1, expires=100)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert list(RateCount.objects.values_list("key", "hits")) == [("a", 1)]
    assert_connection_as_django_expects()

    with transaction.atomic():  # and the next transaction is one too
        read_together(RateCount.objects.filter(key="a"))
        RateCount.objects.create(key="b", window_no=1, hits=1, expires=100)
    assert keys() == ["a", "b"]
    assert_connection_as_django_expects()


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_whose_first_pipelined_statement_fails_is_rolled_back_and_the_next_begins():
    RateCount.objects.create(key="a", window_no=1, hits=1, expires=100)
    failing = RateCount.objects.annotate(x=RawSQL("1 / (hits - hits)", ())).filter(key="a")

    with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
        read_together(failing)
    assert_connection_as_django_expects()

    def write_then_fail() -> None:
        with transaction.atomic():
            RateCount.objects.create(key="b", window_no=1, hits=1, expires=100)  # psycopg's own BEGIN
            read_together(failing)

    with pytest.raises(DatabaseError, match="division by zero"):
        write_then_fail()
    assert keys() == ["a"]
    assert_connection_as_django_expects()

    with transaction.atomic():
        read_together(RateCount.objects.filter(key="a"))
        RateCount.objects.create(key="c", window_no=1, hits=1, expires=100)
    assert keys() == ["a", "c"]
    assert_connection_as_django_expects()
