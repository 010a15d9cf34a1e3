"""Numeric options are checked at the edge: a value out of range is one line and exit 2 before any work,
and every bounded option states its range in --help."""

from __future__ import annotations

import pytest

from support import DATA, assert_user_error

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


@pytest.mark.parametrize("option, value, words", [
    ("--bootstrap", "1000000000", "give an integer from 0 to 1,000,000"),
    ("--bootstrap", "99999999999999999999999", "give an integer from 0 to 1,000,000"),
    ("--bootstrap", "-1", "give an integer from 0 to 1,000,000"),
    ("--seed", "-5", "give an integer from 0 to 4,294,967,295"),
    ("--seed", str(2**64), "give an integer from 0 to 4,294,967,295"),
    ("--delta", "inf", "give a finite number > 0"),
    ("--delta", "nan", "give a finite number > 0"),
    ("--delta", "0", "give a finite number > 0"),
    ("--level", "1.5", "give a number between 0 and 1 (exclusive)"),
    ("--level", "nan", "give a number between 0 and 1 (exclusive)"),
    ("--exclude-highest", "-1", "give an integer >= 0"),
    ("--jobs", "0", "give an integer from 1 to 1,024"),
])
def test_an_out_of_range_option_is_one_line_naming_it(cli, tmp_path, option, value, words):
    out = tmp_path / "fit.json"
    run = cli("fit", "loss", CHINCHILLA, option, value, "--out", out)
    assert_user_error(run, f"'{option}'", f"{value} is out of range: {words}", "see 'scalelaw fit loss --help'")
    assert not out.exists()


def test_usage_errors_are_one_line_too(cli):
    assert_user_error(cli("fit", "loss", CHINCHILLA, "--bootstrap", "many"), "'--bootstrap'", "integer")
    assert_user_error(cli("fit", "loss"), "Missing argument 'file'")
    assert_user_error(cli("no-such-command"), "No such command 'no-such-command'")


@pytest.mark.parametrize("command, option, words", [
    (["fit", "loss"], "--bootstrap", "Takes an integer from 0 to 1,000,000."),
    (["fit", "loss"], "--seed", "Takes an integer from 0 to 4,294,967,295."),
    (["fit", "loss"], "--level", "Takes a number between 0 and 1 (exclusive)."),
    (["fit", "loss"], "--delta", "Takes a finite number > 0."),
    (["sampling", "plan"], "--target", "Takes a number between 0 and 1 (exclusive)."),
    (["serve"], "--port", "Takes an integer from 1 to 65,535."),
])
def test_help_states_each_range(cli, command, option, words):
    run = cli(*command, "--help")
    assert run.code == 0
    rows = [line.strip("│ ╭╰─*") for line in run.stdout.splitlines()]
    first = next(i for i, row in enumerate(rows) if row.split(" ")[0] == option and "<" in row)
    last = next(i for i in range(first + 1, len(rows)) if rows[i].startswith("-") or not rows[i])
    text = " ".join(" ".join(rows[first:last]).split())
    assert words in text, text
