"""One CLI vocabulary: start-up without the heavy libraries, --version, completion, list options read
the same way everywhere, and tables that are never cut."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import scalelaw
from scalelaw.cli import options, render
from scalelaw.errors import InputError

from support import DATA, assert_user_error, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
PORIAN = DATA / "loss" / "porian_isoflop_points.csv"
SIMULATED = DATA / "datastore" / "massiveds_simulated.csv"
PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
BENCHMARKS = DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"
MIXTURES, LOSSES = DATA / "mixture" / "train_mixture_1m.csv", DATA / "mixture" / "train_pile_loss_1m.csv"
HEAVY = ("pandas", "scipy", "matplotlib", "ot", "sklearn", "pydantic")
BOX = re.compile("[\u2500-\u257f]")


# ------------------------------------------------------------------------------------------ start-up
@pytest.mark.parametrize("argv", [None, ["--help"], ["laws"], ["fit", "--help"], ["--version"]])
def test_the_command_line_starts_without_the_heavy_libraries(argv):
    code = ("import sys\nfrom scalelaw.cli import main\n"
            + ("" if argv is None else f"try:\n    main({argv!r})\nexcept SystemExit as stop:\n"
                                       "    assert stop.code in (0, None), stop.code\n")
            + f"print([m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ | {
        "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_import_scalelaw_is_lazy():
    done = subprocess.run([sys.executable, "-c", "import sys, scalelaw\nprint([m for m in ('pandas', 'scipy') "
                                                 "if m in sys.modules], scalelaw.__version__)"],
                          capture_output=True, text=True)
    assert done.stdout.split() == ["[]", scalelaw.__version__]


def test_every_public_name_resolves():
    assert {"fit", "validate", "FitResult", "CATALOGUE", "get_law", "ScalelawError", "__version__"} <= set(
        scalelaw.__all__)
    for name in scalelaw.__all__:
        assert getattr(scalelaw, name) is not None
    assert scalelaw.fit.__module__ == "scalelaw.engine" and "fit" in dir(scalelaw)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        scalelaw.nothing  # noqa: B018


def test_version_and_completion(cli):
    run = cli("--version")
    assert run.code == 0 and run.stdout.strip() == f"scalelaw {scalelaw.__version__}"
    assert "--install-completion" in cli("--help").stdout


# ----------------------------------------------------------------------------------- list options
def test_list_parser():
    assert options.split("--k", ["1,10", "100"]) == ["1", "10", "100"]
    assert options.split("--k", "1, 10") == ["1", "10"] and options.split("--k", None) == []
    with pytest.raises(InputError, match="--k: '1,,2' has an empty value"):
        options.split("--k", ["1,,2"])
    assert options.numbers("--flops", ["1e21,1e22", "2B"]) == [1e21, 1e22, 2e9]
    assert options.pairs("--where", ["a=1,b=x=y", "c = 3"]) == {"a": "1", "b": "x=y", "c": "3"}
    assert options.shares("--cap", ["a=0.2,b=0.5"]) == {"a": 0.2, "b": 0.5} and options.shares("--cap", []) is None
    assert options.rows(params=[1.0, 2.0], tokens=[5.0], flops=[]) == [{"params": 1.0, "tokens": 5.0},
                                                                       {"params": 2.0, "tokens": 5.0}]
    with pytest.raises(InputError, match="same number of values"):
        options.rows(params=[1.0, 2.0], tokens=[5.0, 6.0, 7.0])
    with pytest.raises(InputError, match="--params: this command takes one value, not 2"):
        options.one("--params", ["7B,8B"])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """A loss fit, a joint datastore fit, a coverage fit and a mixing-law fit, written by the CLI."""
    folder = tmp_path_factory.mktemp("vocabulary")
    paths = {f"{name}.json": folder / f"{name}.json" for name in ("loss", "datastore", "sampling", "mix")}
    for args in (("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--out", paths["loss.json"]),
                 ("datastore", "fit", SIMULATED, "--law", "joint", "--metric", "redpajama_ppl", "--out",
                  paths["datastore.json"]),
                 ("sampling", "fit", PER_PROBLEM, "--out", paths["sampling.json"]),
                 ("mix", "fit", MIXTURES, LOSSES, "--target", "metric/the_pile_pile_cc_val_loss", "--out",
                  paths["mix.json"])):
        assert run_cli(*args).code == 0
    return paths


# (command before the option, option, values, command after the option); every list option of the CLI
LIST_OPTIONS = [
    (("predict", "loss.json", "--params", "70B"), "--flops", ("1e23", "1e24"), ("--json",)),
    (("predict", "loss.json", "--tokens", "1.4T"), "--params", ("7B", "70B"), ("--json",)),
    (("predict", "loss.json", "--params", "70B"), "--tokens", ("1T", "2T"), ("--json",)),
    (("predict", "loss.json"), "--set", ("params=70B", "tokens=1.4T"), ("--json",)),
    (("optimal", "loss.json"), "--flops", ("1e21", "1e22"), ("--json",)),
    (("fit", "isoflop", PORIAN), "--where", ("dataset=rw", "hparams=tuned", "param_count=standard"),
     ("--flops", "1e21", "--json")),
    (("fit", "isoflop", PORIAN, "--where", "dataset=rw"), "--flops", ("1e20", "1e21"), ("--json",)),
    (("datastore", "optimal", "datastore.json"), "--flops", ("1e22", "1e23"), ("--json",)),
    (("datastore", "fit", SIMULATED, "--metric", "tqa_em"), "--reader", ("llama-2-7b", "pythia-1b"), ()),
    (("sampling", "passk", PER_PROBLEM), "--k", ("1", "10"), ("--json",)),
    (("sampling", "fit", PER_PROBLEM), "--k-grid", ("1", "2", "4", "8"), ("--json",)),
    (("sampling", "plan", "sampling.json", "--target", "0.5"), "--cost", ("Pythia 70M=0.1", "Pythia 12B=2"),
     ("--json",)),
    (("sampling", "verifier", "--weights", "0.58,0.42", "--completeness", "1", "--soundness", "0.75"), "--rates",
     ("0.87", "0.13"), ("--json",)),
    (("sampling", "verifier", "--rates", "0.87,0.13", "--completeness", "1", "--soundness", "0.75"), "--weights",
     ("0.58", "0.42"), ("--json",)),
    (("sampling", "verifier", "--rates", "0.87,0.13", "--weights", "0.58,0.42", "--completeness", "1",
      "--soundness", "0.75"), "--fp-cost", ("1", "3"), ("--json",)),
    (("downstream", "observational", BENCHMARKS, "--target", "GSM8K", "--cutoff-flops", "8.4e22"),
     "--predictor", ("MMLU", "ARC-C", "HellaSwag"), ("--json",)),
    (("mix", "optimize", "mix.json"), "--cap", ("train_the_pile_pile_cc=0.5", "train_the_pile_enron_emails=0.2"),
     ("--json",)),
]


@pytest.mark.parametrize(("before", "option", "values", "after"), LIST_OPTIONS,
                         ids=[f"{case[0][0]}-{case[1]}-{i}" for i, case in enumerate(LIST_OPTIONS)])
def test_comma_lists_and_repeated_options_are_the_same(artifacts, before, option, values, after):
    before = [artifacts.get(a, a) if isinstance(a, str) else a for a in before]
    comma = run_cli(*before, option, ",".join(values), *after)
    repeated = run_cli(*before, *(item for value in values for item in (option, value)), *after)
    assert comma.code == 0, comma.stderr
    assert comma.stdout == repeated.stdout
    single = run_cli(*before, option, values[0], *after)
    assert single.code != 0 or single.stdout != comma.stdout  # every value is used, not only the last


def test_several_targets_give_one_row_each(artifacts):
    both = json.loads(run_cli("optimal", artifacts["loss.json"], "--flops", "1e21", "--flops", "1e22", "--json").stdout)
    first = json.loads(run_cli("optimal", artifacts["loss.json"], "--flops", "1e21", "--json").stdout)
    assert [row["flops"] for row in both["allocations"]] == [1e21, 1e22] and both["allocations"][0] == first
    rows = json.loads(run_cli("predict", artifacts["loss.json"], "--params", "7B,70B", "--tokens", "1T",
                              "--json").stdout)
    assert [r["inputs"] for r in rows["predictions"]] == [{"params": 7e9, "tokens": 1e12},
                                                          {"params": 7e10, "tokens": 1e12}]
    text = run_cli("optimal", artifacts["loss.json"], "--flops", "1e21,1e22").stdout
    assert "for C = 1.000e+21 FLOPs" in text and "for C = 1.000e+22 FLOPs" in text
    assert_user_error(run_cli("hparams", "recommend", "--params", "7B,8B", "--tokens", "1T"),
                      "--params: this command takes one value, not 2")
    assert_user_error(run_cli("predict", artifacts["loss.json"], "--params", "7B,8B", "--tokens", "1T,2T,3T"),
                      "same number of values")


def test_tables_go_to_csv_and_simulate_prints_json(tmp_path):
    out = tmp_path / "sim.csv"
    assert run_cli("datastore", "simulate", "--csv", out, "--seed", "0").code == 0
    assert out.read_text() == SIMULATED.read_text()
    rows = json.loads(run_cli("datastore", "simulate", "--seed", "0", "--json").stdout)["rows"]
    assert len(rows) == len(SIMULATED.read_text().splitlines()) - 1 and rows[0]["model"] == "pythia-1b"


# ----------------------------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    from hparams_sweeps import sweep_frame, write

    return write(tmp_path_factory.mktemp("sweep") / "sweep.csv", sweep_frame())


@pytest.mark.parametrize("terminal", [True, False])
def test_tables_at_80_columns_keep_every_cell(artifacts, sweep, terminal):
    plan = ("sampling", "plan", artifacts["sampling.json"], "--target", "0.5", "--cost-per-sample", "0.002")
    table = run_cli(*plan, width=80, terminal=terminal).stdout
    assert "…" not in table
    for row in json.loads(run_cli(*plan, "--json").stdout)["models"]:
        for value in (row["samples"], row["total_cost"], row["cost_per_problem"]):
            assert render.number(value) in table, (render.number(value), table)
        assert set(row["model"].split()) <= set(table.split()), (row["model"], table)
    fitted = run_cli("hparams", "fit", sweep, width=80, terminal=terminal).stdout
    assert "…" not in fitted
    for group in ("100M/2B", "100M/8B", "400M/4B", "400M/16B", "1.6B/32B"):
        assert re.search(rf"^{re.escape(group)}\s", fitted, re.MULTILINE), fitted
    laws = run_cli("laws", width=80, terminal=terminal).stdout
    for text in (table, fitted, laws):
        if terminal:  # every table line fits (a long remark under a table may still be wrapped by the terminal)
            assert max(len(line) for line in text.splitlines() if BOX.search(line) or line.startswith("Pythia")) <= 80
        else:
            assert not BOX.search(text)
    assert bool(BOX.search(fitted)) is bool(BOX.search(laws)) is terminal  # ruled where the columns fit


def test_plain_tables_have_one_line_per_row(artifacts):
    text = run_cli("sampling", "plan", artifacts["sampling.json"], "--target", "0.5", width=80).stdout
    lines = text.splitlines()
    assert lines[1].split()[:3] == ["model", "samples", "per"]
    models = [line for line in lines[2:] if line.startswith("Pythia")]
    assert len(models) == 7 and all(len(line.split()) >= 5 for line in models)


def test_a_table_too_wide_for_the_terminal_shows_records(artifacts):
    run = run_cli("sampling", "plan", artifacts["sampling.json"], "--target", "0.5", "--cost-per-sample", "1",
                  width=40, terminal=True)
    assert run.code == 0 and max(map(len, run.stdout.splitlines())) <= 40
    assert "              model: Pythia 12B" in run.stdout and "           problems: 128" in run.stdout


def test_plot_on_commands_that_gained_it(artifacts, tmp_path):
    png = b"\x89PNG\r\n\x1a\n"
    for name, args in (("validate", ("validate", "loss", CHINCHILLA, "--exclude-highest", "5")),
                       ("optimize", ("mix", "optimize", artifacts["mix.json"])),
                       ("mix-fit", ("mix", "fit", MIXTURES, LOSSES, "--target", "metric/the_pile_pile_cc_val_loss")),
                       ("simulate", ("datastore", "simulate"))):
        path = tmp_path / f"{name}.png"
        run = run_cli(*args, "--plot", path)
        assert run.code == 0, run.stderr
        assert path.read_bytes()[:8] == png and f"wrote {path}" in run.stderr


def test_the_ladder_target_is_spelled_like_every_prediction_target():
    ladder = ("downstream", "ladder", DATA / "downstream" / "olmo_ladder", "--task", "mmlu", "--json")
    old = run_cli(*ladder, "--target-params", "13.2B", "--target-tokens", "5T")
    new = run_cli(*ladder, "--params", "13.2B", "--tokens", "5T")
    assert old.code == 0 and old.stdout == new.stdout and json.loads(new.stdout)["params"] == 13.2e9
