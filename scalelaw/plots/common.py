"""What every figure shares: the axes to draw on, rendering to bytes, atomic saving.

No backend is chosen here: figures are drawn with whatever backend is active (inline in a
notebook, a window in a script, Agg in the CLI). pyplot is imported only to make a new figure.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure

from scalelaw.artifact import write_atomic
from scalelaw.errors import InputError

AxesLike = Axes | Sequence[Axes] | np.ndarray | None


def panels(ax: AxesLike, count: int = 1, *, columns: int | None = None,
           figsize: tuple[float, float], **gridspec_kw) -> tuple[Figure, list[Axes]]:
    """The figure and ``count`` axes to draw on, in reading order.

    ``ax`` None: a new pyplot figure of ``figsize`` (inches) with a grid of ``columns`` panels per
    row (all in one row by default), the unused cells hidden.  One Axes: drawn on when ``count`` is
    1, otherwise its area is split into the grid.  A sequence: exactly ``count`` Axes of one figure.
    ``gridspec_kw`` (``wspace``, ``hspace``, ...) spaces the panels of a grid made here.
    """
    cols = max(1, min(columns or count, count))
    rows = -(-count // cols)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, grid = plt.subplots(rows, cols, figsize=figsize, squeeze=False, gridspec_kw=gridspec_kw or None)
        for spare in grid.flat[count:]:
            spare.set_visible(False)
        return fig, list(grid.flat[:count])
    if isinstance(ax, Axes):
        if count == 1:
            return ax.figure, [ax]
        spec = ax.get_subplotspec()
        if spec is None:
            raise InputError(f"ax=: this figure has {count} panels; give {count} Axes or one made by "
                             "subplots, whose area is split among them")
        fig = ax.figure
        grid = spec.subgridspec(rows, cols, **gridspec_kw)
        ax.remove()
        return fig, [fig.add_subplot(grid[k // cols, k % cols]) for k in range(count)]
    given = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(given) != count or not all(isinstance(a, Axes) for a in given):
        raise InputError(f"ax=: this figure has {count} panels; give one Axes, {count} Axes or None")
    if len({id(a.figure) for a in given}) != 1:
        raise InputError("ax=: the Axes given belong to different figures; give Axes of one figure")
    return given[0].figure, given


def is_bottom(ax: Axes) -> bool:
    """Whether ``ax`` is in the bottom row of its grid (True for an Axes placed by hand)."""
    spec = ax.get_subplotspec()
    return spec is None or spec.is_last_row()


def is_left(ax: Axes) -> bool:
    """Whether ``ax`` is in the left column of its grid (True for an Axes placed by hand)."""
    spec = ax.get_subplotspec()
    return spec is None or spec.is_first_col()


def _suffix(path: str | os.PathLike) -> str:
    name = os.path.basename(os.fspath(path))
    return name.rsplit(".", 1)[-1].lower() if "." in name else "png"


def check_figure_path(path: str | os.PathLike) -> None:
    """Refuse, before any work, a figure path whose format (its suffix) matplotlib cannot write."""
    suffix = _suffix(path)
    if suffix not in FigureCanvasBase.get_supported_filetypes():
        raise InputError(f"{path}: cannot write .{suffix} figures; use .png, .pdf or .svg")


def figure_bytes(fig: Figure, path: str | os.PathLike) -> bytes:
    """The figure's bytes in the format named by the suffix of ``path`` (PNG without one); closes it."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=_suffix(path), dpi=150, bbox_inches="tight")
    finally:
        close(fig)
    return buffer.getvalue()


def close(fig: Figure) -> None:
    """Release a figure made by pyplot (a no-op for one pyplot does not manage)."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write a figure atomically (rendered in memory first), then close it."""
    write_atomic(path, figure_bytes(fig, path))
