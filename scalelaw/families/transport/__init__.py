"""The transport family: OT performance projection and mixture selection (projektor), mixing laws.

* :mod:`.distance`: OT distances (``distance.distance``) between sample sets (OTDD's
  feature-plus-label cost; exact, Sinkhorn, debiased Sinkhorn divergence) and from a mixture of
  sources to a target, with the gradient in the mixing ratio from the dual potentials.
* :mod:`.projection`: projektor's stage 1 (OT -> metric at the pilot sizes) and stage 2 (the log
  mapping and a saturating power law to a target size).
* :mod:`.selection`: exact projection onto the capped simplex and projected gradient ascent.
* :mod:`.mixing`: Data Mixing Laws and the linear baseline on mixture logs (RegMix's layout).
* :mod:`.demo`: the end-to-end demonstration on scikit-learn's bundled digits.
"""

from scalelaw.families.transport.distance import (
    METHODS,
    Distance,
    MixtureTransport,
    Samples,
    read_samples,
)
from scalelaw.families.transport.mixing import (
    evaluate,
    fit_mixture,
    linear_law,
    mixing_law,
    optimize,
    read_mixtures,
)
from scalelaw.families.transport.projection import (
    Projection,
    Projector,
    fit_projector,
    prepare_pilots,
    project,
)
from scalelaw.families.transport.selection import ascend, check_caps, check_ratio, project_simplex

__all__ = [
    "METHODS",
    "Distance",
    "MixtureTransport",
    "Projection",
    "Projector",
    "Samples",
    "ascend",
    "check_caps",
    "check_ratio",
    "evaluate",
    "fit_mixture",
    "fit_projector",
    "linear_law",
    "mixing_law",
    "optimize",
    "prepare_pilots",
    "project",
    "project_simplex",
    "read_mixtures",
    "read_samples",
]
