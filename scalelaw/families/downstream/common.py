"""Helpers shared by the chained predictions of the downstream family.

Chaining two fits pairs their bootstrap replicates: replicate i of the outer law is evaluated at
the value replicate i of the inner law predicts, so the interval of the chain carries both
uncertainties.

Examples
--------
>>> import numpy as np
>>> from scalelaw.laws import get_law
>>> evaluate_paired(get_law("power_law"), {"x": np.array([1.0, 4.0])},
...                 np.array([[2.0, 0.5], [3.0, 0.5]])).tolist()
[2.0, 1.5]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalelaw.laws import Law


def evaluate_paired(law: Law, data: Mapping[str, np.ndarray], draws: np.ndarray) -> np.ndarray:
    """f(data[i]; draws[i]) for every i: inputs (B,) by symbol, parameter draws (B, p) -> (B,)."""
    draws = np.atleast_2d(np.asarray(draws, dtype=float))
    values = {s: np.asarray(data[s], dtype=float) for s in law.inputs}
    theta = {name: draws[:, j] for j, name in enumerate(law.param_names)}
    with np.errstate(all="ignore"):
        out = law.value_program.bind(values)(theta)[0]
    return np.broadcast_to(np.asarray(out, dtype=float), (draws.shape[0],)).copy()
