"""Figures of the loss family: loss against compute with the fitted law, and isoFLOP curves.

Each function draws on ``ax`` (None: a new figure) and returns the Figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from scalelaw.plots.common import AxesLike, panels


def loss_vs_compute(fit, frame: pd.DataFrame, *, frontier: bool = True, ax: AxesLike = None) -> Figure:
    """Loss against training compute, points coloured by model size, with the fitted law.

    Each fitted curve holds N fixed at one of the measured sizes and varies D (so C = 6 N D);
    the dashed line is the compute-optimal frontier when the law allows allocation.
    """
    from scalelaw.families.loss import allocate

    fig, (ax,) = panels(ax, figsize=(7.5, 5))
    n, c, y = (frame[k].to_numpy(dtype=float) for k in ("params", "flops", "loss"))
    norm = LogNorm(vmin=n.min(), vmax=max(n.max(), n.min() * 1.01))
    points = ax.scatter(c, y, c=n, norm=norm, cmap="viridis", s=18, edgecolor="none", zorder=3)
    sizes = np.unique(n)
    shown = sizes[np.unique(np.linspace(0, sizes.size - 1, min(8, sizes.size)).round().astype(int))]
    c_grid = np.geomspace(c.min() / 2, c.max() * 4, 200)
    for size in shown:
        d = c_grid / (6 * size)
        curve = fit.predict({"params": np.full_like(c_grid, size), "tokens": d, "flops": c_grid}, warn=False)
        ax.plot(c_grid, curve, color=colormaps["viridis"](norm(size)), lw=1, alpha=0.8)
    if frontier and set(fit.law.inputs) == {"N", "D"}:
        budgets = np.geomspace(c.min(), c.max() * 100, 60)
        best = allocate(fit, budgets)
        ax.plot(budgets, best.loss, "k--", lw=1.5, label="compute-optimal frontier")
        ax.legend(loc="upper right")
    ax.set_xscale("log")
    ax.set_xlabel("training compute C = 6 N D (FLOPs)")
    ax.set_ylabel(f"{fit.law.target} (as logged)")
    ax.set_ylim(np.min(y) * 0.95, np.percentile(y, 98) * 1.05)
    ax.set_title(f"{fit.law.name}: {fit.law.formula}", fontsize=10)
    fig.colorbar(points, ax=ax, label="model size N (parameters)")
    ax.grid(True, which="major", alpha=0.3)
    return fig


def isoflop_curves(result, frame: pd.DataFrame, budgets: pd.Series, *, ax: AxesLike = None) -> Figure:
    """Left: loss against N per budget with the fitted parabolas and their minima.
    Right: the compute-optimal N and D against compute with the fitted power laws."""
    fig, (left, right) = panels(ax, 2, figsize=(12, 4.8))
    labels = sorted(budgets.unique())
    norm = LogNorm(vmin=min(labels), vmax=max(max(labels), min(labels) * 1.01))
    for budget in labels:
        group = frame[budgets == budget]
        color = colormaps["plasma"](norm(budget))
        left.scatter(group["params"], group["loss"], color=color, s=12)
        x = np.log(group["params"].to_numpy(dtype=float))
        if np.unique(x).size >= 3:
            coef = np.polyfit(x, group["loss"].to_numpy(dtype=float), 2)
            xs = np.linspace(x.min(), x.max(), 100)
            left.plot(np.exp(xs), np.polyval(coef, xs), color=color, lw=1)
    m = result.minima
    left.scatter(m["params"], m["loss"], marker="*", s=90, color="black", zorder=4, label="minimum per budget")
    left.set_xscale("log")
    left.set_xlabel("model size N (parameters)")
    left.set_ylabel("loss (as logged)")
    left.legend()
    left.set_title("isoFLOP curves (colour: budget in FLOPs)", fontsize=10)
    grid = np.geomspace(m["flops"].min() / 2, m["flops"].max() * 10, 100)
    pred = result.predict(grid, warn=False)
    for column, colour, label in (("params", "tab:blue", "N_opt"), ("tokens", "tab:orange", "D_opt")):
        exponent = (result.params_fit if column == "params" else result.tokens_fit).params["a"]
        right.scatter(m["flops"], m[column], color=colour, zorder=3)
        right.plot(grid, pred[column], color=colour, label=f"{label} ∝ C^{exponent:.3f}")
        if np.isfinite(pred[f"{column}_lower"]).all():
            right.fill_between(grid, pred[f"{column}_lower"], pred[f"{column}_upper"], color=colour, alpha=0.2)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("training compute C (FLOPs)")
    right.set_ylabel("compute-optimal parameters / tokens")
    right.legend()
    right.grid(True, which="major", alpha=0.3)
    return fig


def allocation_curves(allocation, *, ax: AxesLike = None) -> Figure:
    """N_opt and D_opt (log scale) against the FLOPs budget, with their bootstrap bands."""
    fig, (ax,) = panels(ax, figsize=(7, 4.5))
    c = np.asarray(allocation.flops, dtype=float)
    order = np.argsort(c)
    for name, colour, label in (("params", "tab:blue", "N_opt (parameters)"),
                                ("tokens", "tab:orange", "D_opt (tokens)")):
        value = np.asarray(getattr(allocation, name))[order]
        lo = np.asarray(getattr(allocation, f"{name}_lower"))[order]
        hi = np.asarray(getattr(allocation, f"{name}_upper"))[order]
        ax.plot(c[order], value, "-o", ms=4, color=colour, label=label)
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            ax.fill_between(c[order], lo, hi, color=colour, alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal parameters / tokens")
    ax.set_title(f"{allocation.law or 'law'}: {allocation.method}", fontsize=10)
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return fig


def validation_errors(validation, *, ax: AxesLike = None) -> Figure:
    """Relative error (predicted / actual - 1, percent) against the run's scale, fitted and held-out
    runs apart: how the error grows when the law extrapolates."""
    fig, (ax,) = panels(ax, figsize=(7, 4.5))
    rows = validation.rows
    error = 100 * (rows["predicted"] / rows["actual"] - 1)
    held = rows["held_out"].to_numpy(dtype=bool)
    for mask, colour, label in ((~held, "tab:blue", f"fitted ({int((~held).sum())} runs)"),
                                (held, "tab:red", f"held out ({int(held.sum())} runs)")):
        ax.scatter(rows["scale"][mask], error[mask], s=14, color=colour, label=label, alpha=0.8)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(validation.order_by)
    ax.set_ylabel(f"error of the predicted {validation.fit.law.target} (%)")
    ax.set_title(f"{validation.fit.law.name}: held-out MAPE {validation.held_out['mape']:.3g}%", fontsize=10)
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return fig
