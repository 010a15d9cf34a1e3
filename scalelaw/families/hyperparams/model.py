"""A hyperparameter law: an optimal learning-rate law and an optimal batch-size law used together.

:class:`HyperparamLaw` holds one :class:`~scalelaw.result.FitResult` per law form (for example
``lr(N,D)`` and ``batch(D)``), says which pair it recommends with (``use``), what it was measured
on (:class:`LawInfo`: variables, batch unit, setting, ranges) and, for a fitted sweep, the groups
and the loss surfaces of the plateau.  Published laws are the same object with fixed coefficients
(and, for Step Law, its released bootstrap rows as draws).  It round-trips through the
``scalelaw.hparams/1`` JSON artifact.

Batch sizes are in tokens throughout; learning rates are peak learning rates.

Examples
--------
>>> from scalelaw.families.hyperparams.published import published
>>> law = published("steplaw", bootstrap_file=False)
>>> law.formulas()["lr"]
'lr = 1.79 N^-0.713 D^0.307'
>>> p = law.predict(inputs(7e9, 1.4e12))
>>> f"{p['lr'][0]:.3g} {p['batch_size'][0]:.3g}"
'0.000917 5e+06'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import artifact
from scalelaw.errors import ArtifactError
from scalelaw.families.hyperparams.plateau import Plateau
from scalelaw.result import FitResult

SCHEMA = "scalelaw.hparams/1"
#: Quantity predicted by each kind of law, as the artifact and ``predict`` name it.
TARGETS = {"lr": "lr", "batch": "batch_size"}
_SYMBOL_TEXT = {"lr": "lr", "batch_size": "B"}


def inputs(
    params,
    tokens,
    *,
    seq_len: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
) -> dict[str, np.ndarray]:
    """The columns every law reads: N, D, C = 6 N D and DeepSeek's non-embedding FLOPs M D.

    Parameters
    ----------
    params, tokens
        Model size N (non-embedding parameters; for MoE the total) and training tokens D.
    seq_len, n_layers, d_model
        With all three, ``nonembedding_flops`` adds the attention term:
        M = 6 N + 12 n_layers d_model seq_len FLOPs per token; otherwise it is 6 N D.
    """
    n = np.atleast_1d(np.asarray(params, dtype=float))
    d = np.atleast_1d(np.asarray(tokens, dtype=float))
    attention = 0.0
    if seq_len is not None and n_layers is not None and d_model is not None:
        attention = 12.0 * float(n_layers) * float(d_model) * float(seq_len)
    return {"params": n, "tokens": d, "flops": 6.0 * n * d, "nonembedding_flops": (6.0 * n + attention) * d}


@dataclass(frozen=True)
class LawInfo:
    """What a hyperparameter law is and where it was measured.

    Attributes
    ----------
    name
        ``steplaw``, ``deepseek``, ``porian`` or ``fit:<file>``.
    title, reference
        Who published it (or which sweep it was fitted to).
    variables
        Its independent variables and how they are counted.
    batch_unit
        Always ``tokens`` here (every law is converted to tokens).
    setting
        Optimizer, schedule and model family of the measurements.
    seq_len
        Sequence length of the measurements, tokens (None when unknown).
    ranges
        Column -> (min, max) of the measurements: ``params``, ``tokens``, ``tokens_per_param``,
        ``flops`` or ``nonembedding_flops``.
    assumptions
        Points a user must match, in words.
    """

    name: str
    title: str
    reference: str
    variables: str
    batch_unit: str = "tokens"
    setting: str = ""
    seq_len: float | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "reference": self.reference,
            "variables": self.variables,
            "batch_unit": self.batch_unit,
            "setting": self.setting,
            "seq_len": self.seq_len,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "assumptions": list(self.assumptions),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> LawInfo:
        return cls(
            name=d["name"],
            title=d["title"],
            reference=d["reference"],
            variables=d["variables"],
            batch_unit=d.get("batch_unit", "tokens"),
            setting=d.get("setting", ""),
            seq_len=d.get("seq_len"),
            ranges={k: tuple(v) for k, v in d.get("ranges", {}).items()},
            assumptions=tuple(d.get("assumptions", ())),
        )


def _symbol_inputs(fit: FitResult, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {s: np.asarray(data[fit.law.column(s)], dtype=float) for s in fit.law.inputs}


def coefficient_draws(fit: FitResult) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """The law as ``c * X^alpha_X * ...`` in raw units: point values and bootstrap draws.

    ``c`` is the law evaluated with every input at 1 (so a centred fit gives its uncentred
    coefficient); the exponents are the ``alpha_*`` parameters.
    """
    ones = {s: np.ones(1) for s in fit.law.inputs}
    point = {"c": float(fit.law.evaluate(ones, fit.params)[0])}
    point |= {n: float(v) for n, v in fit.params.items() if n.startswith("alpha_")}
    if fit.bootstrap is None:
        return point, None
    draws = {"c": fit.law.evaluate_draws(ones, fit.bootstrap)[:, 0]}
    draws |= {n: v for n, v in fit.draws().items() if n.startswith("alpha_")}
    return point, draws


def formula_text(fit: FitResult) -> str:
    """``'lr = 1.79 N^-0.713 D^0.307'``: the law in raw units, 4 significant digits."""
    point, _ = coefficient_draws(fit)
    terms = " ".join(f"{s}^{point['alpha_' + s]:.4g}" for s in fit.law.inputs)
    return f"{_SYMBOL_TEXT.get(fit.law.target, fit.law.target)} = {point['c']:.4g} {terms}"


@dataclass(frozen=True)
class HyperparamLaw(artifact.JsonArtifact):
    """An optimal learning-rate law and an optimal batch-size law (tokens), used as a pair.

    Attributes
    ----------
    info
        What the law is and where it was measured (:class:`LawInfo`).
    fits
        Form name (``"lr(N,D)"``, ``"batch(D)"``, ...) -> fit.  Published laws hold two.
    use
        The (learning-rate form, batch form) pair that predictions use.
    plateau
        Per-group loss surfaces of a fitted sweep (:class:`~.plateau.Plateau`), or None.
    groups
        The fitted sweep's per-group table (see :class:`~.sweep.Sweep`), or None.
    settings
        Selection and fit settings, verbatim (a fitted law can be refitted from them).
    notes
        What was derived or dropped while fitting.
    """

    SCHEMA = SCHEMA

    info: LawInfo
    fits: Mapping[str, FitResult]
    use: tuple[str, str]
    plateau: Plateau | None = None
    groups: pd.DataFrame | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [k for k in self.use if k not in self.fits]
        if missing:
            raise ArtifactError(
                f"hyperparameter law {self.info.name!r} uses {missing}, which it does not hold"
            )

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def lr(self) -> FitResult:
        return self.fits[self.use[0]]

    @property
    def batch(self) -> FitResult:
        return self.fits[self.use[1]]

    @property
    def level(self) -> float:
        return self.lr.level

    @property
    def has_bootstrap(self) -> bool:
        return self.lr.bootstrap is not None and self.batch.bootstrap is not None

    def predict(self, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Optimal ``lr`` and ``batch_size`` (tokens) at the columns of :func:`inputs`."""
        return {"lr": self.lr.predict(data), "batch_size": self.batch.predict(data)}

    def draws(self, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """Bootstrap predictions, (draws, points) per quantity, or None without a bootstrap."""
        if not self.has_bootstrap:
            return None
        return {
            key: fit.law.evaluate_draws(_symbol_inputs(fit, data), fit.bootstrap)
            for key, fit in (("lr", self.lr), ("batch_size", self.batch))
        }

    def intervals(self, data: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]] | None:
        """Median and percentile bounds of the bootstrap predictions (5/50/95% at level 0.9)."""
        draws = self.draws(data)
        if draws is None:
            return None
        tail = 50.0 * (1.0 - self.level)
        out = {}
        for key, values in draws.items():
            lo, mid, hi = np.nanpercentile(values, [tail, 50.0, 100.0 - tail], axis=0)
            out[key] = {"median": mid, "lower": lo, "upper": hi}
        return out

    def formulas(self) -> dict[str, str]:
        """The two laws in raw units, e.g. ``{'lr': 'lr = 1.79 N^-0.713 D^0.307', ...}``."""
        return {"lr": formula_text(self.lr), "batch_size": formula_text(self.batch)}

    def coefficients(self) -> pd.DataFrame:
        """One row per coefficient of every held fit: value and percentile interval (raw units)."""
        rows = []
        for form, fit in self.fits.items():
            point, draws = coefficient_draws(fit)
            tail = 50.0 * (1.0 - fit.level)
            for name, value in point.items():
                lo, hi = (
                    np.nanpercentile(draws[name], [tail, 100 - tail])
                    if draws is not None
                    else (np.nan, np.nan)
                )
                rows.append(
                    {
                        "form": form,
                        "coefficient": name,
                        "value": value,
                        "lower": float(lo),
                        "upper": float(hi),
                        "used": form in self.use,
                    }
                )
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ artifact
    def to_dict(self) -> dict:
        """The ``scalelaw.hparams/1`` artifact as a dict."""
        return {
            **artifact.header("hyperparams", SCHEMA),
            "info": self.info.to_dict(),
            "use": {"lr": self.use[0], "batch": self.use[1]},
            "formulas": self.formulas(),
            "fits": {k: f.to_dict() for k, f in self.fits.items()},
            "plateau": None if self.plateau is None else self.plateau.to_dict(),
            "groups": None if self.groups is None else self.groups.to_dict(orient="records"),
            "settings": dict(self.settings),
            "notes": list(self.notes),
        }


    @classmethod
    def from_dict(cls, payload: Mapping, *, source: str = "artifact") -> HyperparamLaw:
        payload = artifact.check(dict(payload), schema=SCHEMA, source=source)
        try:
            fits = {k: FitResult.from_dict(v, source=f"{source} ({k})") for k, v in payload["fits"].items()}
            plateau = payload.get("plateau")
            groups = payload.get("groups")
            return cls(
                info=LawInfo.from_dict(payload["info"]),
                fits=fits,
                use=(payload["use"]["lr"], payload["use"]["batch"]),
                plateau=None if plateau is None else Plateau.from_dict(plateau),
                groups=None if groups is None else pd.DataFrame(groups),
                settings=payload.get("settings", {}),
                notes=tuple(payload.get("notes", ())),
            )
        except ArtifactError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(
                f"{source}: the hyperparameter artifact is incomplete ({err!r}); "
                "write it again with 'scalelaw hparams fit --out'"
            ) from err

