"""Figures any fitted law or group of fits can draw: the law over its inputs' ranges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scalelaw.plots.common import AxesLike


def _axes(ax, panels: int = 1, width: float = 5.5, height: float = 4.0):
    """``ax`` (one panel) or a new figure with ``panels`` axes, three per row."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, [ax] * panels
    cols = min(3, max(panels, 1))
    rows = math.ceil(max(panels, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for extra in flat[panels:]:
        extra.set_visible(False)
    return fig, flat[:panels]


def _grid(low: float, high: float, log: bool) -> np.ndarray:
    if log:
        return np.geomspace(low, high, 120)
    return np.linspace(low, high, 120)


def law_curves(fit, *, ax: AxesLike = None, data: pd.DataFrame | None = None) -> Figure:
    """The fitted law against its first input, one line per value of its second input.

    The first input spans the fitted range (a log axis when it covers more than a factor 20);
    a second input is held at its minimum, geometric middle and maximum, others at their middle.
    The band is the bootstrap percentile interval when the fit has one; ``data`` adds the points.
    """
    fig, (ax,) = _axes(ax)
    law = fit.law
    ranges = {c: tuple(map(float, r)) for c, r in fit.data.get("ranges", {}).items()}
    columns = [law.column(s) for s in law.inputs]
    low, high = ranges.get(columns[0], (1.0, 10.0))
    log = low > 0 and high / low > 20
    x = _grid(low, high, log)
    levels = [None]
    if len(columns) > 1:
        a, b = ranges.get(columns[1], (1.0, 10.0))
        levels = sorted({a, math.sqrt(a * b) if a > 0 else 0.5 * (a + b), b})
    for level in levels:
        inputs = {}
        for j, column in enumerate(columns):
            a, b = ranges.get(column, (1.0, 10.0))
            middle = math.sqrt(a * b) if a > 0 else 0.5 * (a + b)
            inputs[column] = x if j == 0 else np.full_like(x, level if j == 1 else middle)
        value, lo, hi = fit.predict_interval(inputs, warn=False)
        label = law.name if level is None else f"{columns[1]} = {level:.3g}"
        line, = ax.plot(x, value, label=label)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if data is not None and columns[0] in data and law.target in data:
        ax.scatter(data[columns[0]], data[law.target], s=12, color="black", alpha=0.6, label="data", zorder=3)
    if log:
        ax.set_xscale("log")
    if law.space in ("log", "loglog") and low > 0:
        ax.set_yscale("log")
        bottom, top = ax.get_ylim()
        if 0 < bottom and top / bottom < 10:  # less than a decade: plain numbers read better
            from matplotlib.ticker import ScalarFormatter

            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel(columns[0])
    ax.set_ylabel(law.target)
    ax.set_title(f"{law.name}: {law.formula}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def group_panels(group, *, ax: AxesLike = None) -> Figure:
    """One panel per member of a :class:`~scalelaw.result.FitGroup` (all on ``ax`` when given)."""
    names = list(group.fits)
    fig, axes = _axes(ax, len(names))
    for name, panel in zip(names, axes, strict=True):
        before = set(fig.axes)
        group.fits[name].plot(ax=panel)
        if ax is None:
            # a member drawn in several panels splits its cell: the title goes on the first of them
            target = panel if panel.figure is not None else next(a for a in fig.axes if a not in before)
            shown = target.get_title()
            target.set_title(f"{group.key} {name}" + (f": {shown}" if shown else ""), fontsize=9)
    return fig
