"""The contract every law of the catalogue honours, checked over ``CATALOGUE`` (a newly registered
law is covered without editing this file).

For each law: a point where every parameter matters, derived from its declaration (a declared
start, or for a parameter without starts a value that makes its term of order one, inside the
bounds); analytic gradients against central differences there; every start set finite and inside
the bounds; the declaration's JSON round trip; a fit to data generated from the law at that point
recovers it (the parameters when the Jacobian there has full rank, the predictions always), and
its FitResult survives a JSON round trip and replays from its settings.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine
from scalelaw.artifact import dumps, loads
from scalelaw.errors import LawError
from scalelaw.laws import BUILDERS, CATALOGUE, Law, build_law, get_law
from scalelaw.result import FitResult
from scalelaw.starts import START_SETS, start_points, to_natural

#: Typical ranges of the inputs, by column (log-spaced when the ratio is large); others 0.5 to 2.
RANGES = {"params": (1e8, 1e11), "tokens": (1e9, 1e12), "flops": (1e18, 1e23),
          "nonembedding_flops": (1e18, 1e23), "datastore_tokens": (1e8, 1e13), "k": (1.0, 1e4),
          "size": (1e3, 1e5), "loss": (2.0, 4.0), "tokens_per_param": (10.0, 200.0)}
ROWS = 40
NAMES = sorted(CATALOGUE)


def inputs_of(law: Law, rows: int = ROWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs by symbol, each in its column's typical range."""
    rng = np.random.default_rng(seed)
    out = {}
    for symbol in law.inputs:
        lo, hi = RANGES.get(law.column(symbol), (0.5, 2.0))
        u = rng.uniform(size=rows)
        out[symbol] = np.exp(np.log(lo) + u * np.log(hi / lo)) if hi / lo > 20 else lo + u * (hi - lo)
    return out


def _inside(p, value: float) -> float:
    """``value`` if strictly inside the bounds, else a value well inside them."""
    if p.lower < value < p.upper:
        return value
    if math.isfinite(p.lower) and math.isfinite(p.upper):
        return math.sqrt(p.lower * p.upper) if p.log and p.lower > 0 else 0.5 * (p.lower + p.upper)
    return p.lower + abs(p.lower) + 1.0 if math.isfinite(p.lower) else p.upper - abs(p.upper) - 1.0


def point_of(law: Law, data: dict[str, np.ndarray]) -> dict[str, float]:
    """Declared starts (two thirds along each list, so that no exponent sits at 0 by symmetry); a
    parameter without starts (the law is linear in it) makes its own term of mean size one."""
    point = {p.name: p.starts[2 * len(p.starts) // 3] for p in law.params if p.starts}
    free = [p for p in law.params if not p.starts]
    trial = point | {p.name: _inside(p, 1.0) for p in free}
    outs = law.program.bind(data)({n: np.array([[v]]) for n, v in trial.items()})
    for p in free:
        slope = float(np.mean(np.abs(np.broadcast_to(outs[1 + law.param_names.index(p.name)], (1, ROWS)))))
        point[p.name] = _inside(p, 1.0 / slope if slope > 0 else 1.0)
    return {n: float(point[n]) for n in law.param_names}


def gradients(law: Law, data, point) -> np.ndarray:
    """Analytic partial derivatives, shape (p, rows)."""
    outs = law.program.bind(data)({n: np.array([[v]]) for n, v in point.items()})
    return np.stack([np.broadcast_to(g, (1, ROWS))[0] for g in outs[1:]])


def tolerance(analytic: np.ndarray, value: np.ndarray, h: float) -> float:
    """Absolute tolerance of a central difference: a small part of the largest slope plus the
    rounding error of the two evaluations (100 eps |f| / h)."""
    return 1e-7 * float(np.max(np.abs(analytic))) + 100 * np.finfo(float).eps * float(np.max(np.abs(value))) / h


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    law = CATALOGUE[request.param]
    data = inputs_of(law)
    point = point_of(law, data)
    y = law.evaluate(data, point)
    table = pd.DataFrame({law.column(s): v for s, v in data.items()} | {law.target: y})
    return law, data, point, table


def test_every_law_is_documented_and_named_by_its_family(case):
    law = case[0]
    assert law.doc and all(p.doc for p in law.params)
    family, _, name = law.name.rpartition(".")
    assert name.isidentifier() and (not family or family in {"datastore", "downstream", "hyperparams", "loss",
                                                              "sampling", "transport"})
    assert get_law(law.name) is law


def test_analytic_gradients_match_central_differences_where_every_parameter_matters(case):
    law, data, point, _ = case
    value = law.evaluate(data, point)
    assert np.all(np.isfinite(value))
    analytic = gradients(law, data, point)
    scale = np.maximum(np.abs(value), 1e-12)
    for j, name in enumerate(law.param_names):
        # the parameter matters: moving it by 1% of its size (or 0.01) moves the law measurably
        step = 0.01 * max(abs(point[name]), 1e-2)
        assert np.max(np.abs(analytic[j]) * step / scale) > 1e-6, f"{name} does not matter at {point}"
        h = 1e-6 * max(abs(point[name]), 1e-3)
        up = law.evaluate(data, point | {name: point[name] + h})
        down = law.evaluate(data, point | {name: point[name] - h})
        np.testing.assert_allclose(analytic[j], (up - down) / (2 * h), rtol=1e-5,
                                   atol=tolerance(analytic[j], value, h), err_msg=f"d{law.name}/d{name}")


def test_every_start_set_is_finite_and_inside_the_bounds(case):
    law, data, _, table = case
    y = table[law.target].to_numpy()
    usable = 0
    for name in START_SETS:
        try:
            natural = to_natural(law, start_points(law, name, data, y))
        except LawError:
            assert name != "default", f"{law.name} has no default start set"
            continue
        usable += 1
        assert natural.ndim == 2 and natural.shape[1] == len(law.params) and np.all(np.isfinite(natural))
        lower = np.array([p.lower for p in law.params])
        upper = np.array([p.upper for p in law.params])
        slack = 1e-12 * np.maximum(np.abs(lower), np.abs(upper))  # exp(log(bound)) rounding only
        slack = np.where(np.isfinite(slack), slack, 0.0)
        assert np.all((natural >= lower - slack) & (natural <= upper + slack)), name
    assert usable >= 1


def test_declaration_round_trips_through_json(case):
    law = case[0]
    assert Law.from_dict(loads(dumps(law.to_dict()))) == law


def test_fit_to_the_law_recovers_it_round_trips_and_replays(case):
    law, data, point, table = case
    result = engine.fit(law, table, loss="squared")
    truth = table[law.target].to_numpy()
    np.testing.assert_allclose(result.predict(table), truth, rtol=1e-6, atol=1e-9 * np.max(np.abs(truth)))
    J = gradients(law, data, point).T * np.array([point[n] if p.log else 1.0
                                                  for n, p in zip(law.param_names, law.params, strict=True)])
    J = J / np.maximum(np.linalg.norm(J, axis=0), 1e-300)
    if np.linalg.cond(J) < 1e6:  # identifiable at this point: the parameters themselves come back
        for name in law.param_names:
            assert result.params[name] == pytest.approx(point[name], rel=1e-4, abs=1e-6), name
    restored = FitResult.from_json(result.to_json())
    assert restored.law == law and dict(restored.params) == dict(result.params)
    np.testing.assert_array_equal(restored.predict(table), result.predict(table))
    again = engine.fit(law, table, **restored.settings)
    assert dict(again.params) == dict(result.params)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_parametrised_laws_rebuild_their_canonical_instance(name):
    builder, canonical = BUILDERS[name]
    assert build_law(name) == CATALOGUE[name] == builder(**canonical)


@pytest.mark.parametrize("size", [1, 3, 6])
def test_parametrised_laws_of_any_size_have_exact_gradients(size):
    sources = tuple(f"s{j}" for j in range(size))
    for law in (build_law("transport.mixing_law", domains=sources), build_law("transport.linear_mixing",
                domains=sources), build_law("transport.projektor_stage1", sources=sources),
                build_law("downstream.observational_sigmoid", n_inputs=size)):
        data = inputs_of(law)
        point = point_of(law, data)
        analytic = gradients(law, data, point)
        for j, name in enumerate(law.param_names):
            h = 1e-6 * max(abs(point[name]), 1e-3)
            numeric = (law.evaluate(data, point | {name: point[name] + h})
                       - law.evaluate(data, point | {name: point[name] - h})) / (2 * h)
            atol = tolerance(analytic[j], law.evaluate(data, point), h)
            np.testing.assert_allclose(analytic[j], numeric, rtol=1e-5, atol=atol, err_msg=f"{law.name}/{name}")


def test_importing_the_catalogue_is_light():
    code = ("import sys, scalelaw.laws as laws; heavy = ('pandas', 'scipy', 'sklearn', 'ot', 'matplotlib', "
            "'scalelaw.families', 'scalelaw.engine'); "
            "print(len(laws.CATALOGUE), sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == len(CATALOGUE) and " ".join(out[1:]) == "[]"


def test_namespaced_unknown_name_is_a_clear_error():
    with pytest.raises(LawError, match="unknown law 'datastore.saturatin'"):
        get_law("datastore.saturatin")
    with pytest.raises(LawError, match="not a parametrised law"):
        build_law("chinchilla")
