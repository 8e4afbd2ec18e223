"""core.cache.LocalCache: what nothing can change is handed back as kept, without a copy;
anything else as a copy, as Django's local-memory cache does."""

from __future__ import annotations

import time

import pytest

from core.cache import LocalCache


@pytest.fixture
def cache(request):
    kept = LocalCache(f"test-{request.node.name}", {"TIMEOUT": 60, "OPTIONS": {"MAX_ENTRIES": 3}})
    yield kept
    kept.clear()


def test_an_answer_kept_whole_is_handed_back_itself(cache):
    answer = ("application/json", b'{"count": 852}' * 5000)
    cache.set("body", answer)

    assert cache.get("body") is answer
    assert cache.get_many(["body", "missing"]) == {"body": answer}
    assert cache.add("body", ("text/csv", b"")) is False
    assert cache.get("body") is answer


def test_what_a_caller_changes_in_a_value_that_can_change_is_not_kept(cache):
    rows = [{"code": "11.08", "serving": 35}]
    cache.set("rows", rows)

    got = cache.get("rows")
    got[0]["serving"] = 0
    got.append({})
    rows.clear()

    assert cache.get("rows") == [{"code": "11.08", "serving": 35}]
    cache.set("nested", ("a", ["list"]))
    cache.get("nested")[1].append("more")
    assert cache.get("nested") == ("a", ["list"])


def test_counts_expiry_and_culling_work_as_djangos(cache):
    assert cache.add("n", 1) is True
    assert cache.incr("n", 5) == 6
    assert cache.decr("n") == 5
    assert cache.get("n") == 5
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")

    cache.set("brief", b"x", timeout=0.05)
    time.sleep(0.1)
    assert cache.get("brief", "gone") == "gone"
    assert cache.add("brief", b"y") is True

    for n in range(5):  # three entries at most
        cache.set(f"k{n}", n)
    assert sum(cache.get(f"k{n}") is not None for n in range(5)) <= 3
