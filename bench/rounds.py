"""The national benchmark run several times, its databases alternated: each scenario's ratio to
`/healthz` alongside as the median of the rounds, per database and mode, and, with two databases
(the same regions at two sizes), how far apart the two medians are.

    .venv/bin/python bench/rounds.py --database postgres://ucj:ucj@127.0.0.1:5432/ucj_nat \\
        [--database postgres://ucj:ucj@127.0.0.1:5440/ucj_bench_500k] [--rounds 3] [--out DIR] \\
        -- --mode cold --requests 200 --regency 11.08

Everything after `--` goes to `bench/national_bench.py` as it is (give `--regency`: both
databases must measure the same one). Each round runs the benchmark once on each database, the
order turned round from one round to the next, so a machine whose speed drifts (a shared VM's
does by a third within minutes) weighs on both alike; one run's ratios on this VM move by about
a tenth from run to run, their median over three rounds less. Results: DIR/rounds.json and
rounds.md (default bench/results/rounds), each run's own report in DIR/round-N/NAME/.

`summarize(runs)` is the arithmetic, apart: {(database, mode, scenario): median, values, target}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Two sizes' medians further apart than this (in per cent of the first database's) miss the
# target of the same cost at every size (issue #20, item 3).
SCALE_TOLERANCE = 20.0


def database_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _modes(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{mode: its scenarios} of one run's national.json (one mode, or `--mode all`)."""
    if "modes" in report:
        return {mode: result["scenarios"] for mode, result in report["modes"].items()}
    return {report["mode"]: report["scenarios"]}


def summarize(runs: Iterable[tuple[str, dict[str, Any]]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The ratios of `runs` ((database, national.json) in the order run), per database, mode and
    scenario: the values of every round, their median, the target ratio and whether the median
    is within it. Scenarios without a ratio (skipped ones) are left out."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for database, report in runs:
        for mode, scenarios in _modes(report).items():
            for scenario in scenarios:
                ratio = scenario.get("ratio_alongside")
                if ratio is None or scenario["scenario"] == "healthz":
                    continue
                entry = found.setdefault(
                    (database, mode, scenario["scenario"]),
                    {"values": [], "p50_ms": [], "target": scenario.get("target_ratio")},
                )
                entry["values"].append(ratio)
                entry["p50_ms"].append(scenario["p50_ms"])
    for entry in found.values():
        entry["median"] = round(statistics.median(entry["values"]), 2)
        entry["meets_target"] = None if entry["target"] is None else entry["median"] <= entry["target"]
    return found


def apart(second: float, first: float) -> float:
    """How far the second database's median is from the first's, in per cent of the first's."""
    return round(100 * (second - first) / first, 1)


def report_md(summary: dict[tuple[str, str, str], dict[str, Any]], databases: list[str], rounds: int) -> str:
    lines = [
        f"# The national benchmark in {rounds} rounds: median ratio to `/healthz` alongside",
        "",
        "Each cell: the median of the rounds (each round's value). Target: ../shared/DESIGN.md §6.",
        "",
    ]
    header = ["scenario", "mode", *databases, "target"]
    if len(databases) == 2:
        header.append(f"{databases[1]} against {databases[0]}")
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keys = sorted({(mode, scenario) for _database, mode, scenario in summary}, key=lambda k: (k[0], k[1]))
    for mode, scenario in keys:
        cells = [scenario, mode]
        medians: list[float | None] = []
        target: float | None = None
        for database in databases:
            entry = summary.get((database, mode, scenario))
            if entry is None:
                cells.append("")
                medians.append(None)
                continue
            target = entry["target"] if entry["target"] is not None else target
            mark = "" if entry["meets_target"] is None else (" ✓" if entry["meets_target"] else " ✗")
            values = ", ".join(f"{v:.2f}" for v in entry["values"])
            cells.append(f"{entry['median']:.2f}×{mark} ({values})")
            medians.append(entry["median"])
        cells.append("" if target is None else f"≤ {target:g}×")
        if len(databases) == 2:
            first, second = medians
            if first is None or second is None:
                cells.append("")
            else:
                difference = apart(second, first)
                mark = "✓" if abs(difference) <= SCALE_TOLERANCE else "✗"
                cells.append(f"{difference:+.1f}% {mark}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passed: list[str] = []
    if "--" in argv:
        passed = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", action="append", required=True, help="a database URL (once or twice)")
    parser.add_argument("--rounds", type=int, default=3, help="runs on each database (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "rounds")
    args = parser.parse_args(argv)
    if len(args.database) > 2:
        parser.error("one or two databases")
    names = [database_name(url) for url in args.database]
    if len(set(names)) != len(names):
        parser.error("the databases need different names")
    runs: list[tuple[str, dict[str, Any]]] = []
    ok = True
    for round_no in range(1, args.rounds + 1):
        order = list(zip(names, args.database, strict=True))
        if round_no % 2 == 0:
            order.reverse()
        for name, url in order:
            out = args.out / f"round-{round_no}" / name
            print(f"round {round_no}: {name}", flush=True)
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "national_bench.py"), *passed, "--out", str(out)],
                env={**os.environ, "DATABASE_URL": url},
                check=False,
            )
            ok = ok and done.returncode == 0
            runs.append((name, json.loads((out / "national.json").read_text())))
    summary = summarize(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rounds.json").write_text(
        json.dumps(
            {
                "databases": names,
                "rounds": args.rounds,
                "benchmark_options": passed,
                "results": [
                    {"database": d, "mode": m, "scenario": s, **entry} for (d, m, s), entry in sorted(summary.items())
                ],
            },
            indent=2,
        )
    )
    markdown = report_md(summary, names, args.rounds)
    (args.out / "rounds.md").write_text(markdown)
    print(markdown)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
