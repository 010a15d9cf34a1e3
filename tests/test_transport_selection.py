"""Exact projection onto the (capped) simplex, and projected gradient ascent."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from scalelaw.errors import InputError
from scalelaw.families.transport.selection import ascend, check_caps, check_ratio, project_simplex


def test_projection_known_values():
    assert project_simplex([0.2, 0.5, 0.9]).tolist() == pytest.approx([0.0, 0.3, 0.7], abs=1e-15)
    assert project_simplex([0.3, 0.3, 0.4]).tolist() == pytest.approx([0.3, 0.3, 0.4], abs=1e-15)
    assert project_simplex([5.0, 0.0, 0.0]).tolist() == [1.0, 0.0, 0.0]
    assert project_simplex([5.0, 0.0, 0.0], caps=[0.5, 0.3, 1.0]).tolist() == pytest.approx([0.5, 0.25, 0.25])


@pytest.mark.parametrize("capped", [False, True])
def test_projection_is_the_nearest_feasible_point(capped):
    rng = np.random.default_rng(0)
    for _ in range(60):
        m = int(rng.integers(2, 7))
        v = rng.normal(scale=2.0, size=m)
        caps = np.minimum(rng.uniform(0.2, 1.0, size=m) * 2.0 / m * 1.5, 1.0) if capped else None
        if caps is not None and caps.sum() < 1:
            caps = np.minimum(caps / caps.sum() * 1.1, 1.0)
        p = project_simplex(v, caps)
        upper = np.ones(m) if caps is None else caps
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(p >= 0) and np.all(p <= upper + 1e-15)
        ref = minimize(
            lambda x, v=v: np.sum((x - v) ** 2),
            np.full(m, 1 / m),
            method="SLSQP",
            bounds=list(zip(np.zeros(m), upper, strict=True)),
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
            options={"ftol": 1e-15},
        )
        assert np.sum((p - v) ** 2) <= np.sum((ref.x - v) ** 2) + 1e-9


def test_ascent_reaches_the_projection_of_the_peak():
    peak = np.array([0.9, 0.6, -0.2])  # outside the simplex: the maximiser is its projection

    def objective(p):
        return -float(np.sum((p - peak) ** 2)), -2 * (p - peak)

    path = ascend(objective, [1 / 3, 1 / 3, 1 / 3])
    assert path.ratio == pytest.approx(project_simplex(peak), abs=1e-6)
    assert np.all(np.diff(path.values) > 0)
    capped = ascend(objective, [1 / 3, 1 / 3, 1 / 3], caps=[0.5, 1.0, 1.0])
    assert capped.ratio == pytest.approx([0.5, 0.5, 0.0], abs=1e-6)
    down = ascend(lambda p: (-objective(p)[0], -objective(p)[1]), [1 / 3] * 3, maximize=False)
    assert down.ratio == pytest.approx(project_simplex(peak), abs=1e-6)


def test_ratio_checks():
    assert check_ratio({"a": 0.25, "b": 0.75}, ["a", "b"]).tolist() == [0.25, 0.75]
    with pytest.raises(InputError, match="sum to 1.1"):
        check_ratio([0.5, 0.6], ["a", "b"])
    with pytest.raises(InputError, match="weight of 'b' is -0.2"):
        check_ratio([1.2, -0.2], ["a", "b"])
    with pytest.raises(InputError, match="caps sum to 0.8"):
        check_caps({"a": 0.4, "b": 0.4}, ["a", "b"])


@pytest.mark.parametrize("name", ["distance", "projection", "selection", "mixing"])
def test_transport_docstring_examples(name):
    # scalelaw.families has no __init__, so tests/test_doctests.py does not walk into this package.
    import doctest
    import importlib

    module = importlib.import_module(f"scalelaw.families.transport.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
