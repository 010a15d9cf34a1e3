"""Fitting optimal learning-rate and batch-size laws to a sweep's near-optimal runs.

Every near-optimal run (within the band of its group's minimum, see :func:`~.sweep.select`) is one
row, as in Step Law.  The laws are power laws fitted in log space with centred regressors, by the
engine (residual sum of squares by default, the same estimate as ordinary least squares of
ln lr on ln N and ln D)::

    lr(N,D)    lr = c (N / N0)^alpha_N (D / D0)^alpha_D
    lr(C)      lr = c (C / C0)^alpha_C                   C = 6 N D
    batch(D)   B  = c (D / D0)^alpha_D                   B in tokens
    batch(N,D) B  = c (N / N0)^alpha_N (D / D0)^alpha_D
    batch(C)   B  = c (C / C0)^alpha_C

N0, D0, C0 are the geometric means of the fitted rows, so c and the exponents are nearly
uncorrelated (Step Law's uncentred bootstrap has a correlation of -0.999 between intercept and
slope).  Intervals come from the engine's bootstrap over rows, as Step Law's 1,000 resamples.

Examples
--------
>>> law = form_law("lr", "N,D", {"N": 4e8, "D": 2e10})
>>> law.formula
'c * (N / 400000000.0)**alpha_N * (D / 20000000000.0)**alpha_D'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scalelaw import engine
from scalelaw.catalogue.hyperparams import COLUMNS, WORDS, form_law
from scalelaw.engine import Progress
from scalelaw.errors import FitError, InputError
from scalelaw.families.hyperparams.model import LawInfo, law_group
from scalelaw.families.hyperparams.plateau import fit_plateau
from scalelaw.families.hyperparams.sweep import Sweep, select
from scalelaw.result import FitGroup

LR_FORMS = ("N,D", "C")
BATCH_FORMS = ("D", "N,D", "C")


def _unidentifiable(groups, form: str) -> str | None:
    """Why a form cannot be fitted to these groups (None when it can)."""
    symbols = form.split(",")
    logs = {"N": np.log(groups["params"].to_numpy(float)), "D": np.log(groups["tokens"].to_numpy(float))}
    logs["C"] = logs["N"] + logs["D"]
    design = np.column_stack([np.ones(len(groups)), *(logs[s] for s in symbols)])
    if np.linalg.matrix_rank(design, tol=1e-8 * max(1.0, np.abs(design).max())) < design.shape[1]:
        varying = " and ".join(WORDS[s] for s in symbols)
        return (
            f"{form} needs groups whose {varying} vary independently; the sweep's {len(groups)} "
            "groups do not (add groups at other sizes or token counts, or choose another form)"
        )
    return None


def _fit_runs(rows, *, picked: dict, path, chosen: dict, progress: Progress | None) -> FitGroup:
    """The laws of one group of a sweep's runs, selected as the whole sweep was (``picked``)."""
    marks = ["objective", "diverged", "excess", "near_optimal"]
    part = select(rows.drop(columns=marks, errors="ignore"), band=picked["band"],
                  diverge_ratio=picked["diverge_ratio"], max_loss=picked["max_loss"],
                  raw_loss=picked["objective"] == "loss", exclude_edge=picked["exclude_edge"], path=path)
    return fit_sweep(part, **chosen, progress=progress)


def fit_sweep(
    sweep: Sweep,
    *,
    lr_form: str = "N,D",
    batch_form: str = "D",
    loss: str = "squared",
    delta: float = 1e-3,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.90,
    plateau_window: float = 0.03,
    alternatives: bool = True,
    progress: Progress | None = None,
    by: str | Sequence[str] | None = None,
    strict: bool = False,
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
) -> FitGroup:
    """Fit the learning-rate and batch-size laws of a selected sweep: a law (see :mod:`.model`).

    Parameters
    ----------
    sweep
        From :func:`~.sweep.select`.
    lr_form, batch_form
        The pair to recommend with: ``lr_form`` in :data:`LR_FORMS`, ``batch_form`` in
        :data:`BATCH_FORMS`.  With ``alternatives`` every other identifiable form is fitted too.
    loss, delta
        The engine's loss (``squared`` = least squares in log space; ``huber`` with ``delta``
        in log units).
    bootstrap, seed, level
        Row-resampling replicates, their seed, and the interval level (0.9: 5-95%).
    plateau_window
        Fit the loss surfaces of :mod:`~.plateau` to runs within this fraction of each group's
        minimum; 0 for none.

    The law's ``settings`` are these keyword arguments (``fit_sweep(sweep, **law.settings)``
    fits it again); the sweep's selection is in ``info["selection"]``, the notes on what was
    derived or dropped are its ``warnings``.

    With ``by`` (columns of ``sweep.runs``, e.g. ``"numl"`` or a config column), the runs are split by
    those columns, each group selected as the sweep was (its ``settings``) and fitted alone: a
    :class:`~scalelaw.result.FitGroup` of laws (:func:`scalelaw.groups.each`, whose ``jobs``,
    ``backend`` and ``scheduler`` these are).
    """
    if by is not None:
        from scalelaw import groups, parallel

        chosen = {"lr_form": lr_form, "batch_form": batch_form, "loss": loss, "delta": float(delta),
                  "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level),
                  "plateau_window": float(plateau_window), "alternatives": bool(alternatives)}
        here = parallel.in_process(jobs, backend)
        one = functools.partial(_fit_runs, picked=dict(sweep.settings), path=sweep.path, chosen=chosen,
                                progress=progress if here else None)
        return groups.each(one, sweep.runs, by=by, strict=strict, family="hparams", settings=chosen, jobs=jobs,
                           backend=backend, scheduler=scheduler)
    if lr_form not in LR_FORMS:
        raise InputError(f"lr_form={lr_form!r} is not one of {', '.join(LR_FORMS)}")
    if batch_form not in BATCH_FORMS:
        raise InputError(f"batch_form={batch_form!r} is not one of {', '.join(BATCH_FORMS)}")
    groups = sweep.groups
    if len(groups) < 2:
        g = groups.iloc[0]
        raise FitError(
            f"{sweep.path}: the sweep has a single (N, D) group ({g['group']}); no law of N or D "
            "can be fitted; add sweeps at other model sizes or token counts"
        )
    rows = sweep.near_optimal()
    chosen = [("lr", lr_form), ("batch", batch_form)]
    others = [("lr", f) for f in LR_FORMS if f != lr_form] + [
        ("batch", f) for f in BATCH_FORMS if f != batch_form
    ]
    notes = [*sweep.notes, *sweep.warnings]
    fits = {}
    for kind, form in chosen + (others if alternatives else []):
        reason = _unidentifiable(groups, form)
        if reason is not None:
            if (kind, form) in chosen:
                raise FitError(f"{sweep.path}: {kind} law {reason}")
            notes.append(f"not fitted: {reason}")
            continue
        centres = {
            s: float(f"{np.exp(np.mean(np.log(rows[COLUMNS[s]].to_numpy(float)))):.4g}")
            for s in form.split(",")
        }
        fits[f"{kind}({form})"] = engine.fit(
            form_law(kind, form, centres),
            rows,
            loss=loss,
            delta=delta,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            progress=progress,
        )
    plateau = fit_plateau(sweep.runs, groups, window=plateau_window) if plateau_window > 0 else None
    if plateau_window > 0 and plateau is None:
        notes.append("no group gave a convex loss surface: no plateau")
    elif plateau is not None and plateau.skipped:
        notes.append(
            f"plateau: {len(plateau.skipped)} group(s) without a usable surface "
            f"({'; '.join(plateau.skipped)})"
        )
    seq = sweep.runs["seq_len"].dropna().unique()
    ranges = sweep.ranges()
    info = LawInfo(
        name=f"fit:{Path(sweep.path).name}",
        title=f"fitted to {Path(sweep.path).name}",
        reference=str(sweep.path),
        variables="N = model size as counted in the sweep, D = training tokens, C = 6 N D",
        setting=f"{len(rows)} near-optimal runs (within {100 * sweep.settings['band']:g}% of each group's "
        f"minimum {sweep.settings['objective']}) in {len(groups)} (N, D) groups",
        seq_len=float(seq[0]) if seq.size == 1 else None,
        ranges={
            k: ranges[k]
            for k in ["params", "tokens", "tokens_per_param"]
            + (["flops"] if "C" in (lr_form, batch_form) else [])
        },
        assumptions=("the sweep's optimizer, schedule and model family", "B is in tokens"),
    )
    settings = {
        "lr_form": lr_form,
        "batch_form": batch_form,
        "loss": loss,
        "delta": float(delta),
        "bootstrap": int(bootstrap),
        "seed": int(seed),
        "level": float(level),
        "plateau_window": float(plateau_window),
        "alternatives": bool(alternatives),
    }
    return law_group(
        info,
        fits,
        (f"lr({lr_form})", f"batch({batch_form})"),
        plateau=plateau,
        groups=groups,
        selection=sweep.settings,
        rows=len(rows),
        settings=settings,
        warnings=notes,
    )
