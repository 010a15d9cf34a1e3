"""A hyperparameter law: an optimal learning-rate law and an optimal batch-size law used together.

A law is a :class:`~scalelaw.result.FitGroup` (family ``hyperparams``, kind ``law``, key ``form``)
holding one :class:`~scalelaw.result.FitResult` per law form (for example ``lr(N,D)`` and
``batch(D)``).  Its ``info`` says what it is and where it was measured (``law``: a
:class:`LawInfo`), which pair it recommends with (``use``: ``{"lr": form, "batch": form}``), the
two laws in raw units (``formulas``) and, for a fitted sweep, the loss surfaces (``plateau``: a
:class:`~.plateau.Plateau`), the per-group table (``groups``), how the near-optimal runs were
selected (``selection``) and how many were fitted (``rows``).  Published laws are the same object
with fixed coefficients (and, for Step Law, its released bootstrap rows as draws).  It is stored
as the ``scalelaw.core.group/1`` artifact (files written as ``scalelaw.hparams/1`` still load).

The questions a law answers are functions of the group: :func:`predict`, :func:`draws`,
:func:`intervals`, :func:`formulas`, :func:`coefficients`, :func:`lr_fit`, :func:`batch_fit`.
Batch sizes are in tokens throughout; learning rates are peak learning rates.

Examples
--------
>>> from scalelaw.families.hyperparams.published import published
>>> law = published("steplaw", bootstrap_file=False)
>>> formulas(law)["lr"]
'lr = 1.79 N^-0.713 D^0.307'
>>> p = predict(law, inputs(7e9, 1.4e12))
>>> f"{p['lr'][0]:.3g} {p['batch_size'][0]:.3g}"
'0.000917 5e+06'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import artifact, protocol
from scalelaw.errors import ArtifactError, InputError
from scalelaw.families.hyperparams.plateau import Plateau
from scalelaw.result import FitGroup, FitResult

#: The schema hyperparameter laws were written with before the result protocol.
LEGACY_SCHEMA = "scalelaw.hparams/1"
FAMILY, KIND, KEY = "hyperparams", "law", "form"
#: Settings of a sweep's selection (:func:`~.sweep.select`), kept in ``info["selection"]``.
SELECTION = ("band", "diverge_ratio", "max_loss", "objective", "exclude_edge")
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


@protocol.value_kind("hyperparams.law_info")
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


def law_group(
    info: LawInfo,
    fits: Mapping[str, FitResult],
    use: tuple[str, str],
    *,
    plateau: Plateau | None = None,
    groups: pd.DataFrame | None = None,
    selection: Mapping[str, object] | None = None,
    rows: int | None = None,
    settings: Mapping[str, object] | None = None,
    warnings: tuple[str, ...] | list[str] = (),
) -> FitGroup:
    """A hyperparameter law as a :class:`~scalelaw.result.FitGroup` (see the module docstring).

    ``use`` is the (learning-rate form, batch form) pair that predictions use; ``settings`` are
    the keyword arguments of the call that made the law (:func:`~.fitting.fit_sweep` or
    :func:`~.published.published`).
    """
    missing = [k for k in use if k not in fits]
    if missing:
        raise ArtifactError(f"hyperparameter law {info.name!r} uses {missing}, which it does not hold")
    lr, batch = fits[use[0]], fits[use[1]]
    facts = {
        "law": info,
        "use": {"lr": use[0], "batch": use[1]},
        "formulas": {"lr": formula_text(lr), "batch_size": formula_text(batch)},
        "plateau": plateau,
        "groups": groups,
    }
    if selection is not None:
        facts["selection"] = dict(selection)
    if rows is not None:
        facts["rows"] = int(rows)
    return FitGroup(FAMILY, KIND, dict(fits), key=KEY, settings=settings or {}, info=facts,
                    warnings=tuple(warnings))


def is_law(value: object) -> bool:
    """Whether ``value`` is a hyperparameter law (a group of family ``hyperparams``, kind ``law``)."""
    return isinstance(value, FitGroup) and value.family == FAMILY and value.kind == KIND


def check_law(value: object, *, source: str = "law") -> FitGroup:
    """``value`` if it is a hyperparameter law, else an InputError naming ``source``."""
    if not is_law(value):
        what = f"a {value.family} {value.kind}" if isinstance(value, FitGroup) else f"a {type(value).__name__}"
        raise InputError(f"{source}: {what} is not a hyperparameter law; give published(name), "
                         "a law from fit_sweep or the artifact of one")
    return value


# ------------------------------------------------------------------------------ questions of a law
def law_name(law: FitGroup) -> str:
    """``steplaw``, ``deepseek``, ``porian`` or ``fit:<file>``."""
    return law.info["law"].name


def about(law: FitGroup) -> LawInfo:
    """What the law is and where it was measured."""
    return law.info["law"]


def lr_fit(law: FitGroup) -> FitResult:
    """The learning-rate law that predictions use."""
    return law.fits[law.info["use"]["lr"]]


def batch_fit(law: FitGroup) -> FitResult:
    """The batch-size law (tokens) that predictions use."""
    return law.fits[law.info["use"]["batch"]]


def used(law: FitGroup) -> tuple[str, str]:
    """The (learning-rate form, batch form) pair that predictions use."""
    return law.info["use"]["lr"], law.info["use"]["batch"]


def level(law: FitGroup) -> float:
    """The interval level of the law's bootstrap (0.9: 5 to 95%)."""
    return lr_fit(law).level


def has_bootstrap(law: FitGroup) -> bool:
    """Whether both used laws carry bootstrap draws."""
    return lr_fit(law).bootstrap is not None and batch_fit(law).bootstrap is not None


def predict(law: FitGroup, data: Mapping[str, np.ndarray], *, warn: bool = True) -> dict[str, np.ndarray]:
    """Optimal ``lr`` and ``batch_size`` (tokens) at the columns of :func:`inputs`."""
    return {"lr": lr_fit(law).predict(data, warn=warn), "batch_size": batch_fit(law).predict(data, warn=warn)}


def draws(law: FitGroup, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """Bootstrap predictions, (draws, points) per quantity, or None without a bootstrap."""
    if not has_bootstrap(law):
        return None
    return {
        key: fit.law.evaluate_draws(_symbol_inputs(fit, data), fit.bootstrap)
        for key, fit in (("lr", lr_fit(law)), ("batch_size", batch_fit(law)))
    }


def intervals(law: FitGroup, data: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]] | None:
    """Median and percentile bounds of the bootstrap predictions (5/50/95% at level 0.9)."""
    samples = draws(law, data)
    if samples is None:
        return None
    tail = 50.0 * (1.0 - level(law))
    out = {}
    for key, values in samples.items():
        lo, mid, hi = np.nanpercentile(values, [tail, 50.0, 100.0 - tail], axis=0)
        out[key] = {"median": mid, "lower": lo, "upper": hi}
    return out


def formulas(law: FitGroup) -> dict[str, str]:
    """The two laws in raw units, e.g. ``{'lr': 'lr = 1.79 N^-0.713 D^0.307', ...}``."""
    return {"lr": formula_text(lr_fit(law)), "batch_size": formula_text(batch_fit(law))}


def coefficients(law: FitGroup) -> pd.DataFrame:
    """One row per coefficient of every held fit: value and percentile interval (raw units)."""
    rows = []
    chosen = used(law)
    for form, fit in law.fits.items():
        point, samples = coefficient_draws(fit)
        tail = 50.0 * (1.0 - fit.level)
        for name, value in point.items():
            lo, hi = (
                np.nanpercentile(samples[name], [tail, 100 - tail]) if samples is not None else (np.nan, np.nan)
            )
            rows.append({"form": form, "coefficient": name, "value": value, "lower": float(lo),
                         "upper": float(hi), "used": form in chosen})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ older artifacts
@protocol.legacy(LEGACY_SCHEMA)
def _read_legacy_law(payload: dict, source: str) -> FitGroup:
    """A ``scalelaw.hparams/1`` file: its settings split into the fit's, the selection and the count."""
    payload = artifact.check(payload, schema=LEGACY_SCHEMA, source=source)
    try:
        fits = {k: FitResult.from_dict(v, source=f"{source} ({k})") for k, v in payload["fits"].items()}
        plateau, groups = payload.get("plateau"), payload.get("groups")
        old = dict(payload.get("settings", {}))
        selection = {k: old.pop(k) for k in SELECTION if k in old}
        rows = old.pop("rows", None)
        old.pop("groups", None)
        if old.get("bootstrap_file", False) is None:
            old["bootstrap_file"] = False
        return law_group(
            LawInfo.from_dict(payload["info"]),
            fits,
            (payload["use"]["lr"], payload["use"]["batch"]),
            plateau=None if plateau is None else Plateau.from_dict(plateau),
            groups=None if groups is None else pd.DataFrame(groups),
            selection=selection or None,
            rows=rows,
            settings=old,
            warnings=tuple(payload.get("notes", ())),
        )
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ArtifactError(f"{source}: the hyperparameter artifact is incomplete ({err!r}); "
                            "fit it again with this scalelaw") from err
