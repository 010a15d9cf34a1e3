"""Whether mixtures lie inside the convex hull of the mixtures a law was fitted on.

A mixing law fitted on some mixtures is an interpolation inside their convex hull and an
extrapolation outside it, even where every single share lies within its fitted range.  A point q
is inside the hull of the rows p_i when some weights w_i >= 0 with sum 1 give sum_i w_i p_i = q: a
linear feasibility problem, solved by scipy's HiGHS.

Examples
--------
>>> corners = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
>>> outside(corners, [[0.25, 0.75], [0.8, 0.3]]).tolist()
[False, True]
"""

from __future__ import annotations

import numpy as np


def outside(points, queries) -> np.ndarray:
    """For each row of ``queries``, whether it lies outside the convex hull of the rows of ``points``."""
    from scipy.optimize import linprog

    P = np.atleast_2d(np.asarray(points, dtype=float))
    Q = np.atleast_2d(np.asarray(queries, dtype=float))
    low, high = P.min(axis=0), P.max(axis=0)
    A = np.vstack([P.T, np.ones(len(P))])
    result = np.zeros(len(Q), dtype=bool)
    for i, q in enumerate(Q):
        if np.any(q < low - 1e-9) or np.any(q > high + 1e-9):  # beyond a share's range: outside at once
            result[i] = True
            continue
        solved = linprog(np.zeros(len(P)), A_eq=A, b_eq=np.append(q, 1.0), bounds=(0, None), method="highs")
        result[i] = solved.status != 0
    return result


def warnings(fit, mixtures, *, what: str = "mixtures") -> tuple[str, ...]:
    """A warning when some of ``mixtures`` (rows of shares, in the law's domain order) lie outside the
    hull of the mixtures ``fit`` was fitted on (``fit.data["mixtures"]``; none when it was not kept)."""
    fitted = fit.data.get("mixtures")
    if not fitted:
        return ()
    away = outside(fitted, mixtures)
    if not away.any():
        return ()
    count = f"{int(away.sum())} of {away.size} {what}" if away.size > 1 else f"the {what.rstrip('s')}"
    return (f"{count} lie outside the convex hull of the {len(fitted)} mixtures the law was fitted on: "
            "the law extrapolates there even where each share is within its fitted range",)
