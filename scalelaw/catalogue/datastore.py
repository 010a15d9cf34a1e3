"""Laws of the datastore family (S datastore tokens, N reader parameters, D pretraining tokens).

* ``log_linear`` (the core law, reading ``datastore_tokens`` into a ``value`` target,
  :data:`LOG_LINEAR`): metric = a + b ln S, S > 0.
* ``datastore.saturating``: anchored at the measured LM-only value y0,
  metric = y0 - G (1 - (1 + S/S0)^-gamma) for lower-is-better metrics and the increasing mirror
  y0 + G (1 - (1 + S/S0)^-gamma) for accuracies; G in (0, room], room = y0 for a perplexity and
  ceiling - y0 for an accuracy.  A parametrised law (:func:`saturating`); the canonical instance
  is anchored at y0 = 10 (lower is better).
* ``datastore.joint``: L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma, fitted in log space
  to a perplexity, or to the error (ceiling - accuracy) of an accuracy (:func:`joint_law`).
"""

from __future__ import annotations

from dataclasses import replace

from scalelaw.errors import FitError
from scalelaw.laws import CATALOGUE, EXPONENT_STARTS, Law, Param, register, register_builder

#: Where each symbol of the family's laws comes from.
COLUMNS = (("N", "params"), ("D", "tokens"), ("S", "datastore_tokens"))

#: The core ``log_linear`` law of the datastore size, fitted to the ``value`` column.
LOG_LINEAR = replace(CATALOGUE["log_linear"].with_columns(x="datastore_tokens"), target="value")

#: Starting points of the saturating law's nonlinear parameters (G is solved by least squares).
S0_STARTS = (1e6, 1e8, 1e10, 1e12)
GAMMA_STARTS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def saturating(anchor: float, kind: str = "lower", ceiling: float | None = None) -> Law:
    """The saturating law anchored at the LM-only value ``anchor`` (metric units).

    Parameters
    ----------
    anchor
        The measured LM-only value: the law's value at S = 0.
    kind
        ``"lower"`` (decreasing to a floor) or ``"higher"`` (the increasing mirror).
    ceiling
        For accuracies, 1 or 100 (default 100): the gain is at most ``ceiling - anchor``.
    """
    room = anchor if kind == "lower" else (ceiling or 100.0) - anchor
    if not room > 0:
        raise FitError(f"the LM-only value {anchor:g} leaves no room for a datastore to help "
                       f"({'a perplexity floor of 0' if kind == 'lower' else f'ceiling {ceiling:g}'}); "
                       "the saturating law cannot be fitted")
    sign = "-" if kind == "lower" else "+"
    return Law(
        name="datastore.saturating",
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


SATURATING = register_builder(saturating, anchor=10.0, kind="lower", ceiling=None)


def _scale(name: str, doc: str) -> Param:
    return Param(name, log=True, lower=0.0, doc=doc)


def _exponent(name: str, doc: str) -> Param:
    return Param(name, lower=0.0, upper=3.0, starts=EXPONENT_STARTS, doc=doc)


JOINT = register(Law(
    name="datastore.joint",
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
))


def joint_law(kind: str) -> Law:
    """The joint law for a metric kind: fitted to the value, or to ``error`` for accuracies."""
    return JOINT if kind == "lower" else replace(JOINT, target="error")
