"""Contract cases of the downstream family: the chain, the ladder, the error law, observational scaling."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from contract import case

from scalelaw import engine
from scalelaw.families.downstream import chain, error_law, ladder, observational, olmo_ladder

from support import DATA

LADDER = DATA / "downstream" / "olmo_ladder"
GADRE = DATA / "downstream" / "gadre" / "rpj_models.csv"
BENCH = DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"


def _choices(n_models: int = 6, n_questions: int = 40, seed: int = 0) -> pd.DataFrame:
    """A family whose correct-answer log-likelihood rises with compute, distractor mass random."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, flops in enumerate(np.geomspace(1e19, 1e22, n_models)):
        gain = 0.4 * np.log10(flops / 1e19)
        for q in range(n_questions):
            ll = np.minimum(np.r_[-3.0 + gain + rng.normal(0, 0.1), -3.2 + rng.normal(0, 0.5, 3)], -1e-3)
            rows += [(f"m{i}", "toy", flops, f"q{q}", str(k), ll[k], k == 0) for k in range(4)]
    return pd.DataFrame(rows, columns=["model", "family", "flops", "question", "choice", "logprob", "is_correct"])


CHOICES = _choices()


@functools.cache
def _logs() -> olmo_ladder.LadderLogs:
    return olmo_ladder.read_olmo_ladder(LADDER, "mmlu")


@functools.cache
def _gadre() -> tuple[pd.DataFrame, object]:
    models = pd.read_csv(GADRE).rename(columns={"c4_loss": "loss"})
    loss_fit = engine.fit(error_law.GADRE_LOSS_LAW, models[models["fit_loss"] == "yes"], loss="squared",
                          bootstrap=20, seed=1)
    points = models[models["fit_error"] == "yes"].rename(columns={"error_17": "error"})[["loss", "error"]]
    return points, loss_fit


@functools.cache
def _bench() -> observational.Benchmarks:
    return observational.read_benchmarks(BENCH)


case("downstream.chain", lambda **s: chain.analyse(CHOICES, **s), min_models=3,
     bad=lambda: chain.analyse(CHOICES.assign(logprob=0.5)))
case("downstream.ladder-fit", lambda **s: ladder.fit_ladder(_logs(), **s), skip=0.1, moving_avg=5, last_n=5,
     anchor=True, delta=1e-3, bootstrap=10, seed=2, level=0.9,
     bad=lambda: ladder.fit_ladder(_logs(), skip=1.5))
case("downstream.ladder", lambda **s: ladder.predict_ladder(LADDER, **s), task="mmlu", format="olmo-ladder",
     intermediate="task-loss", params=13_202_396_160, tokens=5_000_088_518_656, skip=0.1, moving_avg=5,
     last_n=5, anchor=True, delta=1e-3, bootstrap=10, seed=0, level=0.95,
     bad=lambda: ladder.predict_ladder(LADDER, params=7e9))
case("downstream.error-law", lambda **s: error_law.analyse(_gadre()[0], _gadre()[1], **s), at_loss=None,
     inputs={"params": 1439795200.0, "tokens_per_param": 640.0}, loss="squared", bootstrap=20, seed=1, level=0.95,
     bad=lambda: error_law.analyse(_gadre()[0], inputs={"params": 1e9, "tokens_per_param": 20.0}))
case("downstream.observational", lambda **s: observational.fit_observational(_bench(), **s), target="GSM8K",
     cutoff_flops=8.4e22, components=3, predictors=None, chance=0.0, floor_max=0.2, loss="squared", delta=0.1,
     bad=lambda: observational.fit_observational(_bench(), "BBH", cutoff_flops=8.4e22))
