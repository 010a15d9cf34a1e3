"""The recommendation: lr and batch size for a model of N parameters trained on D tokens.

:func:`recommend` answers with the law's optimum (batch in tokens and in sequences), the
bootstrap interval of each (5/50/95% of the bootstrap predictions for Step Law's released rows or
a fit's own bootstrap), the plateau (the lr and batch ranges that keep the loss within 0.25% and 1%
of the optimum, from a fitted sweep's loss surfaces), the lr to use at a given batch size, and
warnings when N, D or D/N lie outside what the law was measured on or its assumptions differ.

Examples
--------
>>> from scalelaw.families.hyperparams.published import published
>>> r = recommend(published("steplaw", bootstrap_file=False), 7e9, 1.4e12)
>>> f"{r.lr:.3g} {r.batch_size / 1e6:.2f}M {r.batch_size_sequences:.0f}"
'0.000917 5.00M 2441'
>>> len(r.warnings) > 0   # 7B is outside the 0.21B-1.07B that Step Law swept
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.families.hyperparams.model import HyperparamLaw, inputs
from scalelaw.families.hyperparams.plateau import TOLERANCES, Plateau

#: Tokens per sequence when none is given (Step Law's and Porian's setting).
DEFAULT_SEQ_LEN = 2048.0
_WHAT = {
    "params": "N (parameters)",
    "tokens": "D (tokens)",
    "tokens_per_param": "D/N",
    "flops": "C = 6 N D (FLOPs)",
    "nonembedding_flops": "C (non-embedding FLOPs)",
}


@dataclass(frozen=True)
class Recommendation:
    """What to train with, how sure the law is, and what it assumes.

    Attributes
    ----------
    law
        The law's name.
    params, tokens, seq_len
        The target: N, D and tokens per sequence.
    lr, batch_size, batch_size_sequences
        The law's optimum: peak learning rate, batch size in tokens and in sequences.
    intervals
        None, or ``level``, ``source`` and per quantity ``median``, ``lower``, ``upper``.
    plateau
        None, or per tolerance: ``tolerance`` (fraction), ``lr`` [low, high] at the recommended
        batch and ``batch_size`` / ``batch_size_sequences`` [low, high] at the recommended lr (one
        at a time), and ``box`` (``lr``, ``batch_size``): ranges within which both can move at once.
    ridge_slope
        d ln lr / d ln B along the loss valley (from the plateau), or None.
    at_batch_size
        With a given batch size: ``batch_size``, ``batch_size_sequences``, ``lr``, ``rule`` and
        ``excess_loss`` (a fraction, None for the square-root rule).
    formulas, assumptions, warnings
        The laws in words and numbers, what they assume, and what differs here.
    """

    law: str
    params: float
    tokens: float
    seq_len: float
    lr: float
    batch_size: float
    batch_size_sequences: float
    intervals: dict | None
    plateau: list[dict] | None
    ridge_slope: float | None
    at_batch_size: dict | None
    formulas: dict
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tokens_per_param"] = self.tokens / self.params
        d["assumptions"], d["warnings"] = list(self.assumptions), list(self.warnings)
        return d


def _positive(name: str, value) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} {value!r} must be a positive number")
    return number


def _range_warnings(law: HyperparamLaw, values: dict[str, float]) -> list[str]:
    out = []
    for key, (lo, hi) in law.info.ranges.items():
        value = values.get(key)
        if value is not None and not lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9):
            out.append(
                f"{_WHAT[key]} = {value:.3g} is outside {lo:.3g} to {hi:.3g}, the range "
                f"{law.name} was measured on: extrapolating"
            )
    return out


def recommend(
    law: HyperparamLaw,
    params: float,
    tokens: float,
    *,
    seq_len: float | None = None,
    batch_size: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    moe: bool = False,
    plateau: Plateau | None = None,
    tolerances: Sequence[float] = TOLERANCES,
) -> Recommendation:
    """Recommend a peak learning rate and a batch size.

    Parameters
    ----------
    law
        A published or fitted :class:`~.model.HyperparamLaw`.
    params, tokens
        N (non-embedding parameters; for MoE the total) and D (training tokens).
    seq_len
        Tokens per sequence (default 2048); a warning says when it differs from the law's.
    batch_size
        A batch size (tokens) you must use: also give the lr for it.
    n_layers, d_model
        The architecture, for laws in non-embedding FLOPs with attention (DeepSeek).
    moe
        The model is a mixture of experts (adds the parameter-counting warning).
    plateau
        Loss surfaces to use when ``law`` has none (e.g. a fitted sweep's with a published law).
    tolerances
        Plateau tolerances, fractions of the loss.
    """
    params, tokens = _positive("params", params), _positive("tokens", tokens)
    seq_len = _positive("seq_len", DEFAULT_SEQ_LEN if seq_len is None else seq_len)
    if batch_size is not None:
        batch_size = _positive("batch_size", batch_size)
    data = inputs(params, tokens, seq_len=seq_len, n_layers=n_layers, d_model=d_model)
    point = law.predict(data)
    lr, batch = float(point["lr"][0]), float(point["batch_size"][0])
    warnings = _range_warnings(
        law, {k: float(v[0]) for k, v in data.items()} | {"tokens_per_param": tokens / params}
    )
    uses_attention = any(
        f.law.column(s) == "nonembedding_flops" for f in (law.lr, law.batch) for s in f.law.inputs
    )
    if uses_attention and (n_layers is None or d_model is None):
        warnings.append(
            "C counted as 6 N D without the attention term; give the number of layers and "
            "d_model to count it as the law does"
        )
    if law.info.seq_len is not None and not math.isclose(seq_len, law.info.seq_len):
        warnings.append(
            f"{law.name} was measured at sequence length {law.info.seq_len:g}, not {seq_len:g}; "
            "the batch size is kept in tokens"
        )
    if moe:
        warnings.append(
            "mixture of experts: count N as total (not active) non-embedding parameters; on Step "
            "Law's MoE sweeps the law lands 0.16% from the optimum with total and 1.00% with active"
            if law.name == "steplaw"
            else f"mixture of experts: {law.name} was measured on dense models; count N as total parameters"
        )
    intervals = None
    bands = law.intervals(data)
    if bands is not None:
        source = (
            f"Step Law's bootstrap coefficient rows ({law.settings.get('bootstrap_file')})"
            if law.name == "steplaw"
            else f"bootstrap of the fit ({len(law.lr.bootstrap)} replicates)"
        )
        intervals = {"level": law.level, "source": source}
        for key, values in bands.items():
            intervals[key] = {k: float(v[0]) for k, v in values.items()}
        intervals["batch_size_sequences"] = {k: v / seq_len for k, v in intervals["batch_size"].items()}
    surfaces = law.plateau if law.plateau is not None else plateau
    plateau_rows, slope = None, None
    if surfaces is not None:
        plateau_rows = []
        for t in tolerances:
            r = surfaces.ranges(lr, batch, params, tokens, _positive("tolerance", t))
            box = surfaces.box(lr, batch, params, tokens, t)
            plateau_rows.append(
                {
                    "tolerance": float(t),
                    "lr": list(r["lr"]),
                    "batch_size": list(r["batch_size"]),
                    "batch_size_sequences": [b / seq_len for b in r["batch_size"]],
                    "box": {"lr": list(box["lr"]), "batch_size": list(box["batch_size"])},
                }
            )
        slope = surfaces.ridge_slope(params, tokens)
    at = None
    if batch_size is not None:
        if surfaces is not None:
            new_lr, cost = surfaces.at_batch(lr, batch, batch_size, params, tokens)
            rule = f"ridge of the fitted loss surfaces, lr proportional to B^{slope:.3f}"
        else:
            new_lr, cost = lr * math.sqrt(batch_size / batch), None
            rule = "square-root rule for Adam, lr proportional to B^0.5 (no fitted loss surface)"
        at = {
            "batch_size": batch_size,
            "batch_size_sequences": batch_size / seq_len,
            "lr": float(new_lr),
            "rule": rule,
            "excess_loss": cost,
        }
    return Recommendation(
        law=law.name,
        params=params,
        tokens=tokens,
        seq_len=seq_len,
        lr=lr,
        batch_size=batch,
        batch_size_sequences=batch / seq_len,
        intervals=intervals,
        plateau=plateau_rows,
        ridge_slope=None if slope is None else float(slope),
        at_batch_size=at,
        formulas=law.formulas(),
        assumptions=(law.info.setting, *law.info.assumptions),
        warnings=tuple(warnings),
    )


def recommend_table(
    law: HyperparamLaw, params: Sequence[float], tokens: Sequence[float], **options
) -> pd.DataFrame:
    """:func:`recommend` for several (N, D) pairs, one row each: the optimum, its interval and the
    number of warnings (options as for :func:`recommend`)."""
    rows = []
    for n, d in zip(np.atleast_1d(params), np.atleast_1d(tokens), strict=True):
        r = recommend(law, float(n), float(d), **options)
        row = {
            "params": r.params,
            "tokens": r.tokens,
            "lr": r.lr,
            "batch_size": r.batch_size,
            "batch_size_sequences": r.batch_size_sequences,
        }
        if r.intervals is not None:
            for key in ("lr", "batch_size"):
                row |= {f"{key}_lower": r.intervals[key]["lower"], f"{key}_upper": r.intervals[key]["upper"]}
        if r.plateau is not None:
            first = r.plateau[0]
            row |= {"lr_plateau_low": first["lr"][0], "lr_plateau_high": first["lr"][1]}
        rows.append(row | {"warnings": len(r.warnings)})
    return pd.DataFrame(rows)
