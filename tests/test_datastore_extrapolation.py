"""How well the datastore laws extrapolate on the simulated set (slow: 200-replicate bootstraps).

Every law is fitted on the datastores up to 700B tokens (p <= 0.5) and asked for the metric at
1.4T (2x) and 14T tokens (20x), against the noiseless truth.  The numbers are those of
docs/datastore.md: the joint law's 95% intervals cover the truth; the per-reader laws, fitted to
six points each, undercover when they extrapolate far.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scalelaw.families import datastore as ds
from scalelaw.families.datastore.simulate import LAWS

from support import DATA


def _small(measurements: ds.Measurements) -> ds.Measurements:
    rows, points = measurements.rows, measurements.points
    return replace(measurements, rows=rows[rows["datastore_tokens"] < 1e12].reset_index(drop=True),
                   points=points[points["datastore_tokens"] < 1e12])


def _coverage(predict, configs, law, S):
    value, lo, hi = predict(configs, S)
    truth = law.value(configs["params"].to_numpy(), configs["tokens"].to_numpy(), S)
    return float(np.mean((lo <= truth) & (truth <= hi))), float(np.mean(np.abs(value - truth)))


@pytest.mark.slow
@pytest.mark.parametrize("law", LAWS, ids=[law.metric for law in LAWS])
def test_extrapolation_from_700b_tokens(law):
    measurements = _small(ds.read(DATA / "datastore" / "massiveds_simulated.csv").select(metric=law.metric))
    configs = measurements.points[measurements.points["datastore_tokens"] == 0]
    joint = ds.fit_joint(measurements, bootstrap=200, holdout=0, seed=0)
    readers = ds.fit_readers(measurements, bootstrap=200, holdout=2, seed=0)

    def by_joint(c, S):
        return joint.predict(c["params"].to_numpy(), c["tokens"].to_numpy(), np.full(len(c), S))

    def by_reader(c, S):
        out = [ds.get_reader(readers, r, law.metric).predict([S]) for r in c["reader"]]
        return tuple(np.array([o[k][0] for o in out]) for k in range(3))

    joint_near, _ = _coverage(by_joint, configs, law, 1.4e12)
    joint_far, _ = _coverage(by_joint, configs, law, 1.4e13)
    reader_far, reader_error = _coverage(by_reader, configs, law, 1.4e13)
    assert joint_near >= 0.85 and joint_far >= 0.95
    assert 0.5 <= reader_far <= 0.75  # documented: per-reader intervals undercover at 20x
    assert reader_error < (0.1 if law.kind == "lower" else 4.0)
