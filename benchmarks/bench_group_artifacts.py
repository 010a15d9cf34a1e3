"""Writing the artifact of a group fit of 100,000 members, whole text against member by member; reading it.

The group holds ``--members`` fits of the saturating power law (per-task error curves of
``bench_groups.make_groups``, 8-20 points, no bootstrap); ``--fitted`` groups are fitted and their fits
repeated under new names to make up the count.  Each way is timed once without tracing, then run again
under ``tracemalloc`` for its peak of Python allocations (the fits themselves excluded: the peak is what
writing or reading adds; "kept after" is what the answer holds: the text written, or the group read).

* write, whole text: ``to_json(path)`` (the whole text made, then written);
* write, member by member: ``write_json(path)`` (one member's text at a time);
* read: ``scalelaw.load(path)`` (the text, parsed, then turned into fits).

    .venv/bin/python benchmarks/bench_group_artifacts.py [--members 100000] [--fitted 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

from bench_groups import LAW, make_groups

from scalelaw import fit, load
from scalelaw.result import FitGroup


def group_of(members: int, fitted: int) -> FitGroup:
    """A group fit of ``members`` groups made of ``fitted`` fitted ones, repeated under new names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = fit(LAW, make_groups(fitted), by="group", loss="squared")
    fits = list(made.fits.values())
    names = [f"task{i:07d}" for i in range(members)]
    info = {**made.info, "groups": {name: (name,) for name in names}}
    return FitGroup(made.family, made.kind, {name: fits[i % len(fits)] for i, name in enumerate(names)},
                    key=made.key, settings=made.settings, info=info, warnings=made.warnings)


def measure(label: str, action) -> None:
    clock = time.perf_counter()
    action()
    seconds = time.perf_counter() - clock
    tracemalloc.start()
    kept = action()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    print(f"  {label:26s} {seconds:7.2f} s   peak {peak / 2**20:8.1f} MiB   kept after {held / 2**20:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--fitted", type=int, default=1_000)
    args = parser.parse_args()
    group = group_of(args.members, args.fitted)
    with tempfile.TemporaryDirectory() as folder:
        whole, streamed = Path(folder) / "whole.json", Path(folder) / "streamed.json"
        print(f"group artifact of {args.members} members ({args.fitted} fitted, repeated):")
        measure("write, whole text", lambda: group.to_json(whole))
        measure("write, member by member", lambda: group.write_json(streamed))
        same = whole.read_bytes() == streamed.read_bytes()
        print(f"  file {streamed.stat().st_size / 2**20:.1f} MiB; identical bytes: {same}")
        measure("read", lambda: load(streamed))


if __name__ == "__main__":
    main()
