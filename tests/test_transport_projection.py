"""projektor stages 1 and 2: closed forms, exact recovery, gradients, and the digits demonstration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families.transport import demo
from scalelaw.families.transport.distance import MixtureTransport, Samples
from scalelaw.families.transport.projection import (
    fit_projector,
    log_mapping_weights,
    power_law_weights,
    prepare_pilots,
    project,
)


def test_log_mapping_is_projektors_closed_form():
    n0, n1, n = 1000.0, 1500.0, 10000.0
    w = log_mapping_weights([n0, n1], n)
    l0, l1 = 0.61, 0.65
    expected = (np.log(n / n0) * l1 - np.log(n / n1) * l0) / np.log(n1 / n0)
    assert w @ [l0, l1] == pytest.approx(expected, rel=1e-14)
    assert log_mapping_weights([n0, n1], n0) @ [l0, l1] == pytest.approx(l0)
    # With three sizes the mapping uses the two largest.
    assert log_mapping_weights([500.0, n0, n1], n).tolist() == pytest.approx([0.0, *w])


def test_power_law_weights_reproduce_a_saturating_law_and_tend_to_the_log_mapping():
    sizes = np.array([40.0, 80.0, 160.0])
    E, A, alpha = 0.97, -2.5, 0.6
    curve = E + A * sizes**-alpha
    assert power_law_weights(sizes, 5000.0, alpha) @ curve == pytest.approx(E + A * 5000.0**-alpha, rel=1e-12)
    two = sizes[1:]
    assert power_law_weights(two, 5000.0, 1e-7) == pytest.approx(log_mapping_weights(two, 5000.0), rel=1e-5)


def _setup(seed: int = 0):
    rng = np.random.default_rng(seed)
    sources = [Samples(rng.normal(size=(30, 3)) + i, name=f"s{i}") for i in range(3)]
    target = Samples(rng.normal(size=(40, 3)) + 1.0, name="target")
    return MixtureTransport(sources, target, method="sinkhorn"), [s.name for s in sources]


def test_stage1_recovers_a_law_of_its_own_form_exactly():
    transport, names = _setup()
    ratios = demo.simplex_grid(3, 0.2)
    rows = []
    for size, scale in ((100, 1.0), (200, 1.2), (400, 1.3)):
        for p in ratios:
            ot = transport(p).cost
            metric = scale * (
                (0.3 * p[0] ** 2 - 0.1 * p[1] + 0.02) * ot + 0.5 + 0.2 * p[2] ** 2 - 0.05 * p[0]
            )
            rows.append({"size": size, **dict(zip(names, p, strict=True)), "accuracy": metric})
    pilots = prepare_pilots(pd.DataFrame(rows), names)
    projector = fit_projector(pilots, transport)
    for fit in projector.stage1.values():
        assert fit.metrics["max_abs_error"] < 1e-8
    p = np.array([0.15, 0.25, 0.6])
    out = project(projector, transport, p, 400)
    ot = transport(p).cost
    assert out.at_sizes[-1] == pytest.approx(
        1.3 * ((0.3 * 0.15**2 - 0.025 + 0.02) * ot + 0.5 + 0.072 - 0.0075), rel=1e-8
    )


def test_projection_gradient_matches_finite_differences():
    transport, names = _setup(1)
    rng = np.random.default_rng(2)
    rows = [
        {"size": s, **dict(zip(names, p, strict=True)), "accuracy": float(rng.uniform(0.5, 0.9))}
        for s in (50, 100, 200)
        for p in demo.simplex_grid(3, 0.2)
    ]
    projector = fit_projector(prepare_pilots(pd.DataFrame(rows), names), transport)
    p, v, h = np.array([0.2, 0.3, 0.5]), np.array([1.0, -2.0, 1.0]), 1e-5
    for mapping in ("log", "power"):
        g = project(projector, transport, p, 1000, mapping=mapping).gradient
        fd = (
            project(projector, transport, p + h * v, 1000, mapping=mapping).projected
            - project(projector, transport, p - h * v, 1000, mapping=mapping).projected
        ) / (2 * h)
        assert g @ v == pytest.approx(fd, rel=1e-4)


def test_pilots_at_one_size_are_refused():
    frame = pd.DataFrame({"size": [100, 100], "a": [0.5, 1.0], "b": [0.5, 0.0], "accuracy": [0.7, 0.8]})
    with pytest.raises(InputError, match="stage 2 needs pilots at two or more"):
        prepare_pilots(frame, ["a", "b"])


def test_demonstration_small():
    # A small run of the end-to-end demonstration (the full one is the slow test below).
    result = demo.demonstrate(step=0.25, repeats=1, eval_step=0.5, eval_repeats=1, pilot_sizes=(40, 80, 160))
    assert set(result.errors) == {"log_mapping", "power_law"}
    for e in result.errors.values():
        assert 0 < e["mae"] < 0.2
    assert result.selection.ratio.sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_demonstration_projection_error():
    # Pilots at 40, 80 and 160 images (66 mixtures x 3 repeats), projected to 400 images and
    # compared with training there on 15 mixtures: the saturating power law beats the log mapping.
    result = demo.demonstrate()
    assert result.errors["power_law"]["mae"] == pytest.approx(0.038, abs=0.005)
    assert result.errors["log_mapping"]["mae"] == pytest.approx(0.053, abs=0.005)
    assert result.errors["power_law"]["mae"] < result.errors["log_mapping"]["mae"]
