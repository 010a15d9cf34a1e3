"""The library speaks Python, the CLI speaks flags: library messages name arguments (``name=``),
the CLI names its options, and library code reads no workspace folder of its own accord."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from scalelaw.cli import render
from scalelaw.errors import InputError
from scalelaw.families import loss

from support import DATA, ROOT, assert_user_error, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
OPTION = re.compile(r"(?<![\w-])--[A-Za-z]")


def test_no_option_text_in_the_library():
    """Code, messages and docstrings of every module outside scalelaw/cli/ name no ``--option``."""
    hits = []
    for path in sorted((ROOT / "scalelaw").rglob("*.py")):
        if "cli" in path.relative_to(ROOT / "scalelaw").parts[:1]:
            continue
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OPTION.search(text):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {text.strip()}")
    assert not hits, "\n".join(hits)


def test_the_check_sees_option_text():
    assert OPTION.search('raise InputError("give --exclude-highest")')
    assert not OPTION.search('ax.plot(x, y, "k--", lw=1)  # ----------- section')


def test_one_mistake_in_python_and_on_the_command_line():
    with pytest.raises(InputError, match=r"exclude_highest=300 would drop every one of the 245 rows"):
        loss.read_runs(CHINCHILLA, exclude_highest=300)
    run = run_cli("fit", "loss", CHINCHILLA, "--exclude-highest", "300")
    assert_user_error(run, "--exclude-highest 300 would drop every one of the 245 rows")
    assert "exclude_highest" not in run.stderr


def test_an_argument_with_another_option_name_is_spelled_as_declared(tmp_path):
    # validate_loss(column=...) is the CLI's --holdout-column; readers= is --reader
    with pytest.raises(InputError, match="column='flag' is not a column"):
        loss.holdout_mask(pd.DataFrame({"flops": [1.0, 2.0]}), column="flag")
    run = run_cli("validate", "loss", CHINCHILLA, "--holdout-column", "flag")
    assert_user_error(run, "--holdout-column 'flag' is not a column")
    run = run_cli("datastore", "fit", DATA / "datastore" / "massiveds_simulated.csv", "--reader", "gpt-5")
    assert_user_error(run, "--reader names 'gpt-5', which is not in the file")


@pytest.fixture
def command_line(monkeypatch):
    def use(*argv: str) -> None:
        monkeypatch.setattr(render, "command_line", list(argv))

    return use


def test_as_options_spells_the_parameters_of_the_running_command(command_line):
    command_line("hparams", "fit", "sweep.csv")
    assert render.as_options("band=2.0 must be a fraction") == "--band 2.0 must be a fraction"
    assert render.as_options("raise diverge_ratio= or max_loss=") == "raise --diverge-ratio or --max-loss"
    assert (render.as_options("nothing is left once exclude_edge=True drops them")
            == "nothing is left once --exclude-edge drops them")
    assert render.as_options("format='csv' is not one of") == "--format 'csv' is not one of"
    # not a parameter of this command, a quoted value, a path and an option's own value stay
    assert render.as_options("n_layers=30 and 'band=1'") == "n_layers=30 and 'band=1'"
    assert render.as_options("wrote out/band=2.png") == "wrote out/band=2.png"
    assert render.as_options("give --set band=VALUE") == "give --set band=VALUE"
    assert render.as_options("declare Param(band=...)") == "declare Param(band=...)"


def test_as_options_without_a_command_keeps_the_text(command_line):
    command_line()
    assert render.as_options("band=2.0 must be a fraction") == "band=2.0 must be a fraction"
    command_line("hparams")
    assert render.as_options("band=2.0 must be a fraction") == "band=2.0 must be a fraction"


def test_a_library_warning_is_spelled_for_the_command_line(tmp_path):
    fit = tmp_path / "ds.json"
    simulated = DATA / "datastore" / "massiveds_simulated.csv"
    run = run_cli("datastore", "fit", simulated, "--law", "joint", "--metric", "redpajama_ppl", "--out", fit)
    assert run.code == 0, run.stderr
    run = run_cli("datastore", "optimal", fit, "--flops", "1e22", "--max-datastore", "1B")
    assert run.code == 0, run.stderr
    assert "tokens (--max-datastore)" in run.stderr and "max_datastore=" not in run.stderr


def test_a_filter_the_user_typed_is_echoed_as_typed(cli):
    """`metric` is also an option of `datastore fit`; the filter `metric=nope` must not read as `--metric nope`."""
    from support import DATA, assert_user_error

    run = cli("datastore", "fit", DATA / "datastore" / "massiveds_simulated.csv", "--where", "metric=nope")
    assert_user_error(run, "no rows match metric=nope")
    assert "--metric" not in run.stderr


READERS = ["fit loss", "fit isoflop", "validate loss", "hparams fit", "hparams evaluate", "sampling passk",
           "sampling fit", "sampling verifier", "sampling check", "downstream chain", "downstream ladder",
           "downstream error-law", "downstream observational", "datastore fit", "datastore frontier",
           "transport distance", "transport project", "transport select", "mix fit", "mix evaluate"]


@pytest.mark.parametrize("command", READERS)
def test_every_table_reader_takes_columns_sheet_and_filters(cli, command):
    text = cli(*command.split(), "--help").stdout
    assert all(option in text for option in ("--column", "--sheet", "--where")), command


def test_where_on_a_command_without_its_own_filters_the_main_file(cli):
    import json

    from support import DATA

    mixture = DATA / "mixture"
    args = ("mix", "fit", mixture / "train_mixture_1m.csv", mixture / "train_pile_loss_1m.csv", "--target",
            "metric/the_pile_pile_cc_val_loss", "--json")
    kept = json.loads(cli(*args, "--where", "index<=300").stdout)
    assert kept["data"]["rows"] == 300 and json.loads(cli(*args).stdout)["data"]["rows"] == 512
    from support import assert_user_error

    assert_user_error(cli(*args, "--where", "nope<3"), "--where names column 'nope'")
