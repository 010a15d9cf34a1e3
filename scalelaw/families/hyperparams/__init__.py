"""The hyperparameter family: optimal learning-rate and batch-size laws from sweeps (Step Law).

A sweep is one row per training run (N, D, lr, batch size, final loss).  The family reads it
(:mod:`.sweep`), keeps per (N, D) group the runs within 0.25% of the group's minimum, fits power
laws for the optimal lr and batch size with the engine (:mod:`.fitting`), fits the loss surface
around each optimum (:mod:`.plateau`), compares laws on a sweep (:mod:`.evaluate`) and recommends
an lr and a batch size for a new model (:mod:`.recommend`).  Published laws (Step Law, DeepSeek
LLM, Porian et al.) are built in (:mod:`.published`).  Batch sizes are in tokens throughout.

A law is a :class:`scalelaw.FitGroup` (one fit per law form); its questions are the functions of
:mod:`.model` (``predict(law, inputs(N, D))``, ``formulas(law)``, ...).  Laws, recommendations
and evaluations follow the result protocol: ``summary()``, ``report()``, ``plot()``, ``to_json``
and ``scalelaw.load``.

Examples
--------
>>> from scalelaw.families import hyperparams as hp
>>> r = hp.recommend(hp.published("steplaw", bootstrap_file=False), 7e9, 1.4e12)
>>> f"lr {r.lr:.3g}, batch {r.batch_size / 1e6:.1f}M tokens"
'lr 0.000917, batch 5.0M tokens'
"""

from scalelaw.families.hyperparams.evaluate import Evaluation, cross_validate, evaluate, evaluations
from scalelaw.families.hyperparams.fitting import BATCH_FORMS, LR_FORMS, fit_sweep, form_law
from scalelaw.families.hyperparams.model import (
    LEGACY_SCHEMA,
    LawInfo,
    about,
    batch_fit,
    check_law,
    coefficients,
    draws,
    formula_text,
    formulas,
    has_bootstrap,
    inputs,
    intervals,
    is_law,
    law_group,
    law_name,
    level,
    lr_fit,
    predict,
    used,
)
from scalelaw.families.hyperparams.plateau import TOLERANCES, Plateau, fit_plateau
from scalelaw.families.hyperparams.published import NAMES, find_steplaw_bootstrap, published, resolve
from scalelaw.families.hyperparams.recommend import Recommendation, recommend, recommend_table
from scalelaw.families.hyperparams.sweep import FORMATS, Sweep, load_sweep, read_sweep, select, tidy

__all__ = [
    "BATCH_FORMS",
    "FORMATS",
    "LR_FORMS",
    "LEGACY_SCHEMA",
    "NAMES",
    "TOLERANCES",
    "Evaluation",
    "LawInfo",
    "Plateau",
    "Recommendation",
    "Sweep",
    "about",
    "batch_fit",
    "check_law",
    "coefficients",
    "cross_validate",
    "draws",
    "evaluate",
    "evaluations",
    "find_steplaw_bootstrap",
    "fit_plateau",
    "fit_sweep",
    "form_law",
    "formula_text",
    "formulas",
    "has_bootstrap",
    "inputs",
    "intervals",
    "is_law",
    "law_group",
    "law_name",
    "level",
    "load_sweep",
    "lr_fit",
    "predict",
    "published",
    "read_sweep",
    "recommend",
    "recommend_table",
    "resolve",
    "select",
    "tidy",
    "used",
]
