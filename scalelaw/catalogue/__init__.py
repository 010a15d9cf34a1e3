"""The families' laws, registered in :data:`scalelaw.laws.CATALOGUE` under ``family.name``.

One module per family.  They import numpy and :mod:`scalelaw.laws` only, so importing the
catalogue is fast and needs none of the families' dependencies; the families take their laws from
here.  A law whose shape depends on the data (an anchor, the centres of its regressors, the number
of sources) is a parametrised law (:func:`scalelaw.laws.register_builder`): its builder lives
here, and the catalogue holds its documented canonical instance.
"""

from scalelaw.catalogue import datastore, downstream, hyperparams, implicit, loss, sampling, transport  # noqa: F401
