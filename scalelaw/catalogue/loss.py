"""Laws of the loss family.

* ``loss.allocation_power_law``: compute-optimal size or tokens as a power of compute,
  y = k C^a (residuals in log y), fitted to the isoFLOP minima.
"""

from __future__ import annotations

from scalelaw.laws import Law, Param, register

ALLOCATION_POWER_LAW = register(Law(
    name="loss.allocation_power_law",
    formula="k * C**a",
    inputs=("C",),
    params=(Param("k", log=True, lower=0.0, doc="value at C = 1 FLOP"),
            Param("a", starts=(-0.5, 0.0, 0.5, 1.0), doc="exponent in compute")),
    columns=(("C", "flops"),),
    target="y",
    doc="Compute-optimal size or tokens as a power of compute: y = k C^a.",
))
