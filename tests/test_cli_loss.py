"""The loss family through the command line, as a user types it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalelaw import get_law
from scalelaw.families.loss import chinchilla_allocation

from support import DATA, assert_user_error

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
PORIAN = DATA / "loss" / "porian_isoflop_points.csv"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from support import run_cli

    folder = tmp_path_factory.mktemp("fit")
    out, plot = folder / "fit.json", folder / "fit.png"
    run = run_cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--starts", "hoffmann",
                  "--bootstrap", "200", "--seed", "1", "--out", out, "--plot", plot, "--json")
    assert run.code == 0, run.stderr
    return json.loads(run.stdout), out, plot


def test_fit_loss_json_has_the_chinchilla_parameters(fitted):
    payload, out, plot = fitted
    assert set(payload["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert payload["params"]["E"] == pytest.approx(1.8172, rel=1e-3)
    assert payload["params"]["alpha"] == pytest.approx(0.34731, rel=1e-3)
    assert payload["schema"] == "scalelaw.core.fit/1" and payload["data"]["rows"] == 240
    assert set(payload["intervals"]) == {"E", "A", "B", "alpha", "beta"}
    assert json.loads(out.read_text())["params"] == payload["params"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_loss_tables_for_people(cli):
    run = cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5")
    assert run.code == 0
    assert "alpha" in run.stdout and "allocation exponents: a = 0.5139" in run.stdout
    assert "'Model Size' -> params" in run.stderr and "tokens computed as flops / (6 params)" in run.stderr


def test_predict_gives_the_law_value_and_interval(cli, fitted):
    payload, out, _ = fitted
    run = cli("predict", out, "--params", "70B", "--tokens", "1.4T", "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    p = payload["params"]
    expected = p["E"] + p["A"] * 70e9 ** -p["alpha"] + p["B"] * 1.4e12 ** -p["beta"]
    assert result["prediction"] == pytest.approx(expected, rel=1e-12)
    assert result["lower"] < result["prediction"] < result["upper"]
    assert result["extrapolating"]  # 70B is above the largest fitted size
    flops = cli("predict", out, "--params", "70B", "--flops", str(6 * 70e9 * 1.4e12), "--json")
    assert json.loads(flops.stdout)["prediction"] == pytest.approx(expected, rel=1e-12)


def test_optimal_allocation_for_a_budget(cli, fitted):
    payload, out, _ = fitted
    run = cli("optimal", out, "--flops", "5.76e23", "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    n, d = chinchilla_allocation(5.76e23, **payload["params"])
    assert result["params"] == pytest.approx(n, rel=1e-12) and result["tokens"] == pytest.approx(d, rel=1e-12)
    assert result["params_lower"] < result["params"] < result["params_upper"]
    assert 6 * result["params"] * result["tokens"] == pytest.approx(5.76e23)
    table = cli("optimal", out, "--flops", "5.76e23")
    assert "params N" in table.stdout and "tokens per param" in table.stdout


def test_laws_lists_the_catalogue(cli):
    run = cli("laws", "--json")
    names = {law["name"] for law in json.loads(run.stdout)["laws"]}
    assert {"power_law", "saturating_power_law", "chinchilla", "kaplan", "log_linear"} <= names


def test_validate_loss_reports_held_out_errors(cli):
    run = cli("validate", "loss", CHINCHILLA, "--exclude-highest", "5", "--holdout-top-frac", "0.2", "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["n_held_out"] == 48 and result["n_train"] == 192
    assert set(result["held_out"]) >= {"mae", "mape", "max_abs_error"}
    assert 0 < result["held_out"]["mape"] < 5


def test_fit_isoflop_on_porian(cli, tmp_path):
    plot = tmp_path / "iso.png"
    run = cli("fit", "isoflop", PORIAN, "--where", "dataset=rw", "--where", "hparams=tuned",
              "--where", "param_count=standard", "--flops", "1e21", "--plot", plot, "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["exponents"]["a"]["value"] == pytest.approx(0.497, abs=0.03)
    assert result["at_budget"]["params"] > 0 and plot.exists()


def test_expression_law_from_the_command_line(cli):
    run = cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--law", "E + A/N**alpha + B/D**beta", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["params"]["beta"] == pytest.approx(0.36717, rel=1e-3)


@pytest.mark.parametrize("command", [[], ["fit"], ["fit", "loss"], ["fit", "isoflop"], ["validate", "loss"],
                                     ["predict"], ["optimal"], ["laws"]])
def test_every_command_has_help_with_an_example(cli, command):
    run = cli(*command, "--help")
    assert run.code == 0
    if command and command != ["fit"]:
        assert "Example" in run.stdout


# --------------------------------------------------------------------------------------- bad input
def _csv(tmp_path, text, name="runs.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_ROWS = "".join(f"{n:g},{20 * n:g},{2 + 100 * n ** -0.3 + 300 * (20 * n) ** -0.3:.6f}\n"
                    for n in (1e8, 3e8, 1e9, 3e9, 1e10, 3e10))

ONE_SIZE = "".join(f"1e9,{d:g},{2 + 1e3 * d ** -0.3:.5f}\n" for d in (1e9, 3e9, 1e10, 3e10, 1e11, 3e11))


@pytest.mark.parametrize(
    "content, fragments",
    [
        (None, ["absent.csv", "no such file"]),
        ("", ["runs.csv", "empty"]),
        ("params,tokens,loss\n", ["runs.csv", "no data rows"]),
        ("params,loss\n1e9,2.5\n2e9,2.4\n", ["runs.csv", "'tokens' column or a 'flops' column"]),
        ("N,D\n1e9,2e10\n", ["runs.csv", "missing column 'loss'"]),
        ("params,tokens,loss\n" + GOOD_ROWS + "1e9,2e10,abc\n", ["row 7 (line 8)", "'loss'", "'abc'"]),
        ("params,tokens,loss\n" + GOOD_ROWS + "1e9,2e10,NaN\n", ["row 7 (line 8)", "'loss'", "not a finite"]),
        ("params,tokens,loss\n" + GOOD_ROWS + "1e9,inf,2.0\n", ["row 7 (line 8)", "'tokens'", "not a finite"]),
        ("params,tokens,loss\n" + GOOD_ROWS + "0,2e10,2.0\n", ["row 7 (line 8)", "'params'", "positive"]),
        ("Model Size,tokens,loss\n" + GOOD_ROWS + "-7B,2e10,2.0\n", ["row 7", "'Model Size'", "positive"]),
        ("params,tokens,loss\n1e9,2e10,2.5\n2e9,4e10,2.4\n", ["2 rows but law 'chinchilla' has 5 parameters"]),
        ("params,tokens,loss\n" + ONE_SIZE, ["'params' has a single value", "alpha", "add runs at other values"]),
    ],
)
def test_bad_input_gives_one_line_and_exit_2_and_writes_nothing(cli, tmp_path, content, fragments):
    path = tmp_path / "absent.csv" if content is None else _csv(tmp_path, content)
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    run = cli("fit", "loss", path, "--out", out, "--plot", plot)
    assert_user_error(run, *fragments)
    assert not out.exists() and not plot.exists()
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    "law, fragments",
    [
        ("chinchila", ["unknown law 'chinchila'", "chinchilla"]),
        ("__import__('os').system('echo hacked')", ["not allowed"]),
        ("E + A/N**alpha + os.system(1)", ["not allowed"]),
        ("E + A/N**", ["not valid syntax"]),
    ],
)
def test_unknown_law_and_unsafe_expression(cli, tmp_path, law, fragments):
    path = _csv(tmp_path, "params,tokens,loss\n" + GOOD_ROWS)
    out = tmp_path / "fit.json"
    run = cli("fit", "loss", path, "--law", law, "--out", out)
    assert_user_error(run, *fragments)
    assert not out.exists()


def test_bad_options_are_user_errors(cli, tmp_path, fitted):
    _, out, _ = fitted
    assert_user_error(cli("optimal", out, "--flops", "-5"), "--flops", "positive")
    assert_user_error(cli("predict", out, "--params", "7X", "--tokens", "1T"), "--params", "not a number")
    assert_user_error(cli("predict", out, "--params", "7B"), "needs tokens")
    assert_user_error(cli("optimal", tmp_path / "none.json", "--flops", "1e21"), "no such file")
    bad = _csv(tmp_path, "not json", "bad.json")
    assert_user_error(cli("optimal", bad, "--flops", "1e21"), "bad.json", "not a JSON artifact")
    path = _csv(tmp_path, "params,tokens,loss\n" + GOOD_ROWS)
    assert_user_error(cli("fit", "loss", path, "--plot", tmp_path / "x.xyz"), "cannot write .xyz")
    assert_user_error(cli("fit", "loss", path, "--starts", "hoffmann", "--law", "kaplan"), "start set 'hoffmann'")
    assert_user_error(cli("fit", "loss", path, "--where", "dataset=rw"), "--where names column 'dataset'")
    assert_user_error(cli("validate", "loss", path, "--holdout-top-frac", "1.5"), "between 0 and 1")


def test_the_compute_optimal_frontier_matches_the_fit(fitted):
    payload, _, _ = fitted
    law = get_law("chinchilla")
    n, d = chinchilla_allocation(np.array([1e21]), **payload["params"])
    grid = np.geomspace(n / 3, n * 3, 2001)
    values = law.evaluate({"N": grid, "D": 1e21 / (6 * grid)}, payload["params"])
    assert grid[np.argmin(values)] == pytest.approx(n[0], rel=2e-3)


def test_results_written_with_out_load_back(cli, fitted, tmp_path):
    import scalelaw

    _, fit_file, _ = fitted
    allocation, validation, iso = tmp_path / "a.json", tmp_path / "v.json", tmp_path / "i.json"
    run = cli("optimal", fit_file, "--flops", "5.76e23", "--out", allocation, "--json")
    assert run.code == 0, run.stderr
    assert scalelaw.load(allocation).params[0] == pytest.approx(json.loads(run.stdout)["params"], rel=1e-15)
    run = cli("validate", "loss", CHINCHILLA, "--exclude-highest", "5", "--out", validation, "--json")
    assert run.code == 0, run.stderr
    loaded = scalelaw.load(validation)
    assert (loaded.n_train, loaded.n_held_out) == (192, 48)
    assert loaded.held_out["mape"] == json.loads(run.stdout)["held_out"]["mape"]
    run = cli("fit", "isoflop", PORIAN, "--where", "dataset=rw", "--where", "hparams=tuned",
              "--where", "param_count=standard", "--out", iso, "--json")
    assert run.code == 0, run.stderr
    assert scalelaw.load(iso).params_fit.params["a"] == json.loads(run.stdout)["exponents"]["a"]["value"]
