"""Contract cases of the hyperparameter family: laws (fitted and published), a recommendation,
an evaluation and a cross-validation, on the synthetic sweep of tests/hparams_sweeps.py."""

from __future__ import annotations

import functools

from contract import case
from hparams_sweeps import sweep_frame

from scalelaw.families import hyperparams as hp

SWEEP = hp.select(hp.tidy(sweep_frame()), path="sweep.csv")
STEPLAW = hp.published("steplaw", bootstrap_file=False)


@functools.cache
def fitted():
    return hp.fit_sweep(SWEEP, bootstrap=20, seed=1)


case("hparams.law", lambda **s: hp.fit_sweep(SWEEP, **s), lr_form="N,D", batch_form="D", loss="squared",
     bootstrap=20, seed=1, level=0.9, plateau_window=0.03, bad=lambda: hp.fit_sweep(SWEEP, lr_form="N"))
case("hparams.law.published", lambda **s: hp.published("steplaw", **s), bootstrap_file=False,
     bad=lambda: hp.published("adam"))
case("hparams.recommendation", lambda **s: hp.recommend(fitted(), **s), params=3e8, tokens=1e10,
     batch_size=4e6, seq_len=1024.0, bad=lambda: hp.recommend(STEPLAW, -5.0, 1e9))
case("hparams.recommendation.extrapolated", lambda **s: hp.recommend(STEPLAW, **s), params=7e9,
     tokens=1.4e12, moe=True, bad=lambda: hp.recommend(STEPLAW, 7e9, float("nan")))
case("hparams.evaluation", lambda **s: hp.evaluate(SWEEP, hp.published("deepseek"), **s),
     bad=lambda: hp.evaluate(SWEEP, "steplaw"))
case("hparams.cross_validation", lambda **s: hp.cross_validate(SWEEP, s), lr_form="N,D", batch_form="D",
     loss="squared", delta=1e-3, bad=lambda: hp.cross_validate(SWEEP, {"lr_form": "N"}))
case("hparams.evaluations", lambda **s: hp.evaluations(hp.evaluate(SWEEP, fitted()), hp.cross_validate(SWEEP, s)),
     lr_form="N,D", batch_form="C", loss="huber", delta=1e-3)
