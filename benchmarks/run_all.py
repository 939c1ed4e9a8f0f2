"""All speed benchmarks one after another (``make bench``); prints the machine and every table.

Writes nothing but the printed results (paste them into docs/performance.md). The whole run takes about
15–25 minutes on 2 cores, most of it creating 4,800 users and their room memberships for the scale benchmark.

    python -m benchmarks.run_all [--quick]

``--quick`` uses small counts to check that everything works (about 3 minutes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks import burst, latency, scale
from benchmarks.common import machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test, not a measurement")
    parser.add_argument("--skip-matching", action="store_true", help="leave out benchmarks.matching")
    parser.add_argument("--skip-planner", action="store_true", help="leave out benchmarks.planner")
    args = parser.parse_args(argv)
    print("# Benchmarks")
    print(f"\nMachine: {machine()}", flush=True)
    started = time.perf_counter()
    results: dict[str, bool] = {}
    if args.quick:
        results["latency"] = latency.main(["--count", "20", "--warmup", "3"])
        results["burst"] = burst.main(["--members", "40", "--seats", "5"])
        results["scale"] = scale.main(["--rooms", "4", "--members", "30"])
    else:
        results["latency"] = latency.main([])
        results["burst"] = burst.main([])
        results["scale"] = scale.main([])
    if not args.skip_matching:
        # The matching benchmark prints its own tables and has its own targets (docs/performance.md).
        subprocess.run([sys.executable, "-m", "benchmarks.matching"], check=False)
    if not args.skip_planner:
        # The session planner's own table and goals (docs/performance.md, "Session planner"); about a minute.
        planner = [sys.executable, "-m", "benchmarks.planner", *(["--quick"] if args.quick else [])]
        subprocess.run(planner, check=False)
    goals = ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in results.items())
    print(f"\nGoals and checks: {goals}")
    print(f"Total time {time.perf_counter() - started:.0f} s; machine at the end: {machine()}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
