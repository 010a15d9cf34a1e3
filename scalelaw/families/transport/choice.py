"""Choosing the mixture whose projected metric at a target size is best (projektor's selection).

:func:`select` runs projected gradient ascent (:func:`~.selection.ascend`) on the projection of
:func:`~.projection.project`, from the uniform mixture, on the simplex capped by what each source
can supply, and returns a :class:`Selection`: the chosen shares, the projections at the start and at
the choice, and the path between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import protocol
from scalelaw.families.transport.distance import MixtureTransport
from scalelaw.families.transport.projection import Projection, Projector, project, stage_table
from scalelaw.families.transport.selection import Path, ascend, caps_setting, check_caps

#: How close to its cap (or to 0) a share counts as at that bound.
AT_BOUND = 1e-9


@dataclass(frozen=True)
class Selection(protocol.Result):
    """The mixture chosen for a target training-set size.

    Attributes
    ----------
    sources, metric, maximize
        Source names (ratio order), the metric and whether higher is better.
    size, mapping
        The target size (samples) and the stage-2 map the decision used (``log`` or ``power``).
    caps
        Upper bound per source, or None.
    best, start
        The projections at the chosen mixture and at the uniform start.
    path
        The accepted steps of the ascent.
    pilots
        The pilot mixtures (ratios), for the figure.
    stage1
        One row per pilot size: rows and in-sample errors of its stage-1 fit.
    settings
        The arguments of :func:`select` (size, caps, mapping, iterations).
    warnings
        An ascent that stopped at its iteration limit, shares at their caps, the projection's own.
    """

    FAMILY = "transport"
    KIND = "selection"
    TITLE = "selected mixture (projected gradient ascent on the projection)"

    sources: tuple[str, ...]
    metric: str
    maximize: bool
    size: float
    mapping: str
    caps: Mapping[str, float] | None
    best: Projection
    start: Projection
    path: Path
    pilots: np.ndarray
    stage1: pd.DataFrame
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def ratio(self) -> dict[str, float]:
        """The chosen share per source."""
        return dict(zip(self.sources, self.path.ratio.tolist(), strict=True))

    def summary(self) -> pd.DataFrame:
        """One row per source: the chosen share, the start and the cap."""
        caps = self.caps or {}
        return pd.DataFrame({"share": self.path.ratio, "start": self.path.ratios[0],
                             "cap": [float(caps.get(n, 1.0)) for n in self.sources]},
                            index=pd.Index(self.sources, name="source"))

    def report(self) -> str:
        goal = "maximising" if self.maximize else "minimising"
        head = (f"{self.TITLE}\nN = {self.size:g}, {goal} {self.metric}, {self.mapping} mapping: projected "
                f"{self.best.projected:.6g} (start {self.start.projected:.6g}); "
                f"{len(self.path.values) - 1} steps, {self.path.message}")
        return head + "\n" + super().report().split("\n", 1)[1]

    def plot(self, ax=None):
        """The path on the simplex (three sources; shares per step otherwise) and the objective."""
        from scalelaw.plots.transport import selection_path

        return selection_path(self.path, self.sources, pilots=self.pilots, metric=self.metric, ax=ax)


def _at_caps(sources, ratio: np.ndarray, caps: np.ndarray | None) -> list[str]:
    if caps is None:
        return []
    return [f"the share of {n} is at its cap {c:g}" for n, r, c in zip(sources, ratio, caps, strict=True)
            if c < 1.0 and r >= c - AT_BOUND]


def select(
    projector: Projector,
    transport: MixtureTransport,
    size: float,
    *,
    caps: Mapping[str, float] | None = None,
    mapping: str = "auto",
    iterations: int = 100,
) -> Selection:
    """The mixture that maximises (``projector.maximize``; else minimises) the projection at ``size``.

    Parameters
    ----------
    size
        Target training-set size (samples).
    caps
        Most share per source (name -> fraction of the training set), or None.
    mapping
        The stage-2 map the decision uses (see :meth:`Projector.resolve`).
    iterations
        Most projected-gradient steps.
    """
    names = projector.sources
    cap_values = check_caps(caps, names)
    chosen = projector.resolve(mapping)

    def objective(p):
        pr = project(projector, transport, p, size, mapping=chosen)
        return pr.projected, pr.gradient

    uniform = np.full(len(names), 1.0 / len(names))
    path = ascend(objective, uniform, caps=cap_values, maximize=projector.maximize, iterations=iterations)
    best = project(projector, transport, path.ratio, size, mapping=chosen)
    start = project(projector, transport, path.ratios[0], size, mapping=chosen)
    warned = [] if path.converged else [f"the ascent stopped after {iterations} steps: {path.message}"]
    warned += _at_caps(names, path.ratio, cap_values) + list(best.warnings)
    return Selection(
        names,
        projector.metric,
        projector.maximize,
        float(size),
        chosen,
        None if cap_values is None else dict(zip(names, cap_values.tolist(), strict=True)),
        best,
        start,
        path,
        np.unique(projector.pilots[list(names)].to_numpy(dtype=float), axis=0),
        stage_table(projector),
        settings={"size": float(size), "caps": caps_setting(caps), "mapping": mapping,
                  "iterations": iterations},
        warnings=tuple(warned),
    )
