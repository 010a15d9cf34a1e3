"""Figure of a law average: each candidate's rolling-origin error beside its weight."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from scalelaw.plots.common import AxesLike, panels


def scores(average, *, ax: AxesLike = None) -> Figure:
    """Horizontal bars: rolling-origin held-out MAPE (%) per candidate (left) and its weight (right)."""
    fig, (left, right) = panels(ax, 2, figsize=(9, 0.4 * len(average.names) + 1.8))
    y = np.arange(len(average.names))
    mape = average.scores["score_mape"].to_numpy(dtype=float)
    left.barh(y, np.where(np.isfinite(mape), mape, 0.0), color="tab:blue")
    left.set_yticks(y, average.names)
    left.set_xlabel(f"rolling-origin held-out MAPE (%), scales by {average.order_by}")
    right.barh(y, average.weights, color="tab:orange")
    right.set_yticks(y, [""] * len(y))
    right.set_xlabel("weight in the mixture")
    for axis in (left, right):
        axis.invert_yaxis()
        axis.grid(True, axis="x", alpha=0.3)
    return fig
