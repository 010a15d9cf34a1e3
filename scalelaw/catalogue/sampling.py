"""Laws of the sampling family.

* ``sampling.exp_power_law``: coverage of repeated sampling, coverage = exp(-A k^-beta) for k
  samples; the family fits it with residuals in a chosen space (``dataclasses.replace(law,
  space=...)``).
"""

from __future__ import annotations

from scalelaw.laws import EXPONENT_STARTS, Law, Param, register

EXP_POWER_LAW = register(Law(
    name="sampling.exp_power_law",
    formula="exp(-A * k**-beta)",
    inputs=("k",),
    params=(Param("A", log=True, lower=0.0, starts=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
                  doc="-log coverage at k = 1"),
            Param("beta", lower=0.0, starts=EXPONENT_STARTS, doc="exponent in k")),
    target="coverage",
    doc="Coverage law for repeated sampling: coverage = exp(-A k^-beta), k samples.",
))
