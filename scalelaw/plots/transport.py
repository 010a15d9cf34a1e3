"""Figures of the transport family: projections over the simplex, the selection path, mixing laws.

Each function draws on ``ax`` (None: a new figure) and returns the Figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scalelaw.plots.common import AxesLike, panels


def _ternary(ratios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of the 3-simplex in the plane: vertex 1 at (0, 0), 2 at (1, 0), 3 at (1/2, sqrt(3)/2)."""
    r = np.atleast_2d(ratios)
    return r[:, 1] + 0.5 * r[:, 2], r[:, 2] * np.sqrt(3) / 2


def _triangle(ax, names: Sequence[str]) -> None:
    ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], color="0.5", lw=0.8)
    for (x, y), name, ha in zip(
        ((0, 0), (1, 0), (0.5, np.sqrt(3) / 2)), names, ("left", "right", "center"), strict=True
    ):
        ax.annotate(
            name, (x, y), xytext=(0, -12 if y == 0 else 6), textcoords="offset points", ha=ha, fontsize=8
        )
    ax.set_aspect("equal")
    ax.axis("off")


def projection_simplex(
    comparison: pd.DataFrame,
    names: Sequence[str],
    size: float,
    *,
    mapping: str = "power_law",
    metric: str = "accuracy",
    ax: AxesLike = None,
) -> Figure:
    """Actual and projected metric at ``size`` over the simplex (three sources), and their scatter.

    ``comparison`` has the ratio columns ``names``, ``actual`` and the projection columns
    (``log_mapping``, ``power_law``).
    """
    fig, axes = panels(ax, 3, figsize=(14, 4.4), wspace=0.45)
    ratios = comparison[list(names)].to_numpy(dtype=float)
    x, y = _ternary(ratios)
    columns = ["actual", mapping]
    values = comparison[columns].to_numpy(dtype=float)
    lo, hi = np.nanmin(values), np.nanmax(values)
    for ax, column, title in zip(
        axes[:2],
        columns,
        (f"actual {metric} at N = {size:g}", f"projected ({mapping.replace('_', ' ')})"),
        strict=True,
    ):
        _triangle(ax, names)
        points = ax.scatter(
            x, y, c=comparison[column], cmap="viridis", vmin=lo, vmax=hi, s=90, edgecolor="k", lw=0.3
        )
        ax.set_title(title, fontsize=10, pad=18)
    fig.colorbar(points, ax=axes[:2], shrink=0.8, label=metric)
    ax = axes[2]
    for column, marker in (("log_mapping", "s"), ("power_law", "o")):
        if column in comparison and comparison[column].notna().all():
            ax.scatter(
                comparison["actual"], comparison[column], marker=marker, s=24, label=column.replace("_", " ")
            )
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel(f"actual {metric}")
    ax.set_ylabel(f"projected {metric}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("projected vs actual", fontsize=10)
    return fig


def selection_path(path, names: Sequence[str], *, pilots: np.ndarray | None = None, metric: str = "metric",
                   ax: AxesLike = None) -> Figure:
    """The iterates of the selection on the simplex (three sources) and the objective per step."""
    fig, (left, right) = panels(ax, 2, figsize=(10, 4.2))
    ratios = np.asarray(path.ratios)
    if ratios.shape[1] == 3:
        _triangle(left, names)
        if pilots is not None:
            px, py = _ternary(pilots)
            left.scatter(px, py, s=8, color="0.7", label="pilot mixtures")
        x, y = _ternary(ratios)
        left.plot(x, y, "-o", ms=3, color="tab:red", label="selection path")
        left.scatter(x[-1:], y[-1:], marker="*", s=160, color="tab:red", zorder=4)
        left.legend(fontsize=8, loc="upper right")
    else:
        for j, name in enumerate(names):
            left.plot(ratios[:, j], label=name)
        left.set_xlabel("step")
        left.set_ylabel("share")
        left.legend(fontsize=7)
    right.plot(np.arange(len(path.values)), path.values, "-o", ms=3)
    right.set_xlabel("accepted step")
    right.set_ylabel(f"projected {metric}")
    right.grid(alpha=0.3)
    return fig


def mixing_predictions(evaluations: Mapping[str, Mapping[str, object]], *, target: str = "loss",
                       ax: AxesLike = None) -> Figure:
    """Predicted against actual loss on held-out mixtures, one panel per evaluation set.

    ``evaluations`` maps a label (e.g. "1M") to a mapping with ``predicted``, ``actual`` and
    ``spearman`` (as returned by :func:`scalelaw.families.transport.mixing.evaluate`), optionally per
    law: ``{label: {law: evaluation}}``.
    """
    fig, axes = panels(ax, len(evaluations), figsize=(4.2 * len(evaluations), 4))
    for ax, (label, result) in zip(axes, evaluations.items(), strict=True):
        by_law = result if "predicted" not in result else {result.get("law", "fit"): result}
        for law, ev in by_law.items():
            ax.scatter(
                ev["actual"], ev["predicted"], s=10, alpha=0.7, label=f"{law} (Spearman {ev['spearman']:.3f})"
            )
        every = np.concatenate([np.ravel(ev["actual"]) for ev in by_law.values()])
        ax.set_xlabel(f"actual {target}")
        ax.set_title(str(label), fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_xlim(every.min() - 0.02 * np.ptp(every), every.max() + 0.02 * np.ptp(every))
    axes[0].set_ylabel(f"predicted {target}")
    return fig


def potentials(distance, *, ax: AxesLike = None) -> Figure:
    """Histograms of the dual potentials f (first set) and g (second set), in cost units: a sample
    with a large potential is far, in transport cost, from the other set."""
    fig, (ax,) = panels(ax, figsize=(6.5, 4.2))
    for values, label in ((distance.f, f"f: first set ({distance.n_a} samples)"),
                          (distance.g, f"g: second set ({distance.n_b} samples)")):
        ax.hist(np.asarray(values, dtype=float), bins=30, alpha=0.6, label=label)
    ax.set_xlabel("dual potential (cost units)")
    ax.set_ylabel("samples")
    ax.set_title(f"{distance.method} OT: cost {distance.cost:.4g}, distance {distance.distance:.4g}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def projection_curve(projection, *, ax: AxesLike = None) -> Figure:
    """The stage-1 metric at the pilot sizes and both stage-2 maps from there to the target size."""
    fig, (ax,) = panels(ax, figsize=(6.5, 4.2))
    sizes = np.asarray(projection.sizes, dtype=float)
    grid = np.geomspace(sizes.min(), max(projection.size, sizes.max()) * 1.2, 120)
    ax.scatter(sizes, projection.at_sizes, color="black", zorder=3, label="stage 1 at the pilot sizes")
    ax.plot(grid, projection.along(grid, "log"), "--", label="log mapping")
    if projection.alpha is not None:
        ax.plot(grid, projection.along(grid, "power"), label=f"power law (alpha = {projection.alpha:.3g})")
    ax.scatter([projection.size], [projection.projected], marker="*", s=160, color="tab:red", zorder=4,
               label=f"projected at N = {projection.size:g}")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size N (samples)")
    ax.set_ylabel(projection.metric)
    shares = ", ".join(f"{v:.3g}" for v in projection.ratio)
    ax.set_title(f"mixture ({shares}), OT {projection.ot:.4g}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
