"""Implicit laws (:mod:`scalelaw.implicit`): laws given as an equation in y, solved per point."""

from scalelaw.laws import ImplicitLaw, Param, register

register(ImplicitLaw(
    name="implicit_m4",
    formula="(y - E)/(e0 - y)**alpha = B*x**-c",
    inputs=("x",),
    params=(Param("E", log=True, lower=0.0, starts=(0.1, 1.0, 2.0), doc="irreducible loss (y as x -> inf), "
                  "target units"),
            Param("e0", log=True, lower=0.0, starts=(3.0, 10.0, 30.0), doc="loss at the start (y as x -> 0), "
                  "target units"),
            Param("alpha", lower=0.0, starts=(0.1, 0.5, 1.0, 2.0), doc="shape of the approach to e0 (0: a "
                  "saturating power law)"),
            Param("B", log=True, lower=0.0, starts=(0.1, 1.0, 10.0), doc="scale, target units per x^-c "
                  "(x in the units of its column)"),
            Param("c", lower=0.0, starts=(0.1, 0.3, 0.6, 1.0), doc="decay exponent")),
    bracket=("E", "e0"),
    doc="Alabdulmohsin et al. (2022), estimator M4: (y - E)/(e0 - y)^alpha = B x^-c, y between the "
        "irreducible loss E and the initial loss e0 (x: examples or tokens seen).",
))
