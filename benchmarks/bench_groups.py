"""Many small fits: scalelaw's batched ``by=`` against a loop of curve_fit and a loop of scalelaw fits.

Groups are per-task error curves err = E + A x^-alpha over training compute x (1e21 FLOPs), 8-20 points
each, drawn from the ranges of the shipped ObsScaling table (compute 0.1-1e4 x 1e21 FLOPs, error floors
0.05-0.6), with 2% log-normal noise.  Every method minimises the same objective: the sum of squared
log residuals (scalelaw ``loss="squared"`` on the law's log space; curve_fit on log y with the model's
log).  A method fails on a group when it raises or ends above scalelaw's batched objective by more than
1e-6 relative (or the other way round for scalelaw's batched fit against the best of the others).

* the plain approach: a Python loop of ``scipy.optimize.curve_fit`` (trf, bounds E, A > 0), one call per
  group, started at E = min(y)/2, A = max(y), alpha = 0.5;
* a loop of ``scalelaw.engine.fit`` per group (timed on ``--single-sample`` groups, scaled up);
* ``scalelaw.fit(law, table, by="group")``: every group in one batched run, with the default
  ``polish=64`` (every one of the 9 default starts of a group polished) and with ``polish=3``.

Then the bootstrap: ``--bootstrap-groups`` groups with ``--replicates`` replicates each, on a
``distributed.LocalCluster(2)`` against one process.

    .venv/bin/python benchmarks/bench_groups.py [--groups 1000,10000] [--replicates 200]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from scalelaw import engine, fit, get_law

LAW = get_law("saturating_power_law")


def make_groups(count: int, seed: int = 0) -> pd.DataFrame:
    """``count`` error curves of 8-20 points within the ObsScaling ranges, one table."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 21, size=count)
    E = rng.uniform(0.05, 0.6, size=count)
    A = rng.uniform(0.05, 0.4, size=count)
    alpha = rng.uniform(0.1, 0.8, size=count)
    rows = []
    for g, n in enumerate(sizes):
        x = np.sort(10 ** rng.uniform(-1, 4, size=n))
        y = (E[g] + A[g] * x ** -alpha[g]) * np.exp(rng.normal(0, 0.02, size=n))
        rows.append(pd.DataFrame({"group": f"task{g:06d}", "x": x, "loss": y}))
    return pd.concat(rows, ignore_index=True)


def _log_model(x, E, A, alpha):
    return np.log(E + A * x ** -alpha)


def objective(x, y, params) -> float:
    r = np.log(y) - _log_model(x, *params)
    return float(np.sum(r * r))


def loop_curve_fit(parts) -> tuple[float, dict]:
    out = {}
    clock = time.perf_counter()
    for name, x, y in parts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p, _ = curve_fit(_log_model, x, np.log(y), p0=[y.min() / 2, y.max(), 0.5],
                                 bounds=([1e-12, 1e-12, 0.0], [np.inf, np.inf, 10.0]), maxfev=2000)
            out[name] = objective(x, y, p)
        except (RuntimeError, ValueError):
            out[name] = np.inf
    return time.perf_counter() - clock, out


def loop_scalelaw(table: pd.DataFrame, names) -> tuple[float, dict]:
    out = {}
    clock = time.perf_counter()
    for name, rows in table[table["group"].isin(names)].groupby("group", sort=False):
        out[name] = engine.fit(LAW, rows, loss="squared").diagnostics["objective"]
    return time.perf_counter() - clock, out


def fails(got: dict, reference: dict) -> int:
    return sum(1 for k, ref in reference.items()
               if not np.isfinite(got.get(k, np.inf)) or got[k] > ref * (1 + 1e-6) + 1e-12)


def compare(count: int, single_sample: int) -> None:
    table = make_groups(count)
    parts = [(name, rows["x"].to_numpy(), rows["loss"].to_numpy())
             for name, rows in table.groupby("group", sort=False)]
    clock = time.perf_counter()
    batched = fit(LAW, table, by="group", loss="squared")
    t_batch = time.perf_counter() - clock
    ours = {k: f.diagnostics["objective"] for k, f in batched.items()}
    clock = time.perf_counter()
    few = fit(LAW, table, by="group", loss="squared", polish=3)
    t_few = time.perf_counter() - clock
    ours_few = {k: f.diagnostics["objective"] for k, f in few.items()}
    t_cf, cf = loop_curve_fit(parts)
    sample = [name for name, _, _ in parts[:single_sample]]
    t_single, single = loop_scalelaw(table, sample)
    t_single_all = t_single * count / len(sample)
    best_other = {k: min(cf[k], single.get(k, np.inf)) for k in ours}
    print(f"{count} groups ({len(table)} points):")
    print(f"  scalelaw by= batched   {t_batch:8.2f} s   fails {fails(ours, best_other)}")
    print(f"  same, polish=3         {t_few:8.2f} s   fails {fails(ours_few, best_other)}"
          f"   ratio to curve_fit {t_cf / t_few:6.1f}x")
    print(f"  curve_fit loop         {t_cf:8.2f} s   fails {fails(cf, ours)}   ratio {t_cf / t_batch:6.1f}x")
    print(f"  scalelaw single loop   {t_single_all:8.2f} s   fails {fails(single, {k: ours[k] for k in sample})}"
          f" (of {len(sample)})   ratio {t_single_all / t_batch:6.1f}x"
          + ("" if len(sample) == count else f"   (timed on {len(sample)} groups, scaled)"))
    not_converged = sum(1 for f in batched.values() if not f.diagnostics["converged"])
    print(f"  batched groups not converged: {not_converged}")


def bootstrap(count: int, replicates: int) -> None:
    import dask
    import distributed

    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic
    # mmap threshold: every large temporary of the batch is then mapped and page-faulted anew, and a
    # task runs about 2.5x slower.  The workers here start without it (see docs/scaling.md).
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    dask.config.set({"distributed.nanny.pre-spawn-environ": environ})
    table = make_groups(count, seed=1)
    clock = time.perf_counter()
    local = fit(LAW, table, by="group", loss="squared", bootstrap=replicates, jobs=1)
    t_local = time.perf_counter() - clock
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                      dashboard_address=None) as cluster:
            clock = time.perf_counter()
            remote = fit(LAW, table, by="group", loss="squared", bootstrap=replicates, jobs=1,
                         backend="dask", scheduler=cluster.scheduler_address)
            t_dask = time.perf_counter() - clock
    same = all(np.array_equal(local[k].bootstrap, remote[k].bootstrap, equal_nan=True) for k in local)
    print(f"bootstrap: {count} groups x {replicates} replicates ({count * replicates} fits):")
    print(f"  one process {t_local:.1f} s, LocalCluster(2) {t_dask:.1f} s, ratio {t_local / t_dask:.2f}x; "
          f"identical draws: {same}; {count * replicates / t_local:.0f} replicate fits/s in one process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="1000,10000")
    parser.add_argument("--single-sample", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--bootstrap-groups", type=int, default=10_000)
    args = parser.parse_args()
    for count in (int(c) for c in args.groups.split(",") if c):
        compare(count, args.single_sample)
    if args.replicates:
        bootstrap(args.bootstrap_groups, args.replicates)


if __name__ == "__main__":
    main()
