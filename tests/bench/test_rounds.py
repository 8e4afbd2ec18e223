"""bench/rounds.py: the median of the rounds' ratios, per database, mode and scenario, and how far
apart two databases' medians are."""

from __future__ import annotations

from bench.rounds import apart, database_name, report_md, summarize


def _scenario(name: str, ratio: float | None, target: float | None = None, p50: float = 1.0) -> dict:
    return {"scenario": name, "ratio_alongside": ratio, "target_ratio": target, "p50_ms": p50}


def _one_mode(mode: str, *scenarios: dict) -> dict:
    return {"mode": mode, "scenarios": [_scenario("healthz", 1.0), *scenarios]}


def test_the_median_of_the_rounds_per_database_mode_and_scenario():
    runs = [
        ("big", _one_mode("cold", _scenario("trend", 3.1, 5.0, 4.0), _scenario("activate", 6.4, 6.0))),
        ("small", _one_mode("cold", _scenario("trend", 2.5, 5.0), _scenario("activate", 5.0, 6.0))),
        ("small", _one_mode("cold", _scenario("trend", 2.9, 5.0), _scenario("activate", 5.2, 6.0))),
        ("big", _one_mode("cold", _scenario("trend", 2.7, 5.0, 3.0), _scenario("activate", 5.8, 6.0))),
        ("big", _one_mode("cold", _scenario("trend", 2.8, 5.0, 3.5), _scenario("activate", 5.9, 6.0))),
        ("small", _one_mode("cold", _scenario("trend", 2.6, 5.0), _scenario("activate", 6.1, 6.0))),
    ]

    summary = summarize(runs)

    assert sorted(summary) == [
        ("big", "cold", "activate"),
        ("big", "cold", "trend"),
        ("small", "cold", "activate"),
        ("small", "cold", "trend"),
    ]
    assert summary[("big", "cold", "trend")]["values"] == [3.1, 2.7, 2.8]
    assert summary[("big", "cold", "trend")]["median"] == 2.8
    assert summary[("big", "cold", "trend")]["p50_ms"] == [4.0, 3.0, 3.5]
    # One round over the target (6.4) does not make the median miss it.
    assert summary[("big", "cold", "activate")]["median"] == 5.9
    assert summary[("big", "cold", "activate")]["meets_target"] is True
    assert summary[("small", "cold", "activate")]["median"] == 5.2


def test_a_run_of_every_mode_is_read_per_mode_and_scenarios_without_a_ratio_are_left_out():
    every_mode = {
        "modes": {
            "cached": _one_mode("cached", _scenario("trend", 2.1, 2.0), _scenario("skipped", None)),
            "cold": _one_mode("cold", _scenario("trend", 2.1, 5.0)),
        }
    }

    summary = summarize([("big", every_mode)])

    assert sorted(summary) == [("big", "cached", "trend"), ("big", "cold", "trend")]
    assert summary[("big", "cached", "trend")]["meets_target"] is False
    assert summary[("big", "cold", "trend")]["meets_target"] is True


def test_two_databases_are_set_side_by_side_with_how_far_apart_they_are():
    runs = [
        ("ucj_nat", _one_mode("cold", _scenario("trend", 3.0, 5.0), _scenario("list", 7.0, 8.0))),
        ("ucj_500k", _one_mode("cold", _scenario("trend", 2.4, 5.0), _scenario("list", 6.3, 8.0))),
    ]

    markdown = report_md(summarize(runs), ["ucj_nat", "ucj_500k"], 1)

    assert apart(2.4, 3.0) == -20.0
    assert apart(6.3, 7.0) == -10.0
    assert "| trend | cold | 3.00× ✓ (3.00) | 2.40× ✓ (2.40) | ≤ 5× | -20.0% ✓ |" in markdown
    assert "| list | cold | 7.00× ✓ (7.00) | 6.30× ✓ (6.30) | ≤ 8× | -10.0% ✓ |" in markdown
    assert database_name("postgres://u:p@127.0.0.1:5440/ucj_bench_500k") == "ucj_bench_500k"
