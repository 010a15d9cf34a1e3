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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import extrapolation, protocol, schema
from scalelaw.errors import InputError
from scalelaw.families.hyperparams import model
from scalelaw.families.hyperparams.model import inputs
from scalelaw.families.hyperparams.plateau import TOLERANCES, Plateau
from scalelaw.result import FitGroup

#: Tokens per sequence when none is given (Step Law's and Porian's setting).
DEFAULT_SEQ_LEN = 2048.0
_WHAT = {
    "params": "N (parameters)",
    "tokens": "D (tokens)",
    "tokens_per_param": "D/N",
    "flops": "C = 6 N D (FLOPs)",
    "nonembedding_flops": "C (non-embedding FLOPs)",
}
_QUANTITIES = {"lr": "peak learning rate", "batch_size": "batch size (tokens)",
               "batch_size_sequences": "batch size (sequences)"}


@dataclass(frozen=True)
class Recommendation(protocol.Result):
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
        The laws in words and numbers, what they assume, and what differs here (extrapolation
        beyond the law's measured ranges, another sequence length, ...).
    settings
        The keyword arguments of :func:`recommend` besides the law and a separate ``plateau``:
        ``recommend(law, **r.settings)`` recommends again.
    """

    FAMILY = "hyperparams"
    KIND = "recommendation"
    DERIVED = ("tokens_per_param",)
    TITLE = "hyperparameter recommendation"

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
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "assumptions", tuple(self.assumptions))

    @classmethod
    def check_payload(cls, payload: Mapping) -> None:
        """Refuse sizes, learning rates and batch sizes that are not finite and positive, and
        intervals, formulas or a fixed-batch answer without the numbers the report reads."""
        for key in ("params", "tokens", "seq_len", "lr", "batch_size", "batch_size_sequences"):
            schema.number(payload[key], key, positive=True)
        schema.fields_of(payload["formulas"], {"lr": str, "batch_size": str}, "formulas", required=True)
        if payload["intervals"] is not None:
            intervals = payload["intervals"]
            schema.fields_of(intervals, {"level": float, "source": str}, "intervals", required=True)
            for key in _QUANTITIES:
                schema.fields_of(intervals.get(key), dict.fromkeys(("median", "lower", "upper"), float),
                                 f"intervals.{key}", required=True)
            level = intervals["level"]
            if not 0 < level < 1:
                schema.refuse("intervals.level", f"must lie in (0, 1), got {level!r}")
        if payload["at_batch_size"] is not None:
            schema.fields_of(payload["at_batch_size"], {"batch_size": float, "lr": float, "rule": str},
                             "at_batch_size", required=True)

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict:
        """The artifact: every field, and D/N as ``tokens_per_param``."""
        return {**super().to_dict(), "tokens_per_param": self.tokens_per_param}

    def summary(self) -> pd.DataFrame:
        """One row per quantity: the optimum, the bootstrap median and interval, and per plateau
        tolerance the range that keeps the loss within it (one setting moved at a time)."""
        rows = []
        for key, label in _QUANTITIES.items():
            row = {"quantity": label, "value": getattr(self, key)}
            band = (self.intervals or {}).get(key, {})
            row |= {k: band.get(k, math.nan) for k in ("median", "lower", "upper")}
            for p in self.plateau or ():
                low, high = p[key] if key in p else (math.nan, math.nan)
                row |= {f"within {100 * p['tolerance']:g}%: low": low, f"within {100 * p['tolerance']:g}%: high": high}
            rows.append(row)
        if self.at_batch_size:
            a = self.at_batch_size
            rows.append({"quantity": f"peak learning rate at batch {a['batch_size']:.4g}", "value": a["lr"]})
        return pd.DataFrame(rows).set_index("quantity")

    def report(self) -> str:
        lines = [f"{self.TITLE}: {self.law} ({self.formulas['lr']}, {self.formulas['batch_size']})",
                 f"N = {self.params:.4g}, D = {self.tokens:.4g} (D/N = {self.tokens_per_param:.3g}), "
                 f"sequence length {self.seq_len:g}",
                 self.summary().to_string(float_format=lambda v: f"{v:.6g}")]
        if self.intervals:
            lines.append(f"intervals: {100 * self.intervals['level']:g}% from {self.intervals['source']}")
        if self.ridge_slope is not None:
            lines.append(f"moving the batch size B, move the lr as B^{self.ridge_slope:.3f}")
        if self.at_batch_size:
            lines.append(f"at batch {self.at_batch_size['batch_size']:.4g} tokens: {self.at_batch_size['rule']}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """The recommended (lr, batch) with its interval and plateau boxes, on log axes."""
        from scalelaw.plots.hparams import recommendation_panel

        return recommendation_panel(self, ax=ax)


def _positive(name: str, value) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} {value!r} must be a positive number")
    return number


def _range_warnings(law: FitGroup, values: dict[str, float]) -> list[str]:
    """N, D and D/N outside what the law was measured on, with the factor."""
    out = []
    for key, (lo, hi) in model.about(law).ranges.items():
        value = values.get(key)
        if value is not None and not lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9):
            far = extrapolation.distance(value, lo, hi)
            out.append(
                f"{_WHAT[key]} = {value:.3g} is outside {lo:.3g} to {hi:.3g}, the range "
                f"{model.law_name(law)} was measured on: extrapolating" + (f", {far} measured" if far else "")
            )
    return out


def recommend(
    law: FitGroup,
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
        A published or fitted law (:mod:`.model`).
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
    settings = {"params": params, "tokens": tokens, "seq_len": seq_len, "batch_size": batch_size,
                "n_layers": n_layers, "d_model": d_model, "moe": bool(moe),
                "tolerances": [float(t) for t in tolerances]}
    model.check_law(law, source="law")
    name, info = model.law_name(law), model.about(law)
    params, tokens = _positive("params", params), _positive("tokens", tokens)
    seq_len = _positive("seq_len", DEFAULT_SEQ_LEN if seq_len is None else seq_len)
    if batch_size is not None:
        batch_size = _positive("batch_size", batch_size)
    data = inputs(params, tokens, seq_len=seq_len, n_layers=n_layers, d_model=d_model)
    point = model.predict(law, data, warn=False)
    lr, batch = float(point["lr"][0]), float(point["batch_size"][0])
    warnings = _range_warnings(
        law, {k: float(v[0]) for k, v in data.items()} | {"tokens_per_param": tokens / params}
    )
    uses_attention = any(
        f.law.column(s) == "nonembedding_flops"
        for f in (model.lr_fit(law), model.batch_fit(law))
        for s in f.law.inputs
    )
    if uses_attention and (n_layers is None or d_model is None):
        warnings.append(
            "C counted as 6 N D without the attention term; give the number of layers and "
            "d_model to count it as the law does"
        )
    if info.seq_len is not None and not math.isclose(seq_len, info.seq_len):
        warnings.append(
            f"{name} was measured at sequence length {info.seq_len:g}, not {seq_len:g}; "
            "the batch size is kept in tokens"
        )
    if moe:
        warnings.append(
            "mixture of experts: count N as total (not active) non-embedding parameters; on Step "
            "Law's MoE sweeps the law lands 0.16% from the optimum with total and 1.00% with active"
            if name == "steplaw"
            else f"mixture of experts: {name} was measured on dense models; count N as total parameters"
        )
    intervals = None
    bands = model.intervals(law, data)
    if bands is not None:
        source = (
            f"Step Law's bootstrap coefficient rows ({law.settings.get('bootstrap_file')})"
            if name == "steplaw"
            else f"bootstrap of the fit ({len(model.lr_fit(law).bootstrap)} replicates)"
        )
        intervals = {"level": model.level(law), "source": source}
        for key, values in bands.items():
            intervals[key] = {k: float(v[0]) for k, v in values.items()}
        intervals["batch_size_sequences"] = {k: v / seq_len for k, v in intervals["batch_size"].items()}
    surfaces = law.info.get("plateau") if law.info.get("plateau") is not None else plateau
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
        law=name,
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
        formulas=model.formulas(law),
        assumptions=(info.setting, *info.assumptions),
        warnings=extrapolation.emit(warnings),
        settings=settings,
    )


def recommend_table(
    law: FitGroup, params: Sequence[float], tokens: Sequence[float], **options
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
