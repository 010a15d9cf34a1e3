"""Count the outcomes of the fuzz targets: cases and calls per target, and each kind of failure.

    python tests/fuzz/measure.py [--factor F] [--fresh] [--target NAME ...]

runs each target with F times its ``make test`` budget (seeded: the same cases every run; ``--fresh``: new
ones) and prints one line per target (cases, calls, answered, refused, failures) and the commonest failures.
Run it with another checkout's ``scalelaw`` first on PYTHONPATH to measure that version on the same cases.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from hypothesis import given, settings  # noqa: E402

from fuzz.targets import TARGETS  # noqa: E402


def measure(name: str, factor: float, fresh: bool = False) -> tuple[int, Counter, Counter]:
    target = TARGETS[name]
    cases, kinds, failures = [0], Counter(), Counter()

    @settings(parent=None, max_examples=max(1, int(target.examples * factor)), derandomize=not fresh, deadline=None,
              database=None, suppress_health_check=list(__import__("hypothesis").HealthCheck))
    @given(case=target.strategy())
    def run(case):
        cases[0] += 1
        for kind, call in target.run(case):
            group = kind if kind in ("ok", "refused") else kind.split(":")[0]
            kinds[group] += 1
            if group not in ("ok", "refused"):
                failures[f"{call}: {kind[:110]}"] += 1

    run()
    return cases[0], kinds, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--factor", type=float, default=1.0)
    parser.add_argument("--target", action="append")
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="draw new cases (as make fuzz does), not the seeded ones")
    args = parser.parse_args()
    import scalelaw

    print(f"scalelaw from {Path(scalelaw.__file__).parent}")
    total = Counter()
    for name in args.target or TARGETS:
        start = time.perf_counter()
        cases, kinds, failures = measure(name, args.factor, args.fresh)
        calls = sum(kinds.values())
        bad = calls - kinds["ok"] - kinds["refused"]
        total.update(cases=cases, calls=calls, bad=bad)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()) if k not in ("ok", "refused"))
        print(f"{name:28s} cases {cases:6d}  calls {calls:6d}  ok {kinds['ok']:6d}  refused {kinds['refused']:6d}  "
              f"failures {bad:5d}  ({time.perf_counter() - start:.0f} s){'  ' + detail if detail else ''}")
        for failure, count in failures.most_common(args.top):
            print(f"    {count:5d} x {failure}")
    print(f"{'total':28s} cases {total['cases']:6d}  calls {total['calls']:6d}  failures {total['bad']:5d}")


if __name__ == "__main__":
    main()
