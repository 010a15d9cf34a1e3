"""Mixing laws on RegMix: the Spearman correlations of the Data Mixing Law and the linear baseline."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.families.transport import mixing

from support import DATA

TARGET = "metric/the_pile_pile_cc_val_loss"
SETS = {"1m": 0.962, "60m": 0.957, "1B": 0.986}  # this fit; the research check found 0.963/0.958/0.985
LINEAR = {"1m": 0.902, "60m": 0.893, "1B": 0.877}  # research check: 0.902/0.893/0.879


def _read(stem: str, domains=None):
    mixture = "train_mixture_1m.csv" if stem == "train" else f"test_mixture_{stem}.csv"
    losses = "train_pile_loss_1m.csv" if stem == "train" else f"test_pile_loss_{stem}.csv"
    return mixing.read_mixtures(
        DATA / "mixture" / mixture, DATA / "mixture" / losses, target=TARGET, domains=domains
    )


@pytest.fixture(scope="module")
def fits():
    frame, domains = _read("train")
    return {law: mixing.fit_mixture(frame, domains, TARGET, law=law) for law in mixing.LAWS}, domains


@pytest.mark.parametrize("name", list(SETS))
def test_mixing_law_spearman_on_held_out_regmix(fits, name):
    laws, domains = fits
    frame, _ = _read(name, domains)
    law = mixing.evaluate(laws["mixing_law"], frame)
    linear = mixing.evaluate(laws["linear"], frame)
    assert law["spearman"] >= {"1m": 0.96, "60m": 0.95, "1B": 0.98}[name]
    assert law["spearman"] == pytest.approx(SETS[name], abs=0.005)
    assert linear["spearman"] == pytest.approx(LINEAR[name], abs=0.005)
    assert law["n"] == (64 if name == "1B" else 256)


def test_mixing_law_fit_and_mae(fits):
    laws, domains = fits
    law = laws["mixing_law"]
    assert law.diagnostics["converged"]
    assert len(law.params) == len(domains) + 2 == 19
    frame, _ = _read("1m", domains)
    assert mixing.evaluate(law, frame)["mae"] == pytest.approx(0.071, abs=0.002)


def test_optimum_of_the_mixing_law_is_the_vertex_or_greedy_fill(fits):
    laws, domains = fits
    law = laws["mixing_law"]
    t = np.array([law.params[f"t_{j}"] for j in range(1, len(domains) + 1)])
    best = mixing.optimize(law)
    assert best.mixture[domains[int(np.argmin(t))]] == pytest.approx(1.0, abs=1e-9)
    assert best.predicted == pytest.approx(law.params["c"] + law.params["k"] * np.exp(t.min()), rel=1e-10)
    # Capped at 0.3 per domain, the optimum fills the three smallest t_j: 0.3, 0.3, 0.3, then 0.1.
    capped = mixing.optimize(law, caps={d: 0.3 for d in domains})
    order = np.argsort(t)
    shares = np.array([capped.mixture[d] for d in domains])
    assert shares[order[:4]] == pytest.approx([0.3, 0.3, 0.3, 0.1], abs=1e-9)
    assert shares[order[4:]].sum() == pytest.approx(0.0, abs=1e-9)


def test_join_by_row_order_matches_join_by_index(tmp_path):
    mixtures = (DATA / "mixture" / "test_mixture_1B.csv").read_text().splitlines()
    losses = (DATA / "mixture" / "test_pile_loss_1B.csv").read_text().splitlines()
    (tmp_path / "m.csv").write_text("\n".join(line.split(",", 1)[1] for line in mixtures) + "\n")
    (tmp_path / "l.csv").write_text("\n".join(line.split(",", 1)[1] for line in losses) + "\n")
    by_index, domains = _read("1B")
    by_order, same = mixing.read_mixtures(tmp_path / "m.csv", tmp_path / "l.csv", target=TARGET)
    assert same == domains
    assert np.array_equal(by_index.to_numpy(), by_order.to_numpy())
