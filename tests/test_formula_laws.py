"""Formula laws declared in full (bounds, log scale, starts), fitted on standardised inputs, and the
formulas that are refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw import artifact, engine, get_law
from scalelaw.errors import LawError
from scalelaw.formula import constraints, declare
from scalelaw.result import FitResult

from support import DATA, assert_user_error

OLMO = DATA / "loss" / "colpret_olmo_checkpoint_losses.csv"
MC4 = "mc4_en-validation/CrossEntropyLoss"
CURVE = ("--where", "model_name=OLMo-7B-Twin-2T", "--column", f"loss={MC4}")


@pytest.fixture(scope="module")
def curve() -> pd.DataFrame:
    """A learning curve: OLMo-7B-Twin-2T's mC4 validation loss against tokens seen (444 checkpoints)."""
    frame = pd.read_csv(OLMO)
    rows = frame[frame["model_name"] == "OLMo-7B-Twin-2T"].dropna(subset=[MC4])
    return pd.DataFrame({"x": rows["tokens"].to_numpy(), "loss": rows[MC4].to_numpy()})


def test_the_inline_syntax_gives_bounds_and_log_scales():
    assert constraints(["g>=0", "B>0,log", "a<=2,c>-1"]) == {
        "g": {"lower": 0.0}, "B": {"lower": 0.0, "log": True}, "a": {"upper": 2.0}, "c": {"lower": -1.0}}
    with pytest.raises(LawError, match="'B=>0' is not NAME>=VALUE"):
        constraints(["B=>0"])
    with pytest.raises(LawError, match="the bound 'x1' of 'B' is not a number"):
        constraints(["B>x1"])


def test_declarations_land_in_the_law_and_replay():
    law = get_law("E + B*x**-c", params={"B": {"lower": 0, "log": True}, "c": {"lower": 0, "upper": 0.5}},
                  starts={"E": 1.5})
    assert law.param("B").log and law.param("B").lower == 0.0
    assert law.param("E").starts == (1.5,)
    assert law.param("c").starts == (0.05, 0.1, 0.2, 0.3, 0.45)  # default exponent starts within the bounds
    t = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0, 16.0], "loss": 1.0 + 2.0 * np.array([1, 2, 4, 8, 16.0]) ** -0.4})
    fit = engine.fit(law, t, loss="squared")
    assert fit.params["c"] == pytest.approx(0.4, rel=1e-6) and fit.params["B"] == pytest.approx(2.0, rel=1e-6)
    again = FitResult.from_fields(artifact.loads(fit.to_json()))
    assert again.law == law and again.law.param("E").starts == (1.5,)


def test_a_declaration_outside_the_formula_or_a_catalogue_law_is_refused():
    with pytest.raises(LawError, match="bounds are given for 'Z', not a parameter of 'E \\+ B\\*x\\*\\*-c'"):
        declare("E + B*x**-c", params={"Z": {"lower": 0}})
    with pytest.raises(LawError, match="unknown field 'low'"):
        declare("E + B*x**-c", params={"B": {"low": 0}})
    with pytest.raises(LawError, match="catalogue law"):
        get_law("chinchilla", starts={"E": 1.0})
    law = declare("E + B*x**-c", params={"c": {"lower": 2.0, "upper": 3.0}})
    assert law.param("c").starts == (2.5,)  # no default start fits the bounds: their midpoint


def test_a_formula_naming_the_target_is_refused():
    with pytest.raises(LawError, match="names the target column 'loss'"):
        get_law("(loss - E)/(F - loss)**a - B*x**-c", columns=["x", "loss"])


def test_the_same_formula_converges_on_raw_and_scaled_inputs_to_the_same_answer(curve):
    law = get_law("E + B*x**-c")
    raw = engine.fit(law, curve)
    scaled = engine.fit(law, curve.assign(x=curve["x"] / curve["x"].min()))
    assert raw.diagnostics["converged"] and scaled.diagnostics["converged"]
    converted = dict(scaled.params, B=scaled.params["B"] * curve["x"].min() ** scaled.params["c"])
    for name, value in raw.params.items():
        assert converted[name] == pytest.approx(value, rel=1e-6), name
    assert raw.params["c"] == pytest.approx(0.43562, rel=1e-4)
    assert raw.params["E"] == pytest.approx(2.05872, rel=1e-4)
    # the fit on raw x without standardising stops short of that optimum
    unscaled = engine.fit(law, curve, _raw=True)
    assert not unscaled.diagnostics["converged"]
    assert unscaled.diagnostics["objective"] > raw.diagnostics["objective"]


def test_bootstrap_draws_are_converted_too(curve):
    law = get_law("E + B*x**-c")
    rows = curve.iloc[::8]
    fit = engine.fit(law, rows, bootstrap=20, seed=3)
    scaled = engine.fit(law, rows.assign(x=rows["x"] / 1e9), bootstrap=20, seed=3)
    j, k = law.param_names.index("B"), law.param_names.index("c")
    converted = scaled.bootstrap.copy()
    converted[:, j] *= 1e9 ** scaled.bootstrap[:, k]
    assert fit.bootstrap.shape == (20, 3)
    np.testing.assert_allclose(fit.bootstrap, converted, rtol=1e-4)
    assert fit.data["ranges"]["x"] == [4e9, float(rows["x"].max())]
    assert fit.metrics["mape"] == pytest.approx(scaled.metrics["mape"], rel=1e-6)


def test_the_cli_declares_a_formula_law_and_maps_its_x(cli, tmp_path):
    out = tmp_path / "fit.json"
    run = cli("fit", "loss", OLMO, *CURVE, "--law", "E + B*x**-c", "--column", "x=tokens",
              "--param", "B>0,log", "--param", "c>=0", "--start", "c=0.3", "--start", "c=0.5", "--json",
              "--out", out)
    assert run.code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["params"]["c"] == pytest.approx(0.43562, rel=1e-4)
    assert payload["law"]["columns"] == {"x": "tokens"}
    declared = {p["name"]: p for p in payload["law"]["params"]}
    assert declared["B"]["log"] and declared["c"]["lower"] == 0.0 and declared["c"]["starts"] == [0.3, 0.5]
    assert json.loads(out.read_text())["params"] == payload["params"]


def test_the_cli_refuses_bad_formula_declarations(cli):
    assert_user_error(cli("validate", "loss", OLMO, *CURVE, "--law", "(loss - E)/(F - loss)**a - B*x**-c",
                          "--column", "x=tokens"), "names the target column 'loss'")
    assert_user_error(cli("fit", "loss", OLMO, *CURVE, "--law", "E + B*x**-c", "--column", "x=tokens",
                          "--param", "Z>0"), "bounds are given for 'Z'")
    assert_user_error(cli("fit", "loss", OLMO, *CURVE, "--param", "E>0"), "--param and --start", "'chinchilla'")
    assert_user_error(cli("fit", "loss", OLMO, *CURVE, "--law", "E + B*x**-c", "--column", "x=steps"),
                      "--column x=steps", "no column 'steps'")
    assert_user_error(cli("fit", "loss", OLMO, *CURVE, "--law", "E + B*x**-c", "--column", "x=tokens",
                          "--start", "c=fast"), "--start")


def test_the_cli_fits_in_excess_space_and_an_implicit_law(cli):
    run = cli("fit", "loss", OLMO, *CURVE, "--law", "saturating_power_law", "--column", "x=tokens",
              "--space", "excess", "--json")
    assert run.code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["law"]["space"] == "excess" and payload["params"]["E"] < 2.1675
    early = cli("fit", "loss", OLMO, *CURVE, "--where", "tokens<2e11", "--law", "implicit_m4", "--column",
                "x=tokens", "--json")
    assert early.code == 0, early.stderr
    m4 = json.loads(early.stdout)
    assert m4["law"]["bracket"] == ["E", "e0"] and m4["diagnostics"]["converged"]
    assert m4["params"]["E"] < 3.0 < m4["params"]["e0"]
    assert_user_error(cli("fit", "loss", OLMO, *CURVE, "--law", "power_law", "--column", "x=tokens", "--space",
                          "excess"), "--space excess needs a floor parameter named E")
