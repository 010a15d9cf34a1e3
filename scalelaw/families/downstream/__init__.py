"""The downstream-capability family: predicting benchmark scores from scale.

Four tools, one module each:

* :mod:`~scalelaw.families.downstream.chain`: the predictability chain (Schaeffer et al. 2024),
  per-question metrics from choice log-likelihoods and their correlation with compute;
* :mod:`~scalelaw.families.downstream.ladder`: the two-step model-ladder prediction (Bhagia et
  al. 2024), (N, D) -> task loss -> accuracy;
* :mod:`~scalelaw.families.downstream.error_law`: loss -> top-1 error (Gadre et al. 2024),
  chained with a loss law;
* :mod:`~scalelaw.families.downstream.observational`: observational scaling (Ruan et al. 2024),
  principal components of a benchmark matrix and a sigmoid link.

Readers: :mod:`~scalelaw.families.downstream.readers` (per-choice log-likelihoods: tidy tables,
lm-evaluation-harness samples), :mod:`~scalelaw.families.downstream.harness` (lm-evaluation-harness
v0.4 results folders: one row per model, task and metric) and
:mod:`~scalelaw.families.downstream.olmo_ladder` (ladder logs).
"""

from scalelaw.families.downstream import chain, error_law, ladder, observational  # noqa: F401 (their results)
