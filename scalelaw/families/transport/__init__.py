"""The transport family: OT performance projection and mixture selection (projektor), mixing laws.

* :mod:`.distance`: OT distances (``distance.distance``) between sample sets (OTDD's
  feature-plus-label cost; exact, Sinkhorn, debiased Sinkhorn divergence) and from a mixture of
  sources to a target, with the gradient in the mixing ratio from the dual potentials.
* :mod:`.projection`: projektor's stage 1 (OT -> metric at the pilot sizes) and stage 2 (the log
  mapping and a saturating power law to a target size).
* :mod:`.selection`: exact projection onto the capped simplex and projected gradient ascent.
* :mod:`.choice`: the mixture whose projection at a target size is best (:class:`Selection`).
* :mod:`.mixing`: Data Mixing Laws and the linear baseline on mixture logs (RegMix's layout).
* :mod:`.demo`: the end-to-end demonstration on scikit-learn's bundled digits.

Results a user keeps follow the result protocol (:mod:`scalelaw.protocol`): :class:`Distance`,
:class:`Projection` (and a group of them from :func:`project_mixtures`), :class:`Selection`,
:class:`Optimum` and :class:`~.demo.Demonstration`.  :class:`Samples`, :class:`MixtureTransport`
and :class:`Projector` hold the data and the fitted stages that answer; they are not stored.
"""

from scalelaw.families.transport.choice import Selection, select
from scalelaw.families.transport.demo import Demonstration
from scalelaw.families.transport.distance import (
    METHODS,
    Distance,
    MixtureTransport,
    Samples,
    read_samples,
)
from scalelaw.families.transport.mixing import (
    Optimum,
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
    project_mixtures,
)
from scalelaw.families.transport.selection import ascend, check_caps, check_ratio, project_simplex

__all__ = [
    "METHODS",
    "Demonstration",
    "Distance",
    "MixtureTransport",
    "Optimum",
    "Projection",
    "Projector",
    "Samples",
    "Selection",
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
    "project_mixtures",
    "project_simplex",
    "read_mixtures",
    "read_samples",
    "select",
]
