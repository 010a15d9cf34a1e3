"""Loud degeneracy: identifiability diagnostics of every fit, its one warning line, --strict and profiles."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from typer.testing import CliRunner

from scalelaw import DegeneracyWarning, FitError, engine, get_law, identifiability
from scalelaw.cli import app
from scalelaw.families import loss as family
from scalelaw.laws import Law, Param
from scalelaw.result import FitResult

from support import DATA

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


def _no_floor() -> pd.DataFrame:
    """A pure power law in N and D with no floor: E is not identified (its best value is 0)."""
    n, d = np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e11, 5))
    n, d = n.ravel(), d.ravel()
    return pd.DataFrame({"params": n, "tokens": d, "loss": 400 / n**0.3 + 1000 / d**0.3})


@pytest.fixture(scope="module")
def chinchilla():
    frame, _ = family.read_runs(CHINCHILLA, exclude_highest=5)
    return frame


def test_a_healthy_chinchilla_fit_is_quiet_and_well_conditioned(chinchilla):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegeneracyWarning)
        fit = family.fit_loss(chinchilla, "chinchilla", starts="hoffmann")
    d = fit.diagnostics
    assert d["condition_number"] == pytest.approx(2003.187, rel=1e-5)
    assert d["collapsed"] == [] and d["disagree"] == [] and d["weakest"] == "B"
    assert max(d["start_spread"].values()) < 1e-6
    assert fit.warnings == ()
    assert fit.params["E"] == pytest.approx(1.8172, abs=1e-4)  # the published optimum is untouched


def test_a_collapsed_floor_is_named_in_one_line_everywhere():
    with pytest.warns(DegeneracyWarning, match=r"^law chinchilla: degenerate fit: E collapsed toward 0") as caught:
        fit = engine.fit(get_law("chinchilla"), _no_floor())
    assert len(caught) == 1
    assert fit.params["E"] < 1e-12 and fit.params["alpha"] == pytest.approx(0.3, rel=1e-9)
    assert fit.diagnostics["collapsed"] == ["E"]
    (line,) = fit.warnings
    assert line == str(caught[0].message) and "\n" not in line
    assert line in fit.report()
    again = FitResult.from_json(fit.to_json())
    assert again.warnings == fit.warnings and again.diagnostics["collapsed"] == ["E"]
    assert json.loads(fit.to_json())["warnings"] == [line]


def test_an_artifact_without_the_diagnostics_still_loads_quietly(chinchilla):
    fit = family.fit_loss(chinchilla, "chinchilla")
    payload = json.loads(fit.to_json())
    for key in ("condition_number", "weakest", "collapsed", "start_spread", "disagree"):
        del payload["diagnostics"][key]
    del payload["warnings"]
    old = FitResult.from_json(json.dumps(payload))
    assert old.warnings == () and old.params == fit.params


def test_a_near_collinear_problem_has_a_huge_condition_number():
    rng = np.random.default_rng(0)
    x = np.geomspace(1.0, 100.0, 12)
    z = x * (1 + 1e-14 * rng.uniform(-1, 1, x.size))
    law = Law(name="two_slopes", formula="a*x + b*z", inputs=("x", "z"), params=(Param("a"), Param("b")),
              space="linear", columns=(("x", "x"), ("z", "z")), target="y")
    table = pd.DataFrame({"x": x, "z": z, "y": 3 * x})
    with pytest.warns(DegeneracyWarning, match="condition number"):
        fit = engine.fit(law, table, loss="squared", starts={"a": 1.0, "b": 1.0})
    assert fit.diagnostics["condition_number"] > 1e12
    J = np.column_stack([x, z])
    assert identifiability.condition(J)[0] == pytest.approx(np.linalg.cond(J), rel=1e-3)


def test_an_iteration_limited_fit_warns_and_replays(chinchilla):
    with pytest.warns(DegeneracyWarning, match="iteration limit reached before convergence"):
        fit = family.fit_loss(chinchilla, "chinchilla", max_iter=3)
    assert fit.diagnostics["converged"] is False and fit.diagnostics["iterations"] == 3
    assert fit.settings["max_iter"] == 3
    assert "max_iter" not in family.fit_loss(chinchilla, "chinchilla").settings
    with pytest.raises(FitError, match="iteration limit"), identifiability.strict():
        engine.fit(fit.law, chinchilla, **fit.settings)
    with pytest.raises(FitError, match="max_iter"):
        engine.fit(fit.law, chinchilla, max_iter=0)


def test_the_profile_of_a_linear_least_squares_law_is_its_f_interval():
    rng = np.random.default_rng(0)
    x = np.geomspace(1, 1000, 10)
    y = 3 * x**-0.5 * np.exp(rng.normal(0, 0.05, x.size))
    fit = engine.fit(get_law("power_law"), pd.DataFrame({"x": x, "loss": y}), loss="squared", profile=True)
    X = np.column_stack([np.ones_like(x), -np.log(x)])
    beta, rss, *_ = np.linalg.lstsq(X, np.log(y), rcond=None)
    half = np.sqrt(chi2.ppf(0.95, 1) * rss[0] / (x.size - 2) * np.diag(np.linalg.inv(X.T @ X)))
    profile = fit.diagnostics["profile"]
    assert [profile["alpha"]["lower"], profile["alpha"]["upper"]] == pytest.approx(
        [beta[1] - half[1], beta[1] + half[1]], rel=1e-8)
    assert [profile["A"]["lower"], profile["A"]["upper"]] == pytest.approx(np.exp([beta[0] - half[0],
                                                                                    beta[0] + half[0]]), rel=1e-8)
    assert fit.settings["profile"] is True


def test_an_unbounded_direction_has_an_infinite_profile():
    with pytest.warns(DegeneracyWarning):
        fit = engine.fit(get_law("chinchilla"), _no_floor(), profile=True)
    assert fit.diagnostics["profile"]["E"]["lower"] == 0.0
    assert fit.diagnostics["profile"]["alpha"]["width"] < 1e-3


# ------------------------------------------------------------------------------------- the command line
def _run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


def test_cli_json_carries_the_warning_and_strict_refuses(tmp_path):
    data = tmp_path / "nofloor.csv"
    _no_floor().to_csv(data, index=False)
    out = tmp_path / "fit.json"
    assert _main("fit", "loss", data, "--strict", "--out", out) == 2
    assert not out.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegeneracyWarning)
        shown = _run("fit", "loss", data, "--json")
    assert shown.exit_code == 0
    payload = json.loads(shown.stdout)
    assert payload["diagnostics"]["collapsed"] == ["E"]
    assert any(w.startswith("law chinchilla: degenerate fit: E collapsed") for w in payload["warnings"])


def _main(*args) -> int:
    """Exit code of the console entry point on these arguments."""
    from scalelaw.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as stopped:
        return stopped.code
    return 0


def test_cli_iteration_limit_warns_and_strict_exits_2(tmp_path, capsys):
    assert _main("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--max-iter", "3", "--json") == 0
    captured = capsys.readouterr()
    assert "law chinchilla: iteration limit reached before convergence" in json.loads(captured.out)["warnings"]
    assert "warning: law chinchilla: iteration limit reached" in captured.err
    out = tmp_path / "fit.json"
    assert _main("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--max-iter", "3", "--strict",
                 "--out", out) == 2
    assert not out.exists()
    assert "error: law chinchilla: iteration limit reached before convergence" in capsys.readouterr().err
    assert _main("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--profile") == 0
    assert "profile 95% interval of alpha" in capsys.readouterr().out


def test_a_coefficient_of_a_power_of_compute_is_not_collapsed_by_its_size(cli):
    """N_opt = k C^a on Porian's isoFLOP minima: k is about 0.1 against N of 1e7-1e9 because C is 1e16-1e20;
    the fit is healthy and says nothing of k."""
    from support import DATA

    run = cli("fit", "isoflop", DATA / "loss" / "porian_isoflop_points.csv", "--where", "dataset=rw",
              "--where", "hparams=tuned", "--where", "param_count=standard", "--json")
    assert run.code == 0 and "collapsed" not in run.stdout + run.stderr
