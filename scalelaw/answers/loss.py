"""Answers of a fitted law: ``predict`` (any law) and ``optimal`` (a loss law of N and D, C = 6 N D)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalelaw.answers.common import Answer
from scalelaw.errors import InputError
from scalelaw.io import format_quantity, values
from scalelaw.result import FitResult

SIZES = ("params", "tokens", "flops")


def predict(fit: FitResult, *, params=None, tokens=None, flops=None, set: Mapping | None = None,  # noqa: A002
            interval: str | None = None) -> Answer:
    """The fitted target at each point, with its interval and the extrapolation warnings.

    ``interval`` is ``prediction`` (where a new run would land: bootstrap and residual scatter; the
    default for a fit with a noise model) or ``confidence`` (the law's value: bootstrap only; the
    default for parameters given and older artifacts, which cannot give a prediction interval); each
    payload names it as ``interval``.

    ``params`` (N), ``tokens`` (D) and ``flops`` (C) take one value or a list (one value for every point,
    or one per point); with ``flops`` and ``params``, tokens = C / (6 N).  ``set`` gives other inputs as a
    mapping or ``"COLUMN=VALUE"`` texts.  One point: its payload; several: ``{"predictions": [...]}``;
    the result is the list of points' payloads.
    """
    given = {k: values.number(f"set={k}", v) for k, v in values.pairs("set=", set).items()}
    points = values.rows(**{name: values.numbers(f"{name}=", value)
                            for name, value in (("params", params), ("tokens", tokens), ("flops", flops))})
    kind = fit.interval_kind(None if interval is None else str(interval))
    payloads = [_point(fit, given | point, kind) for point in points]
    return Answer(payloads[0] if len(payloads) == 1 else {"predictions": payloads}, payloads)


def _point(fit: FitResult, values_: dict[str, float], kind: str) -> dict:
    if "tokens" not in values_ and "flops" in values_ and "params" in values_:
        values_["tokens"] = values_["flops"] / (6 * values_["params"])
    law = fit.law
    missing = [law.column(s) for s in law.inputs if law.column(s) not in values_ and s not in values_]
    if missing:
        raise InputError(f"the law {law.name!r} needs {', '.join(missing)}; give "
                         + ", ".join(f"{m}=" if m in SIZES else f"set={m}=VALUE" for m in missing),
                         field=missing[0] if missing[0] in SIZES else "set")
    value, lo, hi = (float(np.ravel(v)[0]) for v in fit.predict_interval(values_, interval=kind, warn=False))
    ranges = fit.data.get("ranges", {})
    outside = [f"{k} = {format_quantity(values_[k])} (fitted {format_quantity(r[0])}..{format_quantity(r[1])})"
               for k, r in ranges.items() if k in values_ and not r[0] <= values_[k] <= r[1]]
    return {"prediction": value, "lower": lo, "upper": hi, "interval": kind, "level": fit.level, "inputs": values_,
            "target": law.target, "extrapolating": outside,
            "warnings": [*fit.warnings, *fit.interval_notes(kind), *fit.extrapolation(values_)]}


def optimal(fit: FitResult, *, flops=None) -> Answer:
    """Compute-optimal N and D (and the loss there) for each FLOPs budget, with intervals; the result is
    the :class:`~scalelaw.families.loss.Allocation`."""
    from scalelaw.families import averaged
    from scalelaw.families import loss as family

    budgets = values.numbers("flops=", flops)
    if not budgets:
        raise InputError("give flops=, the training budget in FLOPs (e.g. 5.76e23)", field="flops")
    method = averaged.MIXTURE_METHOD if not isinstance(fit, FitResult) else \
        "closed form" if family.is_chinchilla_shaped(fit.law) else "numeric"
    allocation = family.allocate(fit, budgets)
    rows = [{k: float(v) for k, v in a.items()} | {"level": fit.level, "method": method, "warnings": [
                *fit.warnings, *family.beyond_fitted(fit, [a["flops"]], [a["params"]], [a["tokens"]])]}
            for _, a in allocation.to_frame().iterrows()]
    payload = rows[0] if len(rows) == 1 else {"allocations": rows, "warnings": list(allocation.warnings)}
    return Answer(payload, allocation)
