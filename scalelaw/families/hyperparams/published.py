"""Published hyperparameter laws: Step Law, DeepSeek LLM and Porian et al., batch sizes in tokens.

============  =================================  ============================  =========================
name          learning rate                      batch size (tokens)           variables
============  =================================  ============================  =========================
``steplaw``   1.79 N^-0.713 D^0.307              0.58 D^0.571                  N non-embedding, D tokens
``deepseek``  0.3118 C^-0.125                    0.292 C^0.3271                C = M D non-embedding FLOPs
``porian``    3.7 N^-0.36                        0.7576 N^0.703                N parameters
============  =================================  ============================  =========================

Step Law's intervals come from its 1,000 released bootstrap coefficient rows
(``1004_fitted_lr_bs_scaling_model_parameters.csv`` in github.com/step-law/steplaw, no licence, so
not shipped): pass its path as ``published("steplaw", bootstrap_file=PATH)``, or name it in the
environment variable ``SCALELAW_STEPLAW_BOOTSTRAP``; without it Step Law has no intervals.

Examples
--------
>>> law = published("deepseek")
>>> p = predict(law, inputs(6.04e9, 2e12, seq_len=4096, n_layers=30, d_model=4096))
>>> f"{p['lr'][0]:.2g} {p['batch_size'][0] / 1e6:.1f}M"
'0.00042 9.2M'
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from scalelaw.catalogue.hyperparams import published_law
from scalelaw.errors import InputError, LawError
from scalelaw.families.hyperparams.model import LawInfo, check_law, inputs, is_law, law_group, predict  # noqa: F401
from scalelaw.io import read_table
from scalelaw.result import FitGroup, FitResult

STEPLAW_BOOTSTRAP_FILE = "1004_fitted_lr_bs_scaling_model_parameters.csv"
BOOTSTRAP_ENV = "SCALELAW_STEPLAW_BOOTSTRAP"
BOOTSTRAP_COLUMNS = ("lr_intercept", "lr_coefN", "lr_coefD", "bs_intercept", "bs_coefD")
#: Percentile level of published intervals: Step Law reports 5/50/95% of bootstrap predictions.
LEVEL = 0.90


def power_law(
    name: str,
    target: str,
    coefficient: float,
    exponents: dict[str, float],
    *,
    columns: dict[str, str] | None = None,
    draws: np.ndarray | None = None,
    level: float = LEVEL,
) -> FitResult:
    """A fixed law ``target = c * X^alpha_X * ...`` as a fit (optionally with bootstrap draws).

    ``draws`` has one row per bootstrap replicate: c, then the exponents in the given order.
    """
    law = published_law(name, target, tuple(exponents), columns)
    params = {"c": coefficient} | {f"alpha_{s}": e for s, e in exponents.items()}
    return FitResult(
        law=law, params=params, settings={"source": "published", "level": level}, bootstrap=draws
    )


STEPLAW = LawInfo(
    name="steplaw",
    title="Step Law (Li et al. 2025)",
    reference="Li et al. 2025, Predictable Scale: Part I, Step Law - Optimal Hyperparameter Scaling Law "
    "in LLM Pre-training, arXiv:2503.04715; github.com/step-law/steplaw",
    variables="N = non-embedding parameters (for MoE: total, not active), D = training tokens",
    setting="dense Transformers (RMSNorm pre-norm, SwiGLU, ALiBi), AdamW, warmup then cosine decay to a "
    "fixed final lr of 1e-5, sequence length 2048; optimum = runs within 0.25% of each grid's "
    "minimum smoothed loss",
    seq_len=2048.0,
    ranges={"params": (2.1466e8, 1.0738e9), "tokens": (4e9, 1e11), "tokens_per_param": (18.6, 466.0)},
    assumptions=(
        "N counts non-embedding parameters, layers x (4 d_model^2 + 3 d_model d_ffn): attention "
        "Q, K, V, O and the three SwiGLU matrices, no embeddings, head or norms, no GQA "
        "correction; for MoE the total, not the active",
        "the lr is the peak of a cosine schedule decaying to a fixed 1e-5 (the positive D "
        "exponent comes from re-optimising the batch size at each D)",
        "B is in tokens; sequences = B / seq_len",
    ),
)
DEEPSEEK = LawInfo(
    name="deepseek",
    title="DeepSeek LLM (Bi et al. 2024)",
    reference="Bi et al. 2024, DeepSeek LLM: Scaling Open-Source Language Models with Longtermism, "
    "arXiv:2401.02954",
    variables="C = M D non-embedding training FLOPs, M = 6 N + 12 n_layers d_model seq_len per token "
    "(72 n_layer d^2 + 12 n_layer d l_seq); without the architecture, C = 6 N D",
    setting="AdamW, multi-step learning-rate schedule; near-optimal = within 0.25% of the minimum "
    "generalisation error; budgets 1e17 to 2e19 FLOPs",
    seq_len=4096.0,
    ranges={"nonembedding_flops": (1e17, 2e19)},
    assumptions=(
        "C is non-embedding FLOPs including attention, counted when the layers and d_model are given",
        "B is in tokens",
    ),
)
PORIAN = LawInfo(
    name="porian",
    title="Porian et al. 2024",
    reference="Porian et al. 2024, Resolving Discrepancies in Compute-Optimal Scaling of Language Models, "
    "arXiv:2406.19146",
    variables="N = model parameters",
    setting="AdamW with tuned beta2, sweeps of small models on RefinedWeb and OpenWebText2",
    seq_len=2048.0,
    ranges={"params": (2.5e7, 1.1e8)},
    assumptions=("lr and B depend on N only (no token-horizon term)", "B is in tokens"),
)
INFOS = {info.name: info for info in (STEPLAW, DEEPSEEK, PORIAN)}
NAMES = tuple(INFOS)


def find_steplaw_bootstrap() -> Path | None:
    """Step Law's bootstrap file named by ``$SCALELAW_STEPLAW_BOOTSTRAP``; None when it is unset.
    No folder is searched."""
    env = os.environ.get(BOOTSTRAP_ENV)
    return Path(env) if env else None


def steplaw_draws(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Step Law's bootstrap rows as draws: lr (c, alpha_N, alpha_D) and batch (c, alpha_D).

    The file's model is ``lr = exp(lr_intercept) N^lr_coefN D^lr_coefD`` and
    ``bs = exp(bs_intercept) D^bs_coefD`` (tokens).
    """
    table = read_table(path, rename=False, required=BOOTSTRAP_COLUMNS, numeric=BOOTSTRAP_COLUMNS)
    f = table.frame
    lr = np.column_stack([np.exp(f["lr_intercept"]), f["lr_coefN"], f["lr_coefD"]])
    batch = np.column_stack([np.exp(f["bs_intercept"]), f["bs_coefD"]])
    return lr, batch


def published(name: str, *, bootstrap_file: str | Path | bool | None = None) -> FitGroup:
    """A published law by name (a law of :mod:`.model`).

    Parameters
    ----------
    name
        ``steplaw``, ``deepseek`` or ``porian``.
    bootstrap_file
        For ``steplaw``: the path of Step Law's bootstrap rows
        (``1004_fitted_lr_bs_scaling_model_parameters.csv``); None for the file named by
        ``$SCALELAW_STEPLAW_BOOTSTRAP`` (no intervals when it is unset); False for no intervals.
        The law's settings hold the file used (or False), so ``published(name, **law.settings)``
        gives the same law.
    """
    if name not in INFOS:
        raise LawError(
            f"unknown law {name!r}; choose one of {', '.join(NAMES)} or give a fitted law "
            "(a FIT.json written by the law's to_json or 'scalelaw hparams fit')"
        )
    info = INFOS[name]
    if name == "steplaw":
        path = find_steplaw_bootstrap() if bootstrap_file is None else bootstrap_file
        if path not in (None, False) and not Path(path).is_file():
            origin = f"${BOOTSTRAP_ENV} is " if bootstrap_file is None else "bootstrap_file="
            raise InputError(
                f"{origin}{str(path)!r}: no such file; give the path of Step Law's {STEPLAW_BOOTSTRAP_FILE}"
            )
        lr_draws, batch_draws = steplaw_draws(path) if path not in (None, False) else (None, None)
        fits = {
            "lr(N,D)": power_law("hyperparams.steplaw_lr", "lr", 1.79, {"N": -0.713, "D": 0.307}, draws=lr_draws),
            "batch(D)": power_law("hyperparams.steplaw_batch", "batch_size", 0.58, {"D": 0.571}, draws=batch_draws),
        }
        settings = {"bootstrap_file": False if path in (None, False) else str(path)}
        return law_group(info, fits, ("lr(N,D)", "batch(D)"), settings=settings)
    if name == "deepseek":
        fits = {
            "lr(C)": power_law("hyperparams.deepseek_lr", "lr", 0.3118, {"C": -0.125}),
            "batch(C)": power_law("hyperparams.deepseek_batch", "batch_size", 0.292, {"C": 0.3271}),
        }
        return law_group(info, fits, ("lr(C)", "batch(C)"))
    fits = {
        "lr(N)": power_law("hyperparams.porian_lr", "lr", 3.7, {"N": -0.36}),
        "batch(N)": power_law("hyperparams.porian_batch", "batch_size", 0.7576, {"N": 0.703}),
    }
    return law_group(info, fits, ("lr(N)", "batch(N)"))


def resolve(law: str | FitGroup, *, bootstrap_file: str | Path | None = None) -> FitGroup:
    """A published law by name, or a fitted one from its artifact (any schema ``scalelaw.load`` reads)."""
    if is_law(law):
        return law
    if law in INFOS:
        return published(law, bootstrap_file=bootstrap_file)
    if law.lower().endswith(".json") or Path(law).is_file():
        from scalelaw.protocol import load

        return check_law(load(law), source=law)
    raise LawError(
        f"unknown law {law!r}; choose one of {', '.join(NAMES)} or give a FIT.json written by "
        "the law's to_json or 'scalelaw hparams fit'"
    )
