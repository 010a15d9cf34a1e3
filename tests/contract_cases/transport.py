"""Contract cases of the transport family: a distance, projections, a selection, a mixing optimum and
the digits demonstration."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from contract import case

from scalelaw.families.transport import demo, mixing
from scalelaw.families.transport.choice import select
from scalelaw.families.transport.distance import MixtureTransport, Samples, distance
from scalelaw.families.transport.projection import fit_projector, prepare_pilots, project, project_mixtures

from support import DATA

RNG = np.random.default_rng(0)
A = Samples(RNG.normal(size=(30, 3)), RNG.integers(0, 3, 30), "a")
B = Samples(RNG.normal(size=(25, 3)) + 1.0, RNG.integers(0, 3, 25), "b")
TARGET = "metric/the_pile_pile_cc_val_loss"


@functools.cache
def _setup():
    """Three Gaussian sources, a target, and pilots whose metric follows stage 1's own form."""
    rng = np.random.default_rng(1)
    sources = [Samples(rng.normal(size=(30, 3)) + i, name=f"s{i}") for i in range(3)]
    transport = MixtureTransport(sources, Samples(rng.normal(size=(40, 3)) + 1.0, name="target"),
                                 method="sinkhorn")
    names = [s.name for s in sources]
    rows = []
    for size, scale in ((100, 1.0), (200, 1.2), (400, 1.3)):
        for p in demo.simplex_grid(3, 0.2):
            ot = transport(p).cost
            metric = scale * ((0.3 * p[0] ** 2 - 0.1 * p[1] + 0.02) * ot + 0.5 + 0.2 * p[2] ** 2 - 0.05 * p[0])
            rows.append({"size": size, **dict(zip(names, p, strict=True)), "accuracy": metric})
    projector = fit_projector(prepare_pilots(pd.DataFrame(rows), names), transport)
    return projector, transport


@functools.cache
def _mixing_fit():
    frame, domains = mixing.read_mixtures(DATA / "mixture" / "train_mixture_1m.csv",
                                          DATA / "mixture" / "train_pile_loss_1m.csv", target=TARGET)
    return mixing.fit_mixture(frame, domains, TARGET)


case("transport.distance", lambda **s: distance(A, B, **s), method="exact", reg=0.05, label_weight=1.0,
     max_samples=20, seed=3, bad=lambda: distance(A, Samples(np.zeros((4, 2)), np.zeros(4), "flat")))
case("transport.projection", lambda **s: project(*_setup(), **s), ratio=[0.2, 0.3, 0.5], size=1000.0,
     mapping="auto", bad=lambda: project(*_setup(), [0.5, 0.5, 0.5], 1000.0))
case("transport.projections", lambda **s: project_mixtures(*_setup(), **s), ratios=[[0.2, 0.3, 0.5], [1, 0, 0]],
     size=1000.0, mapping="log", bad=lambda: project_mixtures(*_setup(), size=-1.0))
case("transport.selection", lambda **s: select(*_setup(), **s), size=1000.0, caps={"s2": 0.3}, mapping="auto",
     iterations=20, bad=lambda: select(*_setup(), 1000.0, caps={"s0": 0.2, "s1": 0.2, "s2": 0.2}))
case("transport.optimum", lambda **s: mixing.optimize(_mixing_fit(), **s), caps={"train_the_pile_pile_cc": 0.4},
     maximize=False, start=None, iterations=500,
     bad=lambda: mixing.optimize(_mixing_fit(), caps={"no_such_domain": 0.5}))
case("transport.demonstration", lambda **s: demo.demonstrate(**s), seed=0, pilot_sizes=[20, 40, 80], size=160,
     step=0.25, repeats=1, eval_step=1.0, eval_repeats=1, method="exact", caps=None, iterations=5,
     bad=lambda: demo.demonstrate(method="nope"))
