"""The laws of the datastore family.

* ``log_linear``: metric = a + b ln S, S datastore tokens (S > 0).  The paper's "log-linear,
  without obvious saturation"; the LM-only value is a separate baseline.
* ``saturating``: anchored at the measured LM-only value y0 (a constant of the law):
  metric = y0 - G (1 - (1 + S/S0)^-gamma) for lower-is-better metrics, which tends to the floor
  y0 - G as S grows, and the increasing mirror y0 + G (1 - (1 + S/S0)^-gamma) for accuracies.
  G >= 0 is the largest gain a datastore can bring (bounded by y0 for a perplexity, by the
  ceiling - y0 for an accuracy); S0 (tokens) is where the gain starts; gamma > 0.  As gamma -> 0
  with G gamma fixed it becomes y0 -/+ G gamma ln(1 + S/S0), log-linear beyond S0.
* ``joint``: L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma with explicit inputs N
  (parameters), D (pretraining tokens) and S (datastore tokens), so that C is a parameter and not
  FLOPs.  Fitted in log space to a perplexity, or to the error (ceiling - accuracy) of an
  accuracy.  It is infinite at S = 0, so LM-only rows are not part of its fit.

Examples
--------
>>> law = saturating(4.09, "lower", None)
>>> law.formula
'4.09 - G * (1 - (1 + S/S0)**-gamma)'
>>> float(law.evaluate({"S": 0.0}, {"G": 1.0, "S0": 1e9, "gamma": 0.5}))
4.09
>>> JOINT.param_names
('E', 'A', 'B', 'C', 'alpha', 'beta', 'gamma')
"""

from __future__ import annotations

from dataclasses import replace

from scalelaw.errors import FitError
from scalelaw.laws import EXPONENT_STARTS, Law, Param

#: Where each symbol of the family's laws comes from.
COLUMNS = (("N", "params"), ("D", "tokens"), ("S", "datastore_tokens"))

LOG_LINEAR = Law(
    name="log_linear",
    formula="a + b * log(S)",
    inputs=("S",),
    params=(Param("a", doc="metric at S = 1 token, metric units"),
            Param("b", doc="change of the metric per e-fold of datastore tokens, metric units")),
    space="linear",
    columns=(("S", "datastore_tokens"),),
    target="value",
    doc="Log-linear datastore scaling: metric = a + b ln S, S datastore tokens (S > 0).",
)

#: Starting points of the saturating law's nonlinear parameters (G is solved by least squares).
S0_STARTS = (1e6, 1e8, 1e10, 1e12)
GAMMA_STARTS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def saturating(anchor: float, kind: str, ceiling: float | None) -> Law:
    """The saturating law anchored at the LM-only value ``anchor`` (metric units).

    Parameters
    ----------
    anchor
        The measured LM-only value: the law's value at S = 0.
    kind
        ``"lower"`` (decreasing to a floor) or ``"higher"`` (the increasing mirror).
    ceiling
        For accuracies, 1 or 100: the gain is at most ``ceiling - anchor``.
    """
    room = anchor if kind == "lower" else (ceiling or 100.0) - anchor
    if not room > 0:
        raise FitError(f"the LM-only value {anchor:g} leaves no room for a datastore to help "
                       f"({'a perplexity floor of 0' if kind == 'lower' else f'ceiling {ceiling:g}'}); "
                       "the saturating law cannot be fitted")
    sign = "-" if kind == "lower" else "+"
    return Law(
        name="saturating",
        formula=f"{float(anchor)!r} {sign} G * (1 - (1 + S/S0)**-gamma)",
        inputs=("S",),
        params=(Param("G", log=True, lower=0.0, upper=float(room),
                      doc="largest gain a datastore can bring, metric units"),
                Param("S0", log=True, lower=1.0, upper=1e18, starts=S0_STARTS,
                      doc="datastore tokens where the gain starts"),
                Param("gamma", lower=0.0, upper=4.0, starts=GAMMA_STARTS, doc="saturation exponent")),
        space="linear",
        columns=(("S", "datastore_tokens"),),
        target="value",
        doc="Saturating datastore scaling anchored at the LM-only value (S datastore tokens).",
    )


def _scale(name: str, doc: str) -> Param:
    return Param(name, log=True, lower=0.0, doc=doc)


def _exponent(name: str, doc: str) -> Param:
    return Param(name, lower=0.0, upper=3.0, starts=EXPONENT_STARTS, doc=doc)


JOINT = Law(
    name="joint",
    formula="E + A / N**alpha + B / D**beta + C / S**gamma",
    inputs=("N", "D", "S"),
    params=(_scale("E", "irreducible value, metric units (error units for accuracies)"),
            _scale("A", "reader-size term amplitude"),
            _scale("B", "pretraining-data term amplitude"),
            _scale("C", "datastore term amplitude (not FLOPs)"),
            _exponent("alpha", "reader-size exponent"),
            _exponent("beta", "pretraining-data exponent"),
            _exponent("gamma", "datastore exponent")),
    space="log",
    columns=COLUMNS,
    target="value",
    doc="L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma: N parameters, D pretraining tokens, "
        "S datastore tokens.",
)


def joint_law(kind: str) -> Law:
    """The joint law for a metric kind: fitted to the value, or to ``error`` for accuracies."""
    return JOINT if kind == "lower" else replace(JOINT, target="error")
