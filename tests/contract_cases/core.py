"""Contract cases of the core results: a fit and a group of fits."""

from __future__ import annotations

import pandas as pd
from contract import case

from scalelaw import FitGroup, engine, get_law

TABLE = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0, 16.0, 64.0], "loss": [3.1, 2.0, 1.55, 1.05, 0.76, 0.37]})


def _fit(**settings):
    return engine.fit(get_law("power_law"), TABLE, **settings)


def _group(**settings):
    fits = {name: _fit(**settings) for name in ("a", "b")}
    return FitGroup("core", "example", fits, key="model", settings=settings)


case("core.fit", _fit, loss="huber", delta=1e-3, starts="default", polish=8, bootstrap=20, seed=1, level=0.9,
     bad=lambda: engine.fit(get_law("power_law"), TABLE.assign(x=-1.0)))
case("core.group", _group, loss="squared", bootstrap=10, seed=2, level=0.95)
