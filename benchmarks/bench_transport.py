"""Benchmark of the transport family: exact OT against Sinkhorn, and the stage-1 fit over 66
mixtures with weights p_i / n_i against naive resampling (projektor's way).

1. OT between two sets of 2,000 points in 64 dimensions: exact (``ot.emd``) and entropic
   (log-domain Sinkhorn, epsilon = 0.05 x mean cost), through ``distance.distance``.
2. projektor's stage 1 over the 66 mixtures of three sources (step 0.1) at two pilot sizes:
   * ours: the pooled revealed samples get weights p_i / n_i; the ground cost (features plus the
     label term) is computed once, and each mixture costs one OT solve shared by both sizes;
   * naive: for every size and mixture, draw round(p_i N) samples from the sources, rebuild the
     cost matrix and the label-to-label distances (as OTDD does per data set), solve.
   Both then fit stage 1 by the engine.  The resampling also makes the naive OT noisy: its
   spread over redraws of one mixture is printed beside the spread of OT across mixtures.

Run: python benchmarks/bench_transport.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from scalelaw.families.transport import demo
from scalelaw.families.transport.distance import MixtureTransport, Samples, distance
from scalelaw.families.transport.projection import fit_projector, prepare_pilots


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def clouds(rng, n: int, shift: float, name: str, classes: int = 10) -> Samples:
    centres = np.random.default_rng(99).normal(scale=3.0, size=(classes, 64))
    y = rng.integers(0, classes, n)
    return Samples(centres[y] + rng.normal(size=(n, 64)) + shift, y, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    # ---- 1. exact vs Sinkhorn, 2,000 x 2,000 points in 64-d
    a, b = Samples(rng.normal(size=(2000, 64))), Samples(rng.normal(size=(2000, 64)) + 0.3)
    t_exact, exact = timed(lambda: distance(a, b, method="exact"), args.repeats)
    t_sink, sink = timed(lambda: distance(a, b, method="sinkhorn", reg=0.05), args.repeats)
    print("OT between two 2,000-point sets of 64-d features")
    print(f"  exact (ot.emd)          median {t_exact:8.3f} s   cost {exact.cost:.4f}")
    print(f"  Sinkhorn (eps=0.05 mean) median {t_sink:8.3f} s   cost {sink.cost:.4f}")
    print(f"  ratio exact / Sinkhorn: {t_exact / t_sink:.2f}")

    # ---- 2. stage 1 over 66 mixtures: weights vs naive resampling
    sources = [clouds(rng, 400, 0.5 * i, f"s{i}") for i in range(3)]
    target = clouds(rng, 800, 0.5, "target")
    sizes = (400, 600)  # N0 and N1 = 1.5 N0, as projektor
    ratios = demo.simplex_grid(3, 0.1)
    metric = {s: rng.uniform(0.5, 0.9, len(ratios)) for s in sizes}  # pilot results (timing only)

    def table(ot_by_size) -> pd.DataFrame:
        rows = [
            {"size": s, "s0": p[0], "s1": p[1], "s2": p[2], "accuracy": metric[s][k], "ot": ot_by_size[s][k]}
            for s in sizes
            for k, p in enumerate(ratios)
        ]
        return pd.DataFrame(rows)

    def ours():
        transport = MixtureTransport(sources, target, method="exact")
        pilots = prepare_pilots(table({s: np.zeros(len(ratios)) for s in sizes}), ["s0", "s1", "s2"])
        return fit_projector(pilots, transport)

    def naive_ot(seed: int):
        draw = np.random.default_rng(seed)
        out = {}
        for size in sizes:
            values = []
            for p in ratios:
                picks = [
                    draw.choice(s.n, k, replace=k > s.n)
                    for s, k in zip(sources, demo.counts(p, size), strict=True)
                ]
                parts = [s.features[i] for s, i in zip(sources, picks, strict=True)]
                labels = [s.labels[i] for s, i in zip(sources, picks, strict=True)]
                mixture = Samples(np.vstack(parts), np.concatenate(labels))
                values.append(distance(mixture, target, method="exact").cost)
            out[size] = np.array(values)
        return out

    def naive():
        from scalelaw import engine
        from scalelaw.families.transport.projection import stage1_law

        ots = naive_ot(1)
        frame = table(ots)
        law = stage1_law(["s0", "s1", "s2"], "accuracy")
        return [engine.fit(law, frame[frame["size"] == s], loss="squared", polish=1) for s in sizes], ots

    stage_repeats = max(1, args.repeats // 3)
    t_ours, projector = timed(ours, stage_repeats)
    t_naive, (_, ots) = timed(naive, stage_repeats)
    redraws = np.array([naive_ot(seed)[sizes[0]][33] for seed in range(2, 5)])
    print(
        f"\nprojektor stage 1 over {len(ratios)} mixtures x {len(sizes)} sizes (3 sources of 400 revealed "
        "samples, 64-d, 10 classes; target 800)"
    )
    print(f"  ours (weights p_i/n_i, one cost matrix, one OT per mixture) median {t_ours:8.3f} s")
    print(f"  naive resampling (redraw, rebuild cost and label distances)   median {t_naive:8.3f} s")
    print(f"  ratio naive / ours: {t_naive / t_ours:.2f}")
    spread = float(np.std(projector.pilots.loc[projector.pilots["size"] == sizes[0], "ot"]))
    print(
        f"  OT spread across mixtures {spread:.3f}; naive OT of one mixture over 3 redraws "
        f"{redraws.round(3).tolist()} (std {redraws.std():.3f}); ours has no redraw noise"
    )


if __name__ == "__main__":
    main()
