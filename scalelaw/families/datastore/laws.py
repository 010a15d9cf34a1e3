"""The laws of the datastore family, declared in :mod:`scalelaw.catalogue.datastore`.

* ``log_linear``: metric = a + b ln S, S datastore tokens (S > 0), the core law reading
  ``datastore_tokens``.  The paper's "log-linear, without obvious saturation"; the LM-only value
  is a separate baseline.
* ``datastore.saturating``: anchored at the measured LM-only value y0 (a constant of the law):
  metric = y0 - G (1 - (1 + S/S0)^-gamma) for lower-is-better metrics, which tends to the floor
  y0 - G as S grows, and the increasing mirror y0 + G (1 - (1 + S/S0)^-gamma) for accuracies.
  G >= 0 is the largest gain a datastore can bring (bounded by y0 for a perplexity, by the
  ceiling - y0 for an accuracy); S0 (tokens) is where the gain starts; gamma > 0.  As gamma -> 0
  with G gamma fixed it becomes y0 -/+ G gamma ln(1 + S/S0), log-linear beyond S0.
* ``datastore.joint``: L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma with explicit inputs N
  (parameters), D (pretraining tokens) and S (datastore tokens), so that C is a parameter and not
  FLOPs.  Fitted in log space to a perplexity, or to the error (ceiling - accuracy) of an
  accuracy.  It is infinite at S = 0, so LM-only rows are not part of its fit.

Examples
--------
>>> law = saturating(4.09, "lower", None)
>>> law.name, law.formula
('datastore.saturating', '4.09 - G * (1 - (1 + S/S0)**-gamma)')
>>> float(law.evaluate({"S": 0.0}, {"G": 1.0, "S0": 1e9, "gamma": 0.5}))
4.09
>>> JOINT.param_names
('E', 'A', 'B', 'C', 'alpha', 'beta', 'gamma')
"""

from scalelaw.catalogue.datastore import (
    COLUMNS,
    GAMMA_STARTS,
    JOINT,
    LOG_LINEAR,
    S0_STARTS,
    joint_law,
    saturating,
)

__all__ = ["COLUMNS", "GAMMA_STARTS", "JOINT", "LOG_LINEAR", "S0_STARTS", "joint_law", "saturating"]
