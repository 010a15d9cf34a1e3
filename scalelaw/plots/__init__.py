"""Figures of the families, one module per family (``scalelaw.plots.loss``, ``.hparams``, ...).

Every public function draws on ``ax=`` (None: a new figure) and returns a matplotlib Figure; no
backend is chosen here. :mod:`scalelaw.plots.common` renders and saves figures.
"""
