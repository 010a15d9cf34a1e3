"""The unbiased pass@k estimator, pass^k and coverage curves: exact vectors and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import comb

from scalelaw.errors import InputError
from scalelaw.families import sampling

from support import DATA

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
CURVE = DATA / "sampling" / "llmonkeys_pythia_math_coverage_curve.csv"


def reference(n: int, c: int, k: int) -> float:
    """Chen et al.'s product form, one problem at a time (k <= n)."""
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


# research/sampling.md 1.3: exact comb and the product form agree to 12 digits
VECTORS = [(200, 10, 1, 0.05), (200, 10, 10, 0.408547866081), (200, 10, 100, 0.999228973937),
           (10000, 1, 100, 0.01), (10000, 1, 5000, 0.5), (10000, 37, 2000, 0.999744683631),
           (100, 100, 50, 1.0)]


@pytest.mark.parametrize("n, c, k, expected", VECTORS)
def test_pass_at_k_test_vectors(n, c, k, expected):
    assert sampling.pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_zero_correct_gives_zero_and_k_above_n_is_an_error_not_one():
    assert sampling.pass_at_k(2, 0, 2) == 0.0
    assert sampling.pass_at_k(10000, 0, 10000) == 0.0
    with pytest.raises(InputError, match="undefined for k > n"):
        sampling.pass_at_k(2, 0, 5)  # Chen et al.'s shortcut n - c < k returns 1.0 here


def test_k_above_n_gives_nan_with_a_warning_when_asked():
    with pytest.warns(UserWarning, match="undefined for k > n"):
        out = sampling.pass_at_k([2, 10], [0, 3], [1, 5], undefined="nan")
    assert out[0, 0] == 0.0 and np.isnan(out[0, 1])
    assert out[1, 1] == pytest.approx(reference(10, 3, 5), abs=1e-15)
    with pytest.warns(UserWarning):
        cov = sampling.coverage([2, 10], [0, 3], [1, 5], undefined="nan")
    assert cov[0] == pytest.approx(0.5 * (0 + 0.3)) and np.isnan(cov[1])


@pytest.mark.parametrize("bad", [0, -1, 1.5, np.nan])
def test_k_must_be_a_positive_integer(bad):
    with pytest.raises(InputError, match="positive integers"):
        sampling.pass_at_k(10, 1, bad)


def test_counts_are_checked():
    with pytest.raises(InputError, match="exceeds"):
        sampling.pass_at_k(5, 6, 1)
    with pytest.raises(InputError, match="whole numbers"):
        sampling.pass_at_k(5, -1, 1)


def test_pass_hat_k_is_comb_c_k_over_comb_n_k():
    for n, c, k in [(10, 3, 2), (200, 150, 40), (1000, 999, 500), (50, 0, 3), (50, 50, 50), (7, 2, 3)]:
        expected = comb(c, k, exact=True) / comb(n, k, exact=True)
        assert sampling.pass_hat_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_vectorised_estimator_equals_the_per_problem_loop():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 400, 300)
    c = rng.binomial(n, rng.beta(0.3, 2.0, n.size))
    ks = np.array([1, 2, 3, 7, 20, 64, 100, 399])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = sampling.pass_at_k(n, c, ks, undefined="nan")
    for i in range(n.size):
        for j, k in enumerate(ks):
            if k <= n[i]:
                assert got[i, j] == pytest.approx(reference(n[i], c[i], k), abs=1e-13)
            else:
                assert np.isnan(got[i, j])


def test_every_k_at_large_n_equals_the_reference_to_1e_12():
    rng = np.random.default_rng(2)
    n = np.full(400, 5000)
    c = rng.binomial(5000, 0.5 * rng.beta(0.2, 2.0, 400))
    ks = np.arange(1, 5001)
    curve = sampling.coverage(n, c, ks)
    for k in (1, 2, 17, 333, 1000, 2500, 4999, 5000):
        assert curve[k - 1] == pytest.approx(np.mean([reference(5000, ci, k) for ci in c]), abs=1e-12)
    per_problem = sampling.pass_at_k(n[:40], c[:40], [3, 900, 4321])
    for i in range(40):
        for j, k in enumerate((3, 900, 4321)):
            assert per_problem[i, j] == pytest.approx(reference(5000, c[i], k), abs=1e-12)


def test_weighted_pass_with_signed_weights():
    n, c = np.array([10, 10, 20]), np.array([2, 0, 5])
    w = np.array([[1.0, -2.0, 0.5]])
    expected = [sum(wi * reference(ni, ci, k) for wi, ni, ci in zip(w[0], n, c, strict=True)) for k in (1, 4)]
    assert sampling.weighted_pass(n, c, [1, 4], w)[0] == pytest.approx(expected, abs=1e-15)


def test_unbiased_estimator_reproduces_the_published_coverage_curve():
    tidy, _ = sampling.read_counts(PER_PROBLEM)
    published = pd.read_csv(CURVE)
    ks = published["k"].to_numpy()
    for model in published.columns[1:]:
        part = tidy[tidy["model"] == model]
        ours = sampling.coverage(part["n_samples"], part["n_correct"], ks)
        assert np.max(np.abs(ours - published[model].to_numpy())) < 1e-6  # the file has 6 digits


def test_brown_text_numbers_pythia_160m():
    tidy, _ = sampling.read_counts(PER_PROBLEM)
    part = tidy[tidy["model"] == "Pythia 160M"]
    cov = sampling.coverage(part["n_samples"], part["n_correct"], [1, 10000])
    assert round(100 * cov[0], 2) == 0.27 and round(100 * cov[1]) == 57  # "0.27% ... 57%"


def test_bootstrap_over_problems_intervals_are_seeded_and_cover_the_estimate():
    tidy, _ = sampling.read_counts(PER_PROBLEM)
    a = sampling.coverage_table(tidy, [1, 100], bootstrap=300, seed=4)
    b = sampling.coverage_table(tidy, [1, 100], bootstrap=300, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert (a["lower"] <= a["coverage"]).all() and (a["coverage"] <= a["upper"]).all()
    assert (a["upper"] - a["lower"] > 0).all()
    # a replicate is a reweighting: the interval of pass@1 equals the percentile of resampled means
    part = tidy[tidy["model"] == "Pythia 12B"]
    draws = sampling.curves.resample(len(part), 300, 4)
    p1 = part["n_correct"].to_numpy() / part["n_samples"].to_numpy()
    means = draws @ p1 / len(part)
    row = a[(a["model"] == "Pythia 12B") & (a["k"] == 1)].iloc[0]
    assert row["lower"] == pytest.approx(np.percentile(means, 2.5), abs=1e-12)


def test_long_format_is_counted_into_the_per_problem_table(tmp_path):
    rows = [("m", "p1", 1), ("m", "p1", 0), ("m", "p1", 1), ("m", "p2", 0), ("m", "p2", 0), ("m", "p2", 0)]
    long = tmp_path / "samples.csv"
    pd.DataFrame(rows, columns=["model", "problem_id", "is_correct"]).to_csv(long, index=False)
    tidy, notes = sampling.read_counts(long)
    assert tidy[["problem", "n_samples", "n_correct"]].values.tolist() == [["p1", 3, 2], ["p2", 3, 0]]
    assert "counted 6 samples into 2 problems" in notes[-1]


def test_per_sample_verifier_flags_and_benchmarks_split_models(tmp_path):
    rows = [("m", "A", "p1", 1, 1), ("m", "A", "p1", 0, 1), ("m", "A", "p1", 1, 0), ("m", "B", "p1", 0, 0)]
    path = tmp_path / "samples.csv"
    columns = ["model", "benchmark", "task_id", "correct", "accepted"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    tidy, _ = sampling.read_counts(path)
    assert tidy["model"].tolist() == ["m / A", "m / B"]
    assert tidy[["n_samples", "n_correct", "n_accepted", "n_accepted_correct"]].values.tolist() == [
        [3, 2, 2, 1], [1, 0, 0, 0]]
