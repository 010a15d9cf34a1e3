"""Evaluating a hyperparameter law on a sweep: the loss it leaves on the table.

For each (N, D) group, the run nearest (Euclidean in ln lr, ln B) to the law's predicted
(lr, B) is taken, and its relative excess over the group's minimum loss is the law's gap there
(Step Law's metric, section 1.5 of its paper: (L(lr, B) - L*) / L*).  Every run with a finite loss
is a candidate, so a law that lands on a diverging setting is charged for it.  ``off_grid`` marks
a prediction outside the group's lr or batch range (the nearest run is then on the edge).

:func:`cross_validate` refits a law with its own settings on all groups but one and measures the
gap on the group left out: a held-out test of the fitting recipe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import extrapolation, protocol
from scalelaw.families.hyperparams import model
from scalelaw.families.hyperparams.fitting import fit_sweep
from scalelaw.families.hyperparams.sweep import Sweep
from scalelaw.result import FitGroup

#: The settings of a law that :func:`cross_validate` refits with, and their defaults.
REFIT = {"lr_form": "N,D", "batch_form": "D", "loss": "squared", "delta": 1e-3}


@dataclass(frozen=True)
class Evaluation(protocol.Result):
    """Per-group gaps of one law on one sweep.

    Attributes
    ----------
    law
        The law's name.
    kind
        ``"in-sample"`` (the law as given) or ``"leave-one-group-out"``.
    groups
        One row per group: ``group``, ``params``, ``tokens``, the law's ``lr`` and
        ``batch_size`` (tokens), the nearest run's ``lr_run``, ``batch_run`` and ``loss_run``,
        the group's ``loss_min``, ``gap`` (a fraction) and ``off_grid``.
    warnings
        What the gaps rest on (a FLOPs count without the attention term, ...).
    settings
        For a cross-validation, the refit settings (``cross_validate(sweep, e.settings)`` again);
        empty for an in-sample evaluation (its inputs are the sweep and the law).
    """

    FAMILY = "hyperparams"
    KIND = "evaluation"
    DERIVED = ("mean_gap", "median_gap", "max_gap", "n_groups")

    law: str
    kind: str
    groups: pd.DataFrame
    warnings: tuple[str, ...] = ()
    settings: Mapping[str, object] = field(default_factory=dict)


    @property
    def TITLE(self) -> str:  # noqa: N802 (the protocol's class-level name)
        return f"{self.law} on a sweep ({self.kind}): gap of the run nearest the law's (lr, batch)"

    @property
    def mean_gap(self) -> float:
        return float(self.groups["gap"].mean())

    @property
    def median_gap(self) -> float:
        return float(self.groups["gap"].median())

    @property
    def max_gap(self) -> float:
        return float(self.groups["gap"].max())

    def to_dict(self) -> dict:
        """The artifact: every field, and the mean, median and largest gap over the groups."""
        return {**super().to_dict(), "mean_gap": self.mean_gap, "median_gap": self.median_gap,
                "max_gap": self.max_gap, "n_groups": int(len(self.groups))}

    def summary(self) -> pd.DataFrame:
        """The per-group table, indexed by group."""
        return self.groups.set_index("group")

    def report(self) -> str:
        lines = [self.TITLE, self.summary().to_string(float_format=lambda v: f"{v:.6g}"),
                 f"mean gap {100 * self.mean_gap:.3g}%, median {100 * self.median_gap:.3g}%, "
                 f"max {100 * self.max_gap:.3g}% over {len(self.groups)} groups"]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """The gap of each group, in percent (off-grid predictions hatched)."""
        from scalelaw.plots.hparams import evaluation_gaps

        return evaluation_gaps(self, ax=ax)


def group_inputs(sweep: Sweep) -> pd.DataFrame:
    """Per usable group: ``group``, ``params``, ``tokens``, ``flops``, ``nonembedding_flops``."""
    first = sweep.runs.groupby("group")[["flops", "nonembedding_flops"]].first()
    return sweep.groups[["group", "params", "tokens"]].join(first, on="group")


def _gap(runs: pd.DataFrame, lr: float, batch: float) -> dict:
    candidates = runs[np.isfinite(runs["objective"].to_numpy(float))]
    ln_lr, ln_b = np.log(candidates["lr"].to_numpy(float)), np.log(candidates["batch_size"].to_numpy(float))
    distance = (ln_lr - np.log(lr)) ** 2 + (ln_b - np.log(batch)) ** 2
    nearest = candidates.iloc[int(np.argmin(distance))]
    floor = float(runs.loc[~runs["diverged"], "objective"].min())
    off = not (ln_lr.min() <= np.log(lr) <= ln_lr.max() and ln_b.min() <= np.log(batch) <= ln_b.max())
    return {
        "lr_run": float(nearest["lr"]),
        "batch_run": float(nearest["batch_size"]),
        "loss_run": float(nearest["objective"]),
        "loss_min": floor,
        "gap": float(nearest["objective"] / floor - 1.0),
        "off_grid": bool(off),
    }


def _table(sweep: Sweep, predict: Callable[[pd.Series], tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for g in group_inputs(sweep).itertuples(index=False):
        point = pd.Series(g._asdict())
        lr, batch = predict(point)
        runs = sweep.runs[sweep.runs["group"] == g.group]
        rows.append(
            {"group": g.group, "params": g.params, "tokens": g.tokens, "lr": lr, "batch_size": batch}
            | _gap(runs, lr, batch)
        )
    return pd.DataFrame(rows)


def _predictor(law: FitGroup) -> Callable[[pd.Series], tuple[float, float]]:
    def predict(point: pd.Series) -> tuple[float, float]:
        data = {k: np.array([float(point[k])]) for k in ("params", "tokens", "flops", "nonembedding_flops")}
        p = model.predict(law, data)
        return float(p["lr"][0]), float(p["batch_size"][0])

    return predict


def evaluate(sweep: Sweep, law: FitGroup) -> Evaluation:
    """The gap of ``law`` (published or fitted, see :mod:`.model`) on every usable group of ``sweep``."""
    model.check_law(law, source="law")
    name = model.law_name(law)
    notes = list(sweep.warnings)
    reads = {f.law.column(s) for f in (model.lr_fit(law), model.batch_fit(law)) for s in f.law.inputs}
    known = sweep.runs[["n_layers", "d_model", "seq_len"]].notna().all(axis=1).all()
    if "nonembedding_flops" in reads and not known:
        notes.append(
            f"{name}: C counted as 6 N D (the sweep lacks n_layers, d_model or seq_len for the "
            "attention term)"
        )
    notes += extrapolation.emit(_range_warnings(law, group_inputs(sweep)))
    return Evaluation(name, "in-sample", _table(sweep, _predictor(law)), tuple(notes))


def _range_warnings(law: FitGroup, groups: pd.DataFrame) -> tuple[str, ...]:
    """The sweep's groups outside what the law was measured on (N, D, D/N, compute), with the factor."""
    n, d = groups["params"].to_numpy(dtype=float), groups["tokens"].to_numpy(dtype=float)
    values = {"params": n, "tokens": d, "tokens_per_param": d / n, "flops": groups["flops"].to_numpy(dtype=float),
              "nonembedding_flops": groups["nonembedding_flops"].to_numpy(dtype=float)}
    names = {"params": "N (parameters)", "tokens": "D (tokens)", "tokens_per_param": "D/N",
             "flops": "C (FLOPs)", "nonembedding_flops": "M D (non-embedding FLOPs)"}
    text = extrapolation.check(model.about(law).ranges, values, names=names, of=f"{model.law_name(law)} measured")
    return tuple(f"{model.law_name(law)}: {t}" for t in text)


def cross_validate(sweep: Sweep, settings: Mapping[str, object] | FitGroup) -> Evaluation:
    """Leave-one-group-out: refit on the other groups with ``settings`` (or a fitted law's), test on
    the one left out.

    The settings used are ``lr_form``, ``batch_form``, ``loss`` and ``delta``; the sweep's own
    selection (band, diverged runs) applies.
    """
    fitted = model.is_law(settings)
    name = model.law_name(settings) if fitted else "fit"
    s = dict(settings.settings if fitted else settings)
    options = {k: s.get(k, default) for k, default in REFIT.items()}
    options["delta"] = float(options["delta"])
    laws: dict[str, FitGroup] = {}
    for group in sweep.groups["group"]:
        laws[group] = fit_sweep(
            sweep.without(group), bootstrap=0, plateau_window=0, alternatives=False, **options
        )

    def predict(point: pd.Series) -> tuple[float, float]:
        return _predictor(laws[point["group"]])(point)

    return Evaluation(name, "leave-one-group-out", _table(sweep, predict), settings=options)


def evaluations(in_sample: Evaluation, held_out: Evaluation) -> FitGroup:
    """An in-sample evaluation and a cross-validation of the same law kept together, as one group
    (keys ``in-sample`` and ``leave-one-group-out``; settings those of the cross-validation)."""
    return FitGroup("hyperparams", "evaluations", {in_sample.kind: in_sample, held_out.kind: held_out},
                    key="evaluation", settings=held_out.settings,
                    warnings=tuple(dict.fromkeys((*in_sample.warnings, *held_out.warnings))))
