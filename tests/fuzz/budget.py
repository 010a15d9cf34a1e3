"""How many generated cases each fuzz target runs.

``make test`` runs a fixed, seeded budget (``derandomize=True``: the same cases every run); ``SCALELAW_FUZZ=long``
(``make fuzz``) multiplies every target's budget by :data:`LONG` and draws fresh cases each run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = 8  #: factor of the long run over the budget of ``make test``


def long_run() -> bool:
    return os.environ.get("SCALELAW_FUZZ", "").lower() == "long"


def budget(examples: int) -> settings:
    """Settings of a fuzz target that runs ``examples`` cases in ``make test`` (``LONG`` times as many in the long
    run); no deadline (a loaded machine is slow), no example database (every run stands alone)."""
    long = long_run()
    return settings(max_examples=examples * (LONG if long else 1), derandomize=not long, deadline=None,
                    database=None, print_blob=long,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
