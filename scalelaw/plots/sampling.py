"""Figures of the sampling family: coverage against k with fitted laws, the utility U(K), sample plans.

Each function draws on ``ax`` (None: a new figure) and returns the Figure.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scalelaw.plots.common import panels


def _figure(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(figure, ax)``: the given axes, or a new figure of ``size`` inches."""
    fig, (ax,) = panels(ax, figsize=size)
    return fig, ax


def _colours(name: str, count: int, top: float):
    return colormaps[name](np.linspace(0.0, top, count))


def coverage_curves(fits: Mapping[str, object], *, ax: Axes | None = None, extend: float = 10.0) -> Figure:
    """Coverage against samples per problem k (log axis), one colour per model.

    ``fits`` maps a model to its coverage fit (a sampling coverage group, or one member).  Points
    are the observed coverage (mean unbiased pass@k) at the fitted grid with their
    bootstrap-over-problems interval (band); lines are the fitted coverage models, solid over the
    observed k and dashed up to ``extend`` times the largest observed k.  Drawn on ``ax`` when given.
    """
    fig, ax = _figure(ax, (8, 5.2))
    colours = _colours("viridis", len(fits), 0.9)
    for colour, (model, f) in zip(colours, fits.items(), strict=True):
        curve = f.curve
        k = curve["k"].to_numpy(dtype=float)
        ax.scatter(k, curve["coverage"], color=colour, s=12, zorder=3)
        if np.isfinite(curve["lower"]).all():
            ax.fill_between(k, curve["lower"], curve["upper"], color=colour, alpha=0.18, lw=0)
        inside = np.geomspace(1.0, k.max(), 120)
        beyond = np.geomspace(k.max(), k.max() * extend, 40)
        ax.plot(inside, f.coverage(inside)[0], color=colour, lw=1.4, label=model)
        ax.plot(beyond, f.coverage(beyond)[0], color=colour, lw=1.2, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("samples per problem k")
    ax.set_ylabel("coverage (mean pass@k over problems)")
    first = next(iter(fits.values()), None)
    powerlaw = getattr(first, "KIND", "") == "powerlaw"
    method = "exp(-A k^-beta)" if powerlaw else "scaled Beta-binomial"
    space = f", loss in {first.settings.get('space')}" if powerlaw else ""
    ax.set_title(f"coverage with fitted {method}{space}; dashed: extrapolation", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def utility_curves(plans: Mapping[str, object], *, ax: Axes | None = None) -> Figure:
    """Expected utility U(K) against the number of samples K (log axis), marking each K_opt."""
    fig, ax = _figure(ax, (7.5, 4.8))
    colours = _colours("plasma", len(plans), 0.85)
    for colour, (label, p) in zip(colours, plans.items(), strict=True):
        ax.plot(p.curve["K"], p.curve["utility"], color=colour, lw=1.5, label=label)
        if p.k_opt:
            ax.scatter([p.k_opt], [p.utility], color=colour, zorder=3, s=30)
            ax.annotate(f"K_opt = {p.k_opt}", (p.k_opt, p.utility), textcoords="offset points",
                        xytext=(4, 4), fontsize=8, color=colour)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("samples drawn at most, K")
    ax.set_ylabel("expected utility U(K) (correct = +1)")
    ax.set_title("resampling with an imperfect verifier", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plan_bars(plan, *, ax: Axes | None = None) -> Figure:
    """Samples per problem that reach the plan's target, one bar per model (log axis), with the
    k* interval as an error bar; unreachable targets are left out."""
    fig, ax = _figure(ax, (7.5, 0.6 * len(plan.table) + 1.8))
    table = plan.table[np.isfinite(plan.table["samples"].astype(float))]
    y = np.arange(len(table))
    k = table["k"].to_numpy(dtype=float)
    low = np.clip(k - table["k_lower"].to_numpy(dtype=float), 0, None)
    high = np.clip(table["k_upper"].to_numpy(dtype=float) - k, 0, None)
    errors = np.where(np.isfinite([low, high]), [low, high], 0.0)
    ax.barh(y, table["samples"].to_numpy(dtype=float), color=_colours("viridis", len(table), 0.9), alpha=0.8)
    ax.errorbar(k, y, xerr=errors, fmt="o", color="black", ms=3, lw=1, capsize=3,
                label=f"k* ({100 * plan.level:g}% interval)")
    ax.set_yticks(y, table["model"].tolist())
    ax.invert_yaxis()  # the plan's first (cheapest) model on top
    ax.set_xscale("log")
    ax.set_xlabel("samples per problem")
    ax.set_title(f"samples for coverage {plan.target:g} ({plan.method} fit)", fontsize=10)
    ax.grid(True, axis="x", which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
