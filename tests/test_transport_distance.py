"""OT distances: closed forms, identities, the label term, subsampling and mixture gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.families.transport.distance import METHODS, MixtureTransport, Samples, distance


def _cloud(seed: int, n: int, d: int, shift: float = 0.0, labels: bool = False, name: str = "s") -> Samples:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n) if labels else None
    return Samples(rng.normal(size=(n, d)) + shift, y, name)


def test_exact_one_dimensional_closed_form():
    # In 1-D with equal sizes and uniform weights, W2^2 is the mean squared gap of the sorted samples.
    a, b = _cloud(0, 80, 1), _cloud(1, 80, 1, shift=0.7)
    expected = np.mean((np.sort(a.features[:, 0]) - np.sort(b.features[:, 0])) ** 2)
    d = distance(a, b)
    assert d.cost == pytest.approx(expected, rel=1e-12)
    assert d.distance == pytest.approx(np.sqrt(expected), rel=1e-12)


def test_translation_adds_squared_shift():
    # Translating one set by v adds ||v||^2 to W2^2 (the mean-difference term of W2).
    a = _cloud(2, 60, 3)
    shift = np.array([0.5, -1.0, 2.0])
    b = Samples(a.features + shift)
    assert distance(a, b).cost == pytest.approx(float(shift @ shift), rel=1e-10)


@pytest.mark.parametrize("method", ["exact", "divergence"])
def test_a_set_is_at_distance_zero_from_itself(method):
    a = _cloud(3, 50, 4, labels=True)
    assert abs(distance(a, a, method=method).cost) < 1e-7


def test_sinkhorn_is_above_exact_and_approaches_it():
    a, b = _cloud(4, 70, 2), _cloud(5, 70, 2, shift=1.0)
    exact = distance(a, b).cost
    loose = distance(a, b, method="sinkhorn", reg=0.05).cost
    tight = distance(a, b, method="sinkhorn", reg=0.002).cost
    assert loose > tight > exact
    assert tight == pytest.approx(exact, rel=0.05)


def _brute_w2(xa: np.ndarray, xb: np.ndarray) -> float:
    """W2^2 between two equal-size uniform sets: the best of all matchings (Birkhoff)."""
    return min(
        np.mean(np.sum((xa - xb[list(perm)]) ** 2, axis=1)) for perm in itertools.permutations(range(len(xb)))
    )


def test_label_term_is_otdd_class_distance():
    # OTDD cost by brute force: c(z, z') = ||x - x'||^2 + W2^2(class of z, class of z').
    rng = np.random.default_rng(8)
    xa, xb = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 1.0
    ya, yb = np.array(list("aabbcc")), np.array(list("ababcc"))
    classes = "abc"
    W = {(u, v): _brute_w2(xa[ya == u], xb[yb == v]) for u in classes for v in classes}
    cost = np.array([[np.sum((xa[i] - xb[j]) ** 2) + W[ya[i], yb[j]] for j in range(6)] for i in range(6)])
    expected = min(np.mean(cost[np.arange(6), list(perm)]) for perm in itertools.permutations(range(6)))
    assert distance(Samples(xa, ya), Samples(xb, yb)).cost == pytest.approx(expected, rel=1e-12)
    features_only = _brute_w2(xa, xb)
    assert distance(Samples(xa, ya), Samples(xb, yb), label_weight=0).cost == pytest.approx(
        features_only, rel=1e-12
    )


def test_subsampling_is_seeded():
    a, b = _cloud(6, 300, 3), _cloud(7, 250, 3, shift=0.5)
    first = distance(a, b, max_samples=100, seed=1)
    again = distance(a, b, max_samples=100, seed=1)
    other = distance(a, b, max_samples=100, seed=2)
    assert (first.n_a, first.n_b) == (100, 100)
    assert first.cost == again.cost
    assert first.cost != other.cost


def test_different_dimensions_are_refused():
    with pytest.raises(InputError, match="4 features per sample but .* has 3"):
        distance(_cloud(0, 10, 4, name="A"), _cloud(1, 10, 3, name="B"))


def test_mixture_in_proportion_to_sizes_is_the_pooled_set():
    # Weights p_i / n_i with p_i = n_i / n are uniform over the pooled samples.
    sources = [_cloud(10 + i, n, 3, shift=i, name=f"s{i}") for i, n in enumerate((30, 50, 20))]
    target = _cloud(20, 60, 3, shift=1.0)
    pooled = Samples(np.vstack([s.features for s in sources]))
    sizes = np.array([30, 50, 20])
    for method in METHODS:
        mixture = MixtureTransport(sources, target, method=method)(sizes / sizes.sum())
        assert mixture.cost == pytest.approx(distance(pooled, target, method=method).cost, rel=1e-7)


@pytest.mark.parametrize("method,rel", [("sinkhorn", 1e-5), ("divergence", 1e-5), ("exact", 0.02)])
def test_mixture_gradient_matches_finite_differences(method, rel):
    sources = [_cloud(30 + i, 40, 5, shift=i, labels=True, name=f"s{i}") for i in range(3)]
    target = _cloud(40, 60, 5, shift=1.0, labels=True)
    transport = MixtureTransport(sources, target, method=method)
    p = np.array([0.2, 0.3, 0.5])
    gradient = transport(p).gradient
    for v in (np.array([1.0, -1.0, 0.0]), np.array([0.0, 1.0, -1.0]), np.array([1.0, 1.0, -2.0])):
        h = 1e-5
        fd = (transport(p + h * v).cost - transport(p - h * v).cost) / (2 * h)
        assert gradient @ v == pytest.approx(fd, rel=rel)


def test_mixture_gradient_at_a_vertex_is_the_one_sided_derivative():
    sources = [_cloud(50 + i, 40, 4, shift=i, name=f"s{i}") for i in range(3)]
    target = _cloud(60, 50, 4, shift=1.5)
    transport = MixtureTransport(sources, target, method="sinkhorn")
    p, v = np.array([1.0, 0.0, 0.0]), np.array([-1.0, 1.0, 0.0])
    at = transport(p)
    h = 1e-7
    assert at.gradient @ v == pytest.approx((transport(p + h * v).cost - at.cost) / h, rel=1e-4)
