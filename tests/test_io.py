"""Reading logs: units, aliases, and errors that name the file, row and column."""

from __future__ import annotations

import pytest

from scalelaw.errors import InputError
from scalelaw.io import canonical_name, filter_rows, parse_quantity, read_table


@pytest.mark.parametrize(
    "text, value",
    [("7B", 7e9), ("1.4T", 1.4e12), ("350M", 3.5e8), ("6e23", 6e23), ("12k", 1.2e4), ("2G", 2e9),
     ("1P", 1e15), (" 70B ", 7e10), ("5.76e+23", 5.76e23), (".5M", 5e5), (3, 3.0), (2.5, 2.5)],
)
def test_quantities_with_unit_suffixes(text, value):
    assert parse_quantity(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["1.4X", "B", "7 B tokens", "", "1e", "--5", "seven"])
def test_unparseable_quantities_say_how_to_write_them(text):
    with pytest.raises(ValueError, match="write it like 7e9 or 7B"):
        parse_quantity(text)


@pytest.mark.parametrize(
    "alias, canonical",
    [("Model Size", "params"), ("N", "params"), ("n_params", "params"), ("model_size", "params"),
     ("D", "tokens"), ("train_tokens", "tokens"), ("C", "flops"), ("Training FLOP", "flops"),
     ("loss", "loss"), ("unrelated", "unrelated")],
)
def test_aliases_map_to_canonical_columns(alias, canonical):
    assert canonical_name(alias) == canonical


def _write(tmp_path, text, name="runs.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_units_and_aliases_in_a_file(tmp_path):
    path = _write(tmp_path, "Model Size,D,loss\n7B,1.4T,2.1\n350M,7e9,3.0\n")
    table = read_table(path, required=["params", "tokens", "loss"], numeric=["params", "tokens", "loss"])
    assert table.frame["params"].tolist() == [7e9, 3.5e8]
    assert table.frame["tokens"].tolist() == [1.4e12, 7e9]
    assert table.describe_mapping() == "columns mapped: 'Model Size' -> params, 'D' -> tokens"


def test_jsonl_and_tsv_files(tmp_path):
    jsonl = _write(tmp_path, '{"N": 1e9, "D": 2e10, "loss": 2.5}\n{"N": 2e9, "D": 4e10, "loss": 2.3}\n',
                   "runs.jsonl")
    tsv = _write(tmp_path, "params\ttokens\tloss\n1e9\t2e10\t2.5\n", "runs.tsv")
    assert read_table(jsonl, numeric=["params"]).frame["params"].tolist() == [1e9, 2e9]
    assert read_table(tsv, numeric=["tokens"]).frame["tokens"].tolist() == [2e10]


@pytest.mark.parametrize(
    "content, fragments",
    [
        ("", ["runs.csv", "empty"]),
        ("params,tokens,loss\n", ["runs.csv", "no data rows"]),
        ("params,loss\n1e9,2.5\n", ["runs.csv", "missing column 'tokens'"]),
        ("params,tokens,loss\n1e9,2e10,2.5\n2e9,4e10,abc\n", ["runs.csv", "row 2 (line 3)", "'loss'", "'abc'"]),
        ("params,tokens,loss\n1e9,2e10,2.5\n2e9,4e10,\n", ["row 2 (line 3)", "'loss'", "empty"]),
        ("params,tokens,loss\n1e9,2e10,nan\n", ["row 1 (line 2)", "'loss'", "not a finite number"]),
        ("params,tokens,loss\n1e9,inf,2.5\n", ["row 1 (line 2)", "'tokens'", "not a finite number"]),
        ("params,tokens,loss\n0,2e10,2.5\n", ["row 1 (line 2)", "'params'", "not a positive size"]),
        ("Model Size,tokens,loss\n-7B,2e10,2.5\n", ["row 1 (line 2)", "'Model Size'", "not a positive size"]),
    ],
)
def test_bad_files_name_the_file_row_and_column(tmp_path, content, fragments):
    path = _write(tmp_path, content)
    with pytest.raises(InputError) as caught:
        read_table(path, required=["params", "tokens", "loss"], numeric=["params", "tokens", "loss"],
                   positive=["params", "tokens"])
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_table(tmp_path)


def test_filter_rows_keeps_the_file_row_numbers(tmp_path):
    path = _write(tmp_path, "dataset,params\nrw,1\nowt2,2\nrw,3\n")
    table = filter_rows(read_table(path, numeric=["params"]), {"dataset": "rw"})
    assert table.frame.index.tolist() == [1, 3]
    with pytest.raises(InputError, match="no rows match dataset=c4"):
        filter_rows(table, {"dataset": "c4"})
    with pytest.raises(InputError, match="lacks"):
        filter_rows(table, {"colour": "red"})
