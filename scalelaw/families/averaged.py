"""Law averages in the loss family: the candidates of ``law="auto"`` and the mixture's optimum.

:func:`auto_laws` lists the catalogue's loss laws of N and D; :func:`allocate_mixture` gives the
compute-optimal N and D of a law average (:class:`scalelaw.averaging.AveragedFit`) as the numeric
minimum of the mixture's loss sum_k w_k L_k(N, C / 6N), without an interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw import extrapolation
from scalelaw.averaging import AveragedFit
from scalelaw.errors import FitError, InputError
from scalelaw.families.loss import Allocation, beyond_fitted, minimise_along_budget
from scalelaw.io import quantities

#: How the optimum of a law average is found, as the allocation states it.
MIXTURE_METHOD = "numeric optimum of the mixture's loss along C = 6 N D (point only, no interval)"


def auto_laws() -> tuple[str, ...]:
    """The candidates of ``law="auto"``: every catalogue law of N and D that predicts ``loss``."""
    from scalelaw.laws import CATALOGUE

    return tuple(name for name, law in CATALOGUE.items() if set(law.inputs) == {"N", "D"} and law.target == "loss")


def allocate_mixture(fit: AveragedFit, flops) -> Allocation:
    """Compute-optimal (N, D) of the mixture for FLOPs budgets (C = 6 N D), point values only."""
    if set(fit.law.inputs) != {"N", "D"}:
        raise FitError(f"allocation needs laws of N and D; {fit.law.name!r} has inputs {fit.law.inputs}")
    flops = quantities(flops, "flops")
    if np.any(~np.isfinite(flops) | (flops <= 0)):
        raise InputError(f"FLOPs budgets must be positive numbers, got {flops.tolist()}")
    n_col, d_col = fit.law.column("N"), fit.law.column("D")

    def loss(n, d):
        shape = np.broadcast_shapes(np.shape(n), np.shape(d))
        frame = pd.DataFrame({n_col: np.broadcast_to(n, shape).ravel(), d_col: np.broadcast_to(d, shape).ravel()})
        value = fit.predict(frame, warn=False).reshape(shape)
        return np.where(np.isfinite(value), value, np.inf)

    n = np.exp(minimise_along_budget(loss, flops)[0])
    d = flops / (6.0 * n)
    nan = np.full_like(n, np.nan)
    return Allocation(flops, n, d, loss(n, d), nan, nan, nan, nan, nan, nan, MIXTURE_METHOD,
                      law="auto", target=fit.law.target, level=fit.level, settings={"flops": flops.tolist()},
                      warnings=(*fit.warnings, *extrapolation.emit(beyond_fitted(fit, flops, n, d))))
