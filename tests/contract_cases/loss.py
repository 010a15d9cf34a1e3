"""Contract cases of the loss family: an allocation, an isoFLOP analysis and a hold-out validation."""

from __future__ import annotations

import functools

import pandas as pd
from contract import case

from scalelaw import engine, get_law
from scalelaw.families import loss

from support import DATA


@functools.cache
def _runs() -> pd.DataFrame:
    """Hoffmann et al.'s runs (Besiroglu et al.'s extraction), without the 5 highest losses."""
    table = pd.read_csv(DATA / "loss" / "epoch_chinchilla_svg_extracted.csv").rename(
        columns={"Model Size": "params", "Training FLOP": "flops"})
    frame, _ = loss.prepare(table[["params", "flops", "loss"]], exclude_highest=5)
    return frame


@functools.cache
def _fit():
    return engine.fit(get_law("chinchilla"), _runs(), bootstrap=20, seed=0)


@functools.cache
def _porian() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "loss" / "porian_isoflop_points.csv")
    return frame[(frame.dataset == "rw") & (frame.hparams == "tuned") & (frame.param_count == "standard")]


case("loss.allocation", lambda **s: loss.allocate(_fit(), **s), flops=[1e21, 5.76e23, 1e26],
     bad=lambda: loss.allocate(_fit(), flops=[-1.0]))
case("loss.isoflop", lambda **s: loss.isoflop(_porian(), **s), budget_column=None, min_points=3, bootstrap=20,
     seed=1, level=0.9, bad=lambda: loss.isoflop(_porian(), min_points=40))
case("loss.validation", lambda **s: loss.validate_loss(_runs(), **s), law="chinchilla", top_frac=0.2, column=None,
     order_by="flops", loss="huber", delta=1e-3,
     bad=lambda: loss.validate_loss(_runs(), top_frac=1.5))


@functools.cache
def _porian_tuned() -> pd.DataFrame:
    """Porian et al.'s tuned, standard-count runs of both datasets: two groups for ``by="dataset"``."""
    frame = pd.read_csv(DATA / "loss" / "porian_isoflop_points.csv")
    return frame[(frame.hparams == "tuned") & (frame.param_count == "standard")][["dataset", "params", "tokens",
                                                                                  "loss"]]


case("core.groups", lambda **s: engine.fit(get_law("chinchilla"), _porian_tuned(), **s), by="dataset", bootstrap=5,
     seed=0, bad=lambda: engine.fit(get_law("chinchilla"), _porian_tuned(), by="nope"))


def _average(**settings):
    from scalelaw import averaging

    return averaging.average(_runs(), **settings)


case("loss.average", _average, laws=["chinchilla"], losses=["huber", "asymmetric"], order_by="flops", origins=2,
     max_scales=8, weighting="stacking", bootstrap=5, seed=0, level=0.95, starts="default", delta=1e-3, polish=16,
     bad=lambda: _average(laws=["chinchilla"], origins=7, max_scales=8))
