"""The plateau: how far lr and batch size can move before the loss rises by a tolerance.

Per (N, D) group of a sweep, the relative excess loss of the runs within ``window`` (3%) of the
group minimum is fitted by the engine with a convex quadratic surface in u = ln(lr / lr_best) and
v = ln(B / B_best)::

    excess = h + g_u u + g_v v + H_uu u^2 / 2 + H_uv u v + H_vv v^2 / 2

A group whose surface is not convex (H not positive definite) or that has too few distinct
settings is skipped, with the reason.  Between groups the curvature is interpolated in (ln N, ln D)
by inverse-distance weighting of ln H_uu, ln H_vv and atanh of the correlation
H_uv / sqrt(H_uu H_vv), which keeps every interpolated surface convex.

From the curvature at the target (N, D):

* the lr range at the recommended batch size within which the surface rises by less than a
  tolerance t (a fraction of the loss) is lr* exp(+-sqrt(2 t / H_uu)), and the batch range at the
  recommended lr is B* exp(+-sqrt(2 t / H_vv)) (one at a time);
* the box in which both can move at once and stay within t has the same proportions shrunk by
  1 / sqrt(2 (1 + |rho|)), rho = H_uv / sqrt(H_uu H_vv): its worst corner is on the contour;
* the lr to use at another batch size B follows the ridge: ln lr = ln lr* + s ln(B / B*), with the
  slope s = -H_uv / H_uu, and costs (H_vv - H_uv^2 / H_uu) ln(B / B*)^2 / 2 in relative loss.

Examples
--------
>>> p = Plateau(pd.DataFrame([{"group": "g", "params": 1e8, "tokens": 1e10, "H_uu": 0.02,
...                            "H_uv": -0.008, "H_vv": 0.02}]), window=0.03)
>>> lo, hi = p.ranges(1e-3, 1e6, 1e8, 1e10, 0.0025)["lr"]
>>> f"{hi / lo:.4f}"   # exp(2 sqrt(2 * 0.0025 / 0.02)) = e
'2.7183'
>>> round(p.ridge_slope(1e8, 1e10), 3)
0.4
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw.catalogue.hyperparams import SURFACE

#: Tolerances (fractions of the loss) reported by default: 0.25% and 1%.
TOLERANCES = (0.0025, 0.01)
_MIN_POINTS = 6


def fit_surface(rows: pd.DataFrame, lr_best: float, batch_best: float) -> dict | str:
    """Fit :data:`SURFACE` to one group's runs (``lr``, ``batch_size``, ``excess``).

    Returns the surface (curvatures, vertex, fit error) or the reason it cannot be used.
    """
    if len(rows) < _MIN_POINTS or rows["lr"].nunique() < 3 or rows["batch_size"].nunique() < 3:
        return (
            f"{len(rows)} runs with {rows['lr'].nunique()} learning rates and "
            f"{rows['batch_size'].nunique()} batch sizes (needs {_MIN_POINTS}, 3 and 3)"
        )
    table = pd.DataFrame(
        {
            "u": np.log(rows["lr"].to_numpy(dtype=float) / lr_best),
            "v": np.log(rows["batch_size"].to_numpy(dtype=float) / batch_best),
            "excess": rows["excess"].to_numpy(dtype=float),
        }
    )
    fit = engine.fit(SURFACE, table, loss="squared", polish=1)
    p = fit.params
    H = np.array([[p["H_uu"], p["H_uv"]], [p["H_uv"], p["H_vv"]]])
    if not (H[0, 0] > 0 and np.linalg.det(H) > 0):
        return "the fitted surface is not convex"
    z = -np.linalg.solve(H, [p["g_u"], p["g_v"]])
    inside = bool(
        table["u"].min() <= z[0] <= table["u"].max() and table["v"].min() <= z[1] <= table["v"].max()
    )
    return {
        "points": int(len(rows)),
        "H_uu": float(H[0, 0]),
        "H_uv": float(H[0, 1]),
        "H_vv": float(H[1, 1]),
        "lr_vertex": float(lr_best * np.exp(z[0])),
        "batch_vertex": float(batch_best * np.exp(z[1])),
        "excess_vertex": float(p["h"] + 0.5 * (p["g_u"] * z[0] + p["g_v"] * z[1])),
        "rmse": float(fit.metrics["rmse"]),
        "vertex_inside": inside,
    }


@protocol.value_kind("hyperparams.plateau")
@dataclass(frozen=True)
class Plateau:
    """Per-group loss surfaces of a sweep and their interpolation in (N, D).

    Attributes
    ----------
    surfaces
        One row per group: ``group``, ``params``, ``tokens``, ``H_uu``, ``H_uv``, ``H_vv``
        (curvatures of the relative excess loss in ln lr and ln B) and, when fitted,
        ``points``, ``lr_vertex``, ``batch_vertex``, ``excess_vertex``, ``rmse``,
        ``vertex_inside``.
    window
        Runs within this fraction of the group minimum were fitted.
    skipped
        Groups without a usable surface, with the reason.
    """

    surfaces: pd.DataFrame
    window: float
    skipped: tuple[str, ...] = ()
    #: how :meth:`to_dict` stores it (checked when an artifact is loaded)
    STORED: ClassVar[dict] = {"window": float, "surfaces": list[Mapping[str, float | str | bool | None]],
                              "skipped": tuple[str, ...]}

    def curvature(self, params: float, tokens: float) -> np.ndarray:
        """H (2 x 2) at (N, D): inverse-distance weighting in standardised (ln N, ln D)."""
        s = self.surfaces
        xy = np.column_stack([np.log(s["params"].to_numpy(float)), np.log(s["tokens"].to_numpy(float))])
        scale = xy.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        d2 = np.sum(((xy - [np.log(params), np.log(tokens)]) / scale) ** 2, axis=1)
        huu, hvv = s["H_uu"].to_numpy(float), s["H_vv"].to_numpy(float)
        rho = np.clip(s["H_uv"].to_numpy(float) / np.sqrt(huu * hvv), -0.999999, 0.999999)
        q = np.column_stack([np.log(huu), np.log(hvv), np.arctanh(rho)])
        if np.min(d2) < 1e-12:
            mean = q[int(np.argmin(d2))]
        else:
            w = 1.0 / d2
            mean = w @ q / w.sum()
        a, b, r = np.exp(mean[0]), np.exp(mean[1]), np.tanh(mean[2])
        return np.array([[a, r * np.sqrt(a * b)], [r * np.sqrt(a * b), b]])

    def ranges(
        self, lr: float, batch: float, params: float, tokens: float, tolerance: float
    ) -> dict[str, tuple[float, float]]:
        """lr range at ``batch`` and batch range (tokens) at ``lr`` keeping the excess < tolerance."""
        H = self.curvature(params, tokens)
        wu, wv = np.sqrt(2 * tolerance / H[0, 0]), np.sqrt(2 * tolerance / H[1, 1])
        return {
            "lr": (float(lr * np.exp(-wu)), float(lr * np.exp(wu))),
            "batch_size": (float(batch * np.exp(-wv)), float(batch * np.exp(wv))),
        }

    def box(
        self, lr: float, batch: float, params: float, tokens: float, tolerance: float
    ) -> dict[str, tuple[float, float]]:
        """An lr x batch box (tokens) inside which every point keeps the excess <= tolerance.

        The box has the proportions of :meth:`ranges`, shrunk by 1 / sqrt(2 (1 + |rho|)), rho =
        H_uv / sqrt(H_uu H_vv), so that its worst corner lies on the tolerance contour.
        """
        H = self.curvature(params, tokens)
        rho = abs(H[0, 1]) / np.sqrt(H[0, 0] * H[1, 1])
        shrink = 1.0 / np.sqrt(2.0 * (1.0 + rho))
        wu = shrink * np.sqrt(2 * tolerance / H[0, 0])
        wv = shrink * np.sqrt(2 * tolerance / H[1, 1])
        return {
            "lr": (float(lr * np.exp(-wu)), float(lr * np.exp(wu))),
            "batch_size": (float(batch * np.exp(-wv)), float(batch * np.exp(wv))),
        }

    def ridge_slope(self, params: float, tokens: float) -> float:
        """d ln lr* / d ln B along the valley of the loss surface at (N, D)."""
        H = self.curvature(params, tokens)
        return float(-H[0, 1] / H[0, 0])

    def at_batch(
        self, lr: float, batch: float, new_batch: float, params: float, tokens: float
    ) -> tuple[float, float]:
        """The lr to use at ``new_batch`` (tokens) and the relative loss that batch size costs."""
        H = self.curvature(params, tokens)
        v = np.log(new_batch / batch)
        slope = -H[0, 1] / H[0, 0]
        cost = 0.5 * (H[1, 1] - H[0, 1] ** 2 / H[0, 0]) * v * v
        return float(lr * np.exp(slope * v)), float(cost)

    def to_dict(self) -> dict:
        return {
            "window": self.window,
            "surfaces": self.surfaces.to_dict(orient="records"),
            "skipped": list(self.skipped),
        }

    @staticmethod
    def check_stored(value: Mapping, path: str) -> None:
        """Refuse stored surfaces whose sizes or curvatures are not positive numbers (they are taken logs of)."""
        from scalelaw import schema

        for j, row in enumerate(value.get("surfaces") or []):
            for column in ("params", "tokens", "H_uu", "H_vv"):
                if column in row:
                    schema.number(row[column], f"{path}.surfaces[{j}].{column}", positive=True)

    @classmethod
    def from_dict(cls, d: Mapping) -> Plateau:
        return cls(pd.DataFrame(d["surfaces"]), float(d["window"]), tuple(d.get("skipped", ())))


def fit_plateau(runs: pd.DataFrame, groups: pd.DataFrame, *, window: float = 0.03) -> Plateau | None:
    """Fit one surface per group (``groups`` as :class:`~.sweep.Sweep` gives them).

    Returns None when no group gives a convex surface.
    """
    rows, skipped = [], []
    for g in groups.itertuples():
        near = runs[(runs["group"] == g.group) & ~runs["diverged"] & (runs["excess"] <= window)]
        surface = fit_surface(near, g.lr_best, g.batch_best)
        if isinstance(surface, str):
            skipped.append(f"{g.group}: {surface}")
            continue
        rows.append({"group": g.group, "params": g.params, "tokens": g.tokens} | surface)
    if not rows:
        return None
    return Plateau(pd.DataFrame(rows), float(window), tuple(skipped))
