"""Laws of the transport family (mixtures of m sources or domains, shares r_j or p_i summing to 1).

* ``transport.size_power_law``: metric = E + A N^-alpha in the training-set size N (samples).
* ``transport.projektor_stage1`` (Kang et al. 2023): metric = sum_i (b2_i p_i^2 + b1_i p_i + b0) OT(p)
  + sum_i (c2_i p_i^2 + c1_i p_i + c0) at one pilot size (:func:`projektor_stage1`).
* ``transport.mixing_law`` (Ye et al. 2024): L(r) = c + k exp(sum_j t_j r_j) (:func:`mixing_law`).
* ``transport.linear_mixing``: RegMix's baseline L(r) = w0 + sum_j w_j r_j (:func:`linear_mixing`).

The last three are parametrised by the sources (their number and columns); their canonical
instances mix two, named ``source_1``, ``source_2`` (or ``domain_1``, ``domain_2``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scalelaw.errors import LawError
from scalelaw.laws import EXPONENT_STARTS, Law, Param, register, register_builder

SIZE_LAW = register(Law(
    name="transport.size_power_law",
    formula="E + A * N**-alpha",
    inputs=("N",),
    params=(
        Param("E", doc="metric as N -> infinity (metric units)"),
        Param("A", doc="amplitude (metric units); negative for a metric that rises with N"),
        Param("alpha", lower=0.0, starts=EXPONENT_STARTS, doc="exponent in the training-set size"),
    ),
    space="linear",
    columns=(("N", "size"),),
    target="metric",
    doc="Saturating power law in the training-set size N (samples): y = E + A N^-alpha.",
))


def projektor_stage1(sources: Sequence[str] = ("source_1", "source_2"), metric: str = "metric") -> Law:
    """projektor's stage-1 law for these sources: inputs ``ot`` and one ratio ``p_i`` per source."""
    m = len(sources)
    b = " + ".join(f"b2_{i}*p_{i}**2 + b1_{i}*p_{i}" for i in range(1, m + 1))
    c = " + ".join(f"c2_{i}*p_{i}**2 + c1_{i}*p_{i}" for i in range(1, m + 1))
    formula = f"({b} + {m}*b0)*ot + {c} + {m}*c0"
    params = []
    for group, role in (("b", "OT coefficient"), ("c", "offset")):
        for i, name in enumerate(sources, start=1):
            params.append(Param(f"{group}2_{i}", doc=f"{role}, quadratic in the share of {name}"))
            params.append(Param(f"{group}1_{i}", doc=f"{role}, linear in the share of {name}"))
        params.append(Param(f"{group}0", doc=f"{role}, constant (counted once per source)"))
    columns = (("ot", "ot"), *((f"p_{i}", name) for i, name in enumerate(sources, start=1)))
    return Law(
        name="transport.projektor_stage1",
        formula=formula,
        inputs=("ot", *(f"p_{i}" for i in range(1, m + 1))),
        params=tuple(params),
        space="linear",
        columns=columns,
        target=metric,
        doc="projektor stage 1: metric = sum_i (b2_i p_i^2 + b1_i p_i + b0) OT(p) "
        "+ sum_i (c2_i p_i^2 + c1_i p_i + c0).",
    )


def mixing_law(domains: Sequence[str] = ("domain_1", "domain_2"), target: str = "loss",
               t_bound: float | None = None) -> Law:
    """Data Mixing Law over ``domains`` (mixture columns) for the loss column ``target``.

    The family fits it from its own starts (a regression of log(L - c) on r per floor c); the
    declared starts of k and t make the default start set usable for a few domains.  ``t_bound``
    bounds every t_j to [-t_bound, t_bound] (log-loss units per unit share; None: unbounded).
    """
    if t_bound is not None and not t_bound > 0:
        raise LawError(f"t_bound must be > 0 (log-loss units per unit share), got {t_bound!r}")
    bound = math.inf if t_bound is None else float(t_bound)
    m = len(domains)
    exponent = " + ".join(f"t_{j}*r_{j}" for j in range(1, m + 1))
    params = (
        Param("c", log=True, lower=0.0, doc="loss floor (loss units)"),
        Param("k", log=True, lower=0.0, starts=(0.1, 1.0, 10.0), doc="scale (loss units)"),
        *(Param(f"t_{j}", lower=-bound, upper=bound, starts=(-1.0, 0.0, 1.0),
                doc=f"effect of the share of {d} on log(L - c)")
          for j, d in enumerate(domains, 1)),
    )
    return Law(
        name="transport.mixing_law",
        formula=f"c + k*exp({exponent})",
        inputs=tuple(f"r_{j}" for j in range(1, m + 1)),
        params=params,
        space="log",
        columns=tuple((f"r_{j}", d) for j, d in enumerate(domains, 1)),
        target=target,
        doc="Data Mixing Law (Ye et al. 2024): L(r) = c + k exp(sum_j t_j r_j).",
    )


def linear_mixing(domains: Sequence[str] = ("domain_1", "domain_2"), target: str = "loss") -> Law:
    """RegMix's linear regression baseline: L(r) = w0 + sum_j w_j r_j (residuals in L)."""
    m = len(domains)
    terms = " + ".join(f"w_{j}*r_{j}" for j in range(1, m + 1))
    params = (
        Param("w0", doc="intercept (loss units)"),
        *(Param(f"w_{j}", doc=f"loss per unit share of {d}") for j, d in enumerate(domains, 1)),
    )
    return Law(
        name="transport.linear_mixing",
        formula=f"w0 + {terms}",
        inputs=tuple(f"r_{j}" for j in range(1, m + 1)),
        params=params,
        space="linear",
        columns=tuple((f"r_{j}", d) for j, d in enumerate(domains, 1)),
        target=target,
        doc="Linear regression of the loss on the mixture (RegMix baseline).",
    )


STAGE1 = register_builder(projektor_stage1, sources=("source_1", "source_2"), metric="metric")
MIXING_LAW = register_builder(mixing_law, domains=("domain_1", "domain_2"), target="loss")
LINEAR_MIXING = register_builder(linear_mixing, domains=("domain_1", "domain_2"), target="loss")
