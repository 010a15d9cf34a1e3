"""Synthetic sweeps with a known optimum law and a known quadratic loss surface (hparams tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The law the synthetic optima lie on: lr* = 2 N^-0.7 D^0.3, B* = 0.5 D^0.55 (tokens).
LR_LAW = (2.0, -0.7, 0.3)
BATCH_LAW = (0.5, 0.55)
#: Curvature of the relative excess loss in (ln lr, ln B).
H = (0.02, -0.006, 0.012)
GROUPS = ((1e8, 2e9), (1e8, 8e9), (4e8, 4e9), (4e8, 1.6e10), (1.6e9, 3.2e10))


def optimum(n: float, d: float) -> tuple[float, float]:
    c, a, b = LR_LAW
    cb, bb = BATCH_LAW
    return c * n**a * d**b, cb * d**bb


def sweep_frame(
    groups=GROUPS, *, lr_steps=range(-4, 5), batch_steps=range(-3, 4), step=2**0.5
) -> pd.DataFrame:
    """One row per run on a grid in steps of sqrt(2) centred on the optimum of each group."""
    huu, huv, hvv = H
    rows = []
    for n, d in groups:
        lr0, b0 = optimum(n, d)
        floor = 1.8 + 400.0 / n**0.34 + 410.0 / d**0.28
        for i in lr_steps:
            for j in batch_steps:
                u, v = i * np.log(step), j * np.log(step)
                excess = 0.5 * (huu * u * u + 2 * huv * u * v + hvv * v * v)
                rows.append(
                    {
                        "params": n,
                        "tokens": d,
                        "lr": lr0 * step**i,
                        "batch_size": b0 * step**j,
                        "loss": floor * (1 + excess),
                    }
                )
    return pd.DataFrame(rows)


def write(path, frame: pd.DataFrame) -> str:
    frame.to_csv(path, index=False)
    return str(path)
