"""Hostile files through every reader: each is one InputError naming the file, row (and line) and
column, never a raw exception; the CLI prints that line and exits 2; a file in UTF-16 or UTF-32 with
its byte-order mark fits exactly as its UTF-8 original does.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families import loss
from scalelaw.families.datastore.data import read as read_datastore
from scalelaw.families.downstream.error_law import read_errors
from scalelaw.families.downstream.harness import read_results
from scalelaw.families.downstream.observational import read_benchmarks
from scalelaw.families.downstream.olmo_ladder import read_ladder_table, read_olmo_ladder
from scalelaw.families.downstream.readers import read_choices, read_harness_samples
from scalelaw.families.hyperparams.sweep import read_sweep
from scalelaw.families.sampling.counts import read_counts
from scalelaw.families.transport.distance import read_samples
from scalelaw.io import filter_rows, parse_where, read_table, text

from support import assert_user_error, run_cli

HEADER = "params,tokens,loss\n"
ROWS = "1e8,2e9,3.1\n4e8,8e9,2.9\n1.6e9,3.2e10,2.7\n"

#: Every reader of a table file; each one reads through read_table, so each refuses alike.
READERS = {
    "read_table": lambda p: read_table(p, numeric=["params", "tokens", "loss"]),
    "loss.read_runs": loss.read_runs,
    "sampling.read_counts": read_counts,
    "downstream.read_choices": read_choices,
    "downstream.read_errors": read_errors,
    "downstream.read_benchmarks": read_benchmarks,
    "downstream.read_ladder_table": read_ladder_table,
    "datastore.read": read_datastore,
    "hyperparams.read_sweep": read_sweep,
    "transport.read_samples": read_samples,
}

#: (file name, exact bytes, the parts of the one-line message).
BAD_FILES = [
    ("long.csv", (HEADER + ROWS + "1e9,1e10,2.8,9\n").encode(),
     ["long.csv, row 4 (line 5): 4 cells, but the header names 3 columns"]),
    ("short.csv", (HEADER + ROWS + "1e9,1e10\n").encode(),
     ["short.csv, row 4 (line 5): 2 cells, but the header names 3 columns"]),
    ("trailing.csv", b"params,tokens,loss\n1e8,2e9,3.1,\n4e8,8e9,2.9,\n",
     ["trailing.csv, row 1 (line 2): 4 cells, but the header names 3 columns"]),
    ("ragged.tsv", b"params\ttokens\tloss\n1e8\t2e9\t3.1\n4e8\t8e9\n",
     ["ragged.tsv, row 2 (line 3): 2 cells, but the header names 3 columns", "quote a cell that holds a tab"]),
    ("latin1.csv", (HEADER + ROWS).encode() + b"1e9,1e10,caf\xe9\n",
     ["latin1.csv, row 4 (line 5): the byte at offset 72 (0xe9) is not UTF-8; save the file as UTF-8"]),
    ("header.csv", b"par\xffams,tokens,loss\n" + ROWS.encode(),
     ["header.csv, line 1: the byte at offset 3 (0xff) is not UTF-8"]),
    ("nobom.csv", (HEADER + ROWS).encode("utf-16-le"),
     ["nobom.csv, line 1: the byte at offset 1 is NUL", "UTF-16 or UTF-32 without a byte-order mark"]),
    ("cut.csv", (HEADER + ROWS).encode("utf-16") + b"\x31",
     ["cut.csv, row 4 (line 5): the byte at offset 122 (0x31) is not UTF-16 LE, the encoding its byte-order "
      "mark declares"]),
    ("twice.csv", b"params,tokens,loss,loss\n1e8,2e9,3.1,3.0\n4e8,8e9,2.9,2.8\n",
     ["twice.csv: columns 3 and 4 are both named 'loss'"]),
    ("spaced.csv", b"params,tokens,loss ,loss\n1e8,2e9,3.1,3.0\n4e8,8e9,2.9,2.8\n",
     ["spaced.csv: columns 3 and 4 are both named 'loss'"]),
    ("object.jsonl", b'{"params": 1e8, "tokens": 2e9, "loss": 3.1}\n'
     b'{"params": {"v": 4e8}, "tokens": 8e9, "loss": 2.9}\n',
     ["object.jsonl, row 2 (line 2), column 'params': the cell is an object; a cell holds a number or a text"]),
    ("list.jsonl", b'{"params": 1e8, "tokens": 2e9, "loss": [3.1]}\n',
     ["list.jsonl, row 1 (line 1), column 'loss': the cell is a list"]),
    ("line.jsonl", b'{"params": 1e8, "tokens": 2e9, "loss": 3.1}\n\n[1, 2, 3]\n',
     ["line.jsonl, row 2 (line 3): holds a list, not an object; a JSON lines file holds one object per line"]),
    ("broken.jsonl", b'{"params": 1e8, "tokens": 2e9, "loss": 3.1}\n{"params": 4e8,\n',
     ["broken.jsonl, row 2 (line 2): not JSON (Expecting property name enclosed in double quotes)"]),
    ("key.json", b'[{"params": 1e8, "tokens": 2e9, "loss": 3.1, "loss": 3.0}]',
     ["key.json: the key 'loss' appears twice in one object; keep one"]),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, ["deep.json: nests objects or lists too deeply to read"]),
    ("number.json", b"5", ["number.json: holds a number; a table in JSON is a list of objects"]),
    ("rows.json", b"[[1e8, 2e9, 3.1]]", ["rows.json, row 1: holds a list, not an object"]),
    ("empty.csv", b"", ["empty.csv: the file is empty"]),
    ("bom.csv", b"\xef\xbb\xbf", ["bom.csv: the file is empty"]),
    ("blank.csv", b"\n \n\n", ["blank.csv: the file is empty"]),
    ("names.csv", HEADER.encode(), ["names.csv: the file has a header but no data rows"]),
    ("folder.csv", None, ["folder.csv: is a folder"]),
]


def _write(tmp_path, name: str, data: bytes | None):
    path = tmp_path / name
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("name", "data", "parts"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_every_reader_refuses_a_bad_file_in_one_line(tmp_path, reader, name, data, parts):
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as caught:
        READERS[reader](path)
    message = str(caught.value).replace(f"{tmp_path}{os.sep}", "")
    assert "\n" not in message
    for part in parts:
        assert part in message, (part, message)


@pytest.mark.parametrize("reader", READERS)
def test_a_missing_file_and_a_pipe_are_refused(tmp_path, reader):
    with pytest.raises(InputError, match="no such file; check the path"):
        READERS[reader](tmp_path / "absent.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(InputError, match=r"pipe.csv: is not a regular file \(a device, pipe or socket\)"):
        READERS[reader](tmp_path / "pipe.csv")


def test_permission_denied_is_one_line(tmp_path, monkeypatch):
    path = _write(tmp_path, "runs.csv", (HEADER + ROWS).encode())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(text, "open", denied, raising=False)
    with pytest.raises(InputError, match=r"runs.csv: cannot be read: permission denied"):
        read_table(path)
    monkeypatch.setattr(text.os, "stat", denied)
    with pytest.raises(InputError, match=r"runs.csv: cannot be read: permission denied"):
        loss.read_runs(path)


def test_numbers_beyond_the_largest_float_name_their_cell(tmp_path):
    path = _write(tmp_path, "huge.csv", (HEADER + "1e8,2e9,3.1\n4e8,1e999,2.9\n").encode())
    with pytest.raises(InputError, match=r"huge.csv, row 2 \(line 3\), column 'tokens': '1e999' is beyond the "
                                         r"largest number \(about 1.8e308\)"):
        loss.read_runs(path)
    scaled = _write(tmp_path, "scaled.csv", (HEADER + "1e300T,2e9,3.1\n").encode())
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'params': '1e300T' is beyond"):
        read_table(scaled, numeric=["params"])
    digits = _write(tmp_path, "digits.json", b'[{"params": ' + b"9" * 400 + b', "tokens": 2e9, "loss": 3.1}]')
    for reader in (lambda p: read_table(p, numeric=["params"]), loss.read_runs, read_datastore, read_samples):
        with pytest.raises(InputError, match=r"digits.json, row 1, column 'params': "):
            reader(digits)
    with pytest.raises(InputError, match=r"digits.json, row 1, column 'params': a whole number of 400 digits"):
        read_table(digits, numeric=["params"])


def test_two_aliases_of_one_role_are_refused_unless_one_names_it_better(tmp_path):
    tied = _write(tmp_path, "tied.csv", b"N,n_params,tokens,loss\n1e8,2e8,2e9,3.1\n")
    for reader in (read_table, loss.read_runs, read_choices, read_datastore):
        with pytest.raises(InputError, match=r"tied.csv: columns 'N' and 'n_params' both name the role params"):
            reader(tied)
    chosen = read_table(tied, columns={"params": "n_params"})
    assert chosen.frame["params"].tolist() == ["2e8"]
    # the role's own name, then an eval path, win; the note says which columns were passed over
    named = read_table(_write(tmp_path, "named.csv", b"params,N,tokens,loss\n1e8,2e8,2e9,3.1\n"))
    assert named.frame["params"].tolist() == ["1e8"]
    assert "'params' taken as params; 'N' also match" in named.describe_mapping()
    paths = read_table(_write(tmp_path, "paths.csv", b"train/loss,eval/loss,params\n3.2,3.1,1e8\n"))
    assert paths.frame["loss"].tolist() == ["3.1"]
    assert "'eval/loss' taken as loss; 'train/loss' also match" in paths.describe_mapping()


def test_sampling_counts_refuse_an_object_cell(tmp_path):
    path = _write(tmp_path, "counts.jsonl",
                  b'{"problem": "a", "n": 5, "c": 2}\n{"problem": {"id": 1}, "n": 5, "c": 2}\n')
    with pytest.raises(InputError, match=r"counts.jsonl, row 2 \(line 2\), column 'problem': the cell is an object"):
        read_counts(path)


def test_harness_files_not_utf8_are_one_line(tmp_path):
    line = {"doc_id": 0, "target": 0, "filtered_resps": [["-1.0", "False"], ["-2.0", "False"]]}
    samples = tmp_path / "samples.jsonl"
    samples.write_bytes(json.dumps(line).encode() + b"\n" + json.dumps({**line, "doc_id": 1}).encode()
                        + b"\n{\"doc_id\": \"caf\xe9\"}\n")
    parts = r"samples.jsonl, row 3 \(line 3\): the byte at offset \d+ \(0xe9\) is not UTF-8"
    with pytest.raises(InputError, match=parts):
        read_choices(samples, flops=1e20)
    with pytest.raises(InputError, match=parts):
        read_harness_samples(samples, model="m", flops=1e20)
    latin = tmp_path / "first.jsonl"
    latin.write_bytes(b'{"doc_id": "\xe9"}\n')
    with pytest.raises(InputError, match=r"first.jsonl, row 1 \(line 1\): the byte at offset 12 \(0xe9\)"):
        read_choices(latin)
    results = tmp_path / "out" / "model"
    results.mkdir(parents=True)
    (results / "results_2024.json").write_bytes(b'{"results": {"t\xff": {}}}')
    with pytest.raises(InputError, match=r"results_2024.json, line 1: the byte at offset 15 \(0xff\) is not UTF-8"):
        read_results(tmp_path / "out")
    ladder = tmp_path / "ladder"
    ladder.mkdir()
    (ladder / "final.json").write_bytes(b'{"1B": {"paths": ["\xff"]}}')
    with pytest.raises(InputError, match=r"final.json, line 1: the byte at offset 19 \(0xff\) is not UTF-8"):
        read_olmo_ladder(ladder, "hellaswag")


def test_filters_refuse_what_they_cannot_read(tmp_path):
    with pytest.raises(InputError, match=r"where= 5 is not a filter"):
        parse_where(5)
    with pytest.raises(InputError, match=r"where= 'budget<1e999': '1e999' is beyond the largest number"):
        parse_where(["budget<1e999"])
    digits = _write(tmp_path, "digits.json",
                    b'[{"params": ' + b"9" * 400 + b', "loss": 3.1}, {"params": 1e8, "loss": 3.0}]')
    table = read_table(digits)
    assert filter_rows(table, ["params<1e9"]).frame["loss"].tolist() == [3.0]
    assert len(filter_rows(table, {"params": "1e8"}).frame) == 1


def _runs_text() -> str:
    from test_io_formats import SIZES, _loss

    return "params,tokens,loss\n" + "".join(f"{n:g},{d:g},{_loss(n, d)!r}\n" for n, d in SIZES)


MARKS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
         "utf-32-be": b"\x00\x00\xfe\xff"}


@pytest.mark.parametrize("encoding", MARKS)
def test_a_byte_order_mark_is_honoured_and_fits_as_the_utf8_file(tmp_path, encoding):
    content = _runs_text()
    plain = _write(tmp_path, "runs.csv", content.encode())
    marked = _write(tmp_path, "marked.csv", MARKS[encoding] + content.encode(encoding))
    pd.testing.assert_frame_equal(loss.read_runs(plain)[0], loss.read_runs(marked)[0])
    tsv = _write(tmp_path, "marked.tsv", MARKS[encoding] + content.replace(",", "\t").encode(encoding))
    pd.testing.assert_frame_equal(read_table(tsv).frame, read_table(plain).frame)
    lines = "".join(json.dumps(dict(zip(("params", "tokens", "loss"), row.split(","), strict=True))) + "\n"
                    for row in content.splitlines()[1:])
    jsonl = _write(tmp_path, "marked.jsonl", b"\xef\xbb\xbf" + lines.encode())
    pd.testing.assert_frame_equal(read_table(jsonl).frame, read_table(plain).frame)


def test_a_utf16_file_fits_exactly_as_the_utf8_file_through_the_cli(tmp_path):
    content = _runs_text()
    plain = _write(tmp_path, "runs.csv", content.encode())
    marked = _write(tmp_path, "runs16.csv", content.encode("utf-16"))
    fits = []
    for path in (plain, marked):
        run = run_cli("fit", "loss", path, "--json")
        assert run.code == 0, run.stderr
        fits.append(json.loads(run.stdout)["params"])
    assert fits[0] == fits[1]
    assert np.isclose(fits[0]["alpha"], 0.34, rtol=1e-6)


@pytest.mark.parametrize(("command", "name", "data", "parts"), [
    (("fit", "loss"), "long.csv", (HEADER + ROWS + "1e9,1e10,2.8,9\n").encode(),
     ["long.csv, row 4 (line 5): 4 cells, but the header names 3 columns"]),
    (("fit", "loss"), "latin1.csv", (HEADER + ROWS).encode() + b"1e9,1e10,caf\xe9\n",
     ["latin1.csv, row 4 (line 5): the byte at offset 72 (0xe9) is not UTF-8; save the file as UTF-8"]),
    (("fit", "loss"), "twice.csv", b"params,tokens,loss,loss\n1e8,2e9,3.1,3.0\n",
     ["twice.csv: columns 3 and 4 are both named 'loss'"]),
    (("fit", "loss"), "tied.csv", b"N,n_params,tokens,loss\n1e8,2e8,2e9,3.1\n",
     ["columns 'N' and 'n_params' both name the role params", "say which with --column mapping params"]),
    (("sampling", "fit"), "counts.jsonl", b'{"problem": {"id": 1}, "n": 5, "c": 2}\n',
     ["counts.jsonl, row 1 (line 1), column 'problem': the cell is an object"]),
    (("downstream", "chain"), "choices.jsonl", b'{"doc_id": "caf\xe9"}\n',
     ["choices.jsonl, row 1 (line 1): the byte at offset 15 (0xe9) is not UTF-8"]),
    (("fit", "loss"), "deep.json", b"[" * 100_000 + b"]" * 100_000, ["deep.json: nests objects or lists too deeply"]),
    (("fit", "loss"), "folder", None, ["folder: is a folder"]),
])
def test_the_cli_prints_one_line_exits_2_and_writes_nothing(tmp_path, command, name, data, parts):
    path = _write(tmp_path, name, data)
    out = tmp_path / "out.json"
    run = run_cli(*command, path, "--out", out)
    assert_user_error(run, *parts)
    assert not out.exists()
