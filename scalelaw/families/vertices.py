"""How uncertain each isoFLOP vertex is: the parabolas refitted to points resampled within each budget.

Approach 2 fits loss = c0 + c1 x + c2 x^2 (x = ln N) per FLOPs budget and takes the vertex
x_opt = -c1 / (2 c2).  A replicate draws the runs of every budget again with replacement (multinomial
counts, one seed for all budgets) and refits each parabola by weighted least squares, so a flat
parabola (small curvature c2) or a scattered one moves its vertex far and a sharp one little.  The
replicate vertices are the bootstrap targets of the power law N_opt = k C^a (see
:func:`scalelaw.families.loss.isoflop` with ``resample="points"``).

Examples
--------
>>> import numpy as np
>>> x = np.log([1e8, 2e8, 4e8, 8e8, 16e8])
>>> y = 2 + 0.05 * (x - np.log(4e8)) ** 2 + np.array([0.003, -0.002, 0.001, -0.003, 0.002])
>>> reps = replicate_vertices([(x, y)], replicates=200, seed=0)
>>> reps.shape, float(np.isfinite(reps).mean())  # resamples with fewer than 3 sizes are NaN
((200, 1), 0.92)
>>> [round(float(v), 2) for v in np.exp(np.nanpercentile(reps, [2.5, 97.5])) / 4e8]  # N_opt / 4e8
[0.92, 1.07]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def parabolas(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares (c0, c1, c2) of y = c0 + c1 x + c2 x^2 for each row of ``weights`` (B, m);
    rows whose weights leave fewer than 3 distinct x are NaN."""
    X = np.column_stack([np.ones_like(x), x, x * x])
    normal = np.einsum("bm,mi,mj->bij", weights, X, X)
    rhs = np.einsum("bm,mi,m->bi", weights, X, y)
    distinct = np.array([np.unique(x[w > 0]).size for w in weights])
    out = np.full((len(weights), 3), np.nan)
    ok = distinct >= 3
    if ok.any():
        out[ok] = np.linalg.solve(normal[ok], rhs[ok][..., None])[..., 0]
    return out


def replicate_vertices(budgets: Sequence[tuple[np.ndarray, np.ndarray]], *, replicates: int,
                       seed: int) -> np.ndarray:
    """Vertex ln N_opt of every budget ((x = ln N, loss) per budget) in each of ``replicates``
    resamples of the points within budgets: shape (replicates, budgets); NaN where a resampled
    parabola is not convex or has fewer than 3 model sizes."""
    rng = np.random.default_rng(seed)
    out = np.empty((replicates, len(budgets)))
    for j, (x, y) in enumerate(budgets):
        counts = rng.multinomial(len(x), np.full(len(x), 1.0 / len(x)), size=replicates).astype(float)
        c = parabolas(np.asarray(x, dtype=float), np.asarray(y, dtype=float), counts)
        with np.errstate(all="ignore"):
            out[:, j] = np.where(c[:, 2] > 0, -c[:, 1] / (2 * c[:, 2]), np.nan)
    return out
