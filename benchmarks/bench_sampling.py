"""Benchmark of the sampling family.

1. pass@k for 10,000 problems with n = 10,000 samples each, at every k from 1 to 10,000 (the
   coverage curve, mean over problems): scalelaw's vectorised estimator against the reference
   per-problem loop of Chen et al.'s estimator (human-eval's ``estimate_pass_at_k``: one
   ``1 - prod(1 - k / arange(n - c + 1, n + 1))`` per problem and k).  The loop would need about
   10^8 calls, so it is timed on a stratified sample of k (every 500th k plus the ends) and
   scaled to all 10,000 k; the values at those k are compared with ours (per problem and mean).
2. The scaled Beta-binomial maximum likelihood of one model (36 starting points): one batched
   BFGS run (scalelaw.optimize.bfgs) against a loop of scipy L-BFGS-B runs, one per start, on
   the same objective.

Run: .venv/bin/python benchmarks/bench_sampling.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize as sciopt

from scalelaw.families import sampling
from scalelaw.families.sampling import distributional

ROOT = Path(__file__).resolve().parents[1]


def reference_estimator(n: int, c: int, k: int) -> float:
    """Chen et al. (2021), as in human-eval's evaluation.py."""
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def bench_passk() -> bool:
    P, N = 10_000, 10_000
    rng = np.random.default_rng(0)
    c = rng.binomial(N, 0.5 * rng.beta(0.2, 2.0, P))  # many hard problems, a few easy ones
    n = np.full(P, N)
    ks = np.arange(1, N + 1)
    ours_times = []
    for _ in range(5):
        start = time.perf_counter()
        curve = sampling.coverage(n, c, ks)
        ours_times.append(time.perf_counter() - start)
    sample_k = np.unique(np.concatenate([[1, 2, 10], np.arange(500, N + 1, 500)]))
    totals, reference = [], None
    for _ in range(3):
        per_k = []
        values = np.empty((P, sample_k.size))
        for j, k in enumerate(sample_k):
            start = time.perf_counter()
            values[:, j] = [reference_estimator(N, int(ci), int(k)) for ci in c]
            per_k.append(time.perf_counter() - start)
        totals.append(float(np.mean(per_k)) * N)
        reference = values
    per_problem = sampling.pass_at_k(n, c, sample_k)
    err_problem = float(np.max(np.abs(per_problem - reference)))
    err_mean = float(np.max(np.abs(curve[sample_k - 1] - reference.mean(axis=0))))
    ours, plain = statistics.median(ours_times), statistics.median(totals)
    print(f"pass@k, {P:,} problems x n = {N:,}, every k = 1..{N:,} ({len(np.unique(c)):,} distinct counts)")
    print(f"  scalelaw coverage curve     median {ours:8.3f} s  (5 runs)")
    print(f"  per-problem reference loop  median {plain:8.1f} s  (timed at {sample_k.size} k, scaled to "
          f"{N:,} k; 3 runs)")
    print(f"  ratio {plain / ours:,.0f}x;  max |difference|: per problem {err_problem:.1e}, "
          f"mean over problems {err_mean:.1e}")
    distinct = rng.permutation(N)  # every problem a different count: no sharing between problems
    worst = []
    for _ in range(5):
        start = time.perf_counter()
        sampling.coverage(n, distinct, ks)
        worst.append(time.perf_counter() - start)
    print(f"  scalelaw, all {N:,} counts distinct  median {statistics.median(worst):8.3f} s  (5 runs)")
    ok = max(ours, statistics.median(worst)) < 1.0 and err_problem <= 1e-12 and err_mean <= 1e-12
    verdict = "OK: under 1 s and equal to 1e-12" if ok else "FAILED: slower than 1 s or differs by > 1e-12"
    print(f"  {verdict}")
    return ok


def bench_beta_binomial() -> bool:
    tidy, _ = sampling.read_counts(ROOT / "data" / "sampling" / "llmonkeys_pythia_math_per_problem.csv")
    part = tidy[tidy["model"] == "Pythia 12B"]
    n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
    n_u, c_u, inverse = distributional._pairs(n, c)
    counts = np.bincount(inverse).astype(float)
    quad = distributional.Quadrature.build(n_u, c_u, distributional.fixed_scale(n, c))
    grid = np.log([(a, b) for a in distributional._ALPHA_STARTS for b in distributional._BETA_STARTS])
    objective = distributional._objective([quad], np.zeros(len(grid), dtype=int),
                                          np.broadcast_to(counts, (len(grid), counts.size)))
    bounds = [tuple(np.log(distributional._BOUNDS))] * 2

    def batched():
        return distributional._solve([quad], np.zeros(len(grid), dtype=int),
                                     np.broadcast_to(counts, (len(grid), counts.size)), grid.copy())

    def loop():
        out = []
        for i, x0 in enumerate(grid):
            def one(x, i=i):
                f, g = objective(np.atleast_2d(x), np.array([i]))
                return float(f[0]), g[0]
            out.append(sciopt.minimize(one, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                       options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1000}))
        return out

    t_batch, t_loop = [], []
    for _ in range(3):
        start = time.perf_counter()
        result = batched()
        t_batch.append(time.perf_counter() - start)
        start = time.perf_counter()
        loops = loop()
        t_loop.append(time.perf_counter() - start)
    best_batch = float(np.min(result.fun))
    best_loop = min(r.fun for r in loops)
    ours, plain = statistics.median(t_batch), statistics.median(t_loop)
    print(f"scaled Beta-binomial MLE, Pythia 12B (128 problems), {len(grid)} starting points")
    print(f"  batched BFGS (all starts at once)   median {ours:7.3f} s  (3 runs)")
    print(f"  scipy L-BFGS-B, one run per start   median {plain:7.3f} s  (3 runs)")
    print(f"  ratio {plain / ours:.1f}x;  best NLL {best_batch:.6f} vs {best_loop:.6f}")
    return best_batch <= best_loop + 1e-6


if __name__ == "__main__":
    ok = bench_passk()
    print()
    ok = bench_beta_binomial() and ok
    sys.exit(0 if ok else 1)
