"""Bounded mixing laws: t_j bounded by default keeps a fit on few mixtures from the k -> 0 corner."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalelaw import DegeneracyWarning
from scalelaw.families.transport import mixing

from support import DATA

TARGET = "metric/the_pile_pile_cc_val_loss"
pytestmark = pytest.mark.filterwarnings("ignore::scalelaw.errors.ExtrapolationWarning")


def _read(mixtures: str, losses: str, domains=None):
    return mixing.read_mixtures(DATA / "mixture" / mixtures, DATA / "mixture" / losses, target=TARGET,
                                domains=domains)


@pytest.fixture(scope="module")
def tables():
    train, domains = _read("train_mixture_1m.csv", "train_pile_loss_1m.csv")
    test, _ = _read("test_mixture_1m.csv", "test_pile_loss_1m.csv", domains)
    return train, test, domains


def test_the_bound_leaves_the_healthy_regmix_fit_bit_for_bit(tables):
    train, _, domains = tables
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegeneracyWarning)
        bounded = mixing.fit_mixture(train, domains, TARGET)
    free = mixing.fit_mixture(train, domains, TARGET, t_bound=None)
    assert dict(bounded.params) == dict(free.params)
    assert bounded.law.params[2].lower == -mixing.T_BOUND and bounded.diagnostics["at_bound"] == []
    assert bounded.warnings == ()


def test_on_few_mixtures_the_free_law_collapses_loudly_and_the_bounded_one_predicts_better(tables):
    train, test, domains = tables
    few = train.iloc[:24]
    with pytest.warns(DegeneracyWarning, match=r"law transport.mixing_law: degenerate fit: k collapsed"):
        free = mixing.fit_mixture(few, domains, TARGET, t_bound=None)
    t = [free.params[f"t_{j}"] for j in range(1, len(domains) + 1)]
    assert free.params["k"] < 1e-12 and max(t) > 50
    bounded = mixing.fit_mixture(few, domains, TARGET)
    assert bounded.params["k"] == pytest.approx(13.2, rel=0.01)
    assert bounded.diagnostics["collapsed"] == [] and "t_8" in bounded.diagnostics["at_bound"]
    assert any("at a bound" in w for w in bounded.warnings)
    assert mixing.evaluate(free, test)["mae"] == pytest.approx(0.2243, abs=5e-4)
    assert mixing.evaluate(bounded, test)["mae"] == pytest.approx(0.1322, abs=5e-4)


def test_a_bad_bound_is_refused():
    from scalelaw.catalogue.transport import mixing_law
    from scalelaw.errors import LawError

    with pytest.raises(LawError, match="t_bound must be > 0"):
        mixing_law(["a", "b"], "loss", t_bound=0)


def test_optimize_warns_when_the_chosen_mixture_leaves_the_hull(tables):
    train, _, domains = tables
    fit = mixing.fit_mixture(train.iloc[:60], domains, TARGET)
    corner = np.zeros(len(domains))
    corner[0] = 1.0
    with pytest.warns(UserWarning):
        best = mixing.optimize(fit, start=corner, iterations=1)
    assert any("outside" in w or "beyond the fitted range" in w for w in best.warnings)


def test_cli_strict_refuses_the_collapsed_free_fit_and_keeps_the_bounded_one(tmp_path, capsys):
    from test_identifiability import _main

    for name in ("train_mixture_1m.csv", "train_pile_loss_1m.csv"):
        lines = (DATA / "mixture" / name).read_text().splitlines()
        (tmp_path / name).write_text("\n".join(lines[:25]) + "\n")
    files = [str(tmp_path / "train_mixture_1m.csv"), str(tmp_path / "train_pile_loss_1m.csv"), "--target", TARGET]
    out = tmp_path / "mix.json"
    for extra, code in ((["--t-bound", "0", "--strict"], 2), (["--strict"], 0)):
        assert _main("mix", "fit", *files, *extra, "--out", out) == code
    err = capsys.readouterr().err
    assert "error: law transport.mixing_law: degenerate fit: k collapsed toward 0" in err
    assert "warning: parameters at a bound: t_8" in err
    from scalelaw.result import FitResult

    assert FitResult.from_json(out).params["k"] == pytest.approx(13.2, rel=0.01)
