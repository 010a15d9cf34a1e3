"""Logs as the tools write them: a W&B export, an (n, c) pass@k table, parquet, a two-sheet Excel file.

Each file reaches the same numbers as the hand-edited CSV of the same runs; each bad input is one
line through the CLI, exit 2, nothing written.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families import loss, sampling
from scalelaw.io import canonical_name, filter_rows, parse_where, read_table

from support import assert_user_error, run_cli

# Runs on the Chinchilla law L = E + A N^-alpha + B D^-beta, exactly.
TRUE = {"E": 1.8, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
SIZES = [(n, d) for n in (1e8, 4e8, 1.6e9) for d in (2e9, 8e9, 3.2e10)]


def _loss(n: float, d: float) -> float:
    return TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]


def _q(*cells) -> str:
    return ",".join(f'"{c}"' for c in cells)


@pytest.fixture
def hand_edited(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss\n" + "".join(f"{n:g},{d:g},{_loss(n, d)!r}\n" for n, d in SIZES))
    return path


@pytest.fixture
def wandb_export(tmp_path):
    """The runs table as W&B's "Export CSV" writes it: every field quoted, config and summary keys as
    slash paths, a crashed run whose summary cells are empty."""
    header = _q("Name", "State", "Notes", "User", "Tags", "Created", "Runtime", "Sweep", "model/params",
                "train/tokens", "train/loss", "eval/loss")
    lines = [header]
    for i, (n, d) in enumerate(SIZES):
        lines.append(_q(f"run-{i}", "finished", "-", "ana", "", f"2024-03-0{1 + i % 9}T10:00:00.000Z",
                        str(3600 + i), "", f"{n:g}", f"{d:g}", f"{_loss(n, d) - 0.05!r}", f"{_loss(n, d)!r}"))
        if i == 4:
            lines.append(_q("run-oom", "crashed", "-", "ana", "", "2024-03-05T11:00:00.000Z", "12", "", "6.4e9",
                            "", "", ""))
    path = tmp_path / "wandb_export.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fit(path, *args):
    run = run_cli("fit", "loss", path, "--json", *args)
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def test_wandb_export_fits_as_the_hand_edited_file(hand_edited, wandb_export):
    reference = _fit(hand_edited)
    assert reference["params"] == pytest.approx(TRUE, rel=1e-3)
    exported = _fit(wandb_export, "--column", "loss=eval/loss,params=model/params")
    assert exported["params"] == pytest.approx(reference["params"], rel=1e-9)
    # the eval loss wins over the train loss without a mapping too, and the notes say so
    frame, notes = loss.read_runs(wandb_export)
    assert frame["loss"].tolist() == pytest.approx([_loss(n, d) for n, d in SIZES], rel=1e-15)
    text = "; ".join(notes)
    assert "'eval/loss' -> loss" in text and "'train/loss' also match" in text
    assert "dropped 1 crashed run of 10 ('run-oom'; State column)" in text
    frame, notes = loss.read_runs(wandb_export, columns={"loss": "train/loss"})
    assert frame["loss"].tolist() == pytest.approx([_loss(n, d) - 0.05 for n, d in SIZES], rel=1e-15)
    assert "'train/loss' -> loss (columns=)" in notes[0]


def test_wandb_state_filter_runs_before_the_cells_are_checked(wandb_export, tmp_path):
    run = run_cli("fit", "loss", wandb_export, "--where", "State=finished", "--column", "loss=eval/loss")
    assert run.code == 0, run.stderr
    assert "columns mapped: 'eval/loss' -> loss (--column)" in run.stderr + run.stdout
    table = read_table(wandb_export, numeric=["params"], where=["State=crashed"])
    assert table.frame["run"].tolist() == ["run-oom"] and table.frame.index.tolist() == [6]
    # an explicit filter on the crashed runs keeps them; their empty cells are then an error
    with pytest.raises(InputError, match=r"row 6 \(line 7\), column 'eval/loss': the cell is empty"):
        read_table(wandb_export, numeric=["loss"], where="State=crashed")


def test_a_running_run_is_kept_with_a_note(wandb_export):
    wandb_export.write_text(wandb_export.read_text().replace('"run-8","finished"', '"run-8","running"'))
    table = read_table(wandb_export, numeric=["loss"])
    assert len(table.frame) == 9 and "1 run is still running" in table.describe_mapping()


def test_filters_users_write(wandb_export):
    table = read_table(wandb_export, numeric=["params"])
    kept = filter_rows(table, ["params<4e8"])
    assert kept.frame["run"].tolist() == ["run-0", "run-1", "run-2"]
    assert filter_rows(table, ["params>=400M", "tokens!=8e9"]).frame["run"].tolist() == [
        "run-3", "run-5", "run-6", "run-8"]
    assert filter_rows(table, "Name in run-1,run-7").frame.index.tolist() == [2, 9]
    assert filter_rows(table, {"params": "1.6B"}).frame["run"].tolist() == ["run-6", "run-7", "run-8"]
    with pytest.raises(InputError, match=r"no rows match tokens>1T \(after params<4e8, 3 rows were left\)"):
        filter_rows(table, ["params<4e8", "tokens>1T"])
    assert [f.text for f in parse_where(["a<=1", "b in x,y", "c=z"])] == ["a<=1", "b in x,y", "c=z"]


def test_pass_at_k_table_with_n_and_c_is_read_as_counts(tmp_path):
    rng = np.random.default_rng(0)
    n = np.full(12, 20)
    c = rng.integers(0, 21, size=12)
    body = "".join(f"HumanEval/{i},{a},{b}\n" for i, (a, b) in enumerate(zip(n, c, strict=True)))
    short, edited = tmp_path / "passk_nc.csv", tmp_path / "passk.csv"
    short.write_text("task_id,n,c\n" + body)
    edited.write_text("task_id,n_samples,n_correct\n" + body)
    tidy, notes = sampling.read_counts(short)
    reference, _ = sampling.read_counts(edited)
    pd.testing.assert_frame_equal(tidy, reference)
    assert "'n' -> n_samples, 'c' -> n_correct" in notes[0]
    runs = [run_cli("sampling", "passk", path, "--k", "1,5", "--json") for path in (short, edited)]
    assert runs[0].code == 0, runs[0].stderr
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)
    model = json.loads(runs[0].stdout)["models"]["all"]
    assert model["pass_at_k"][0] == pytest.approx(np.mean(c / n), rel=1e-12)  # pass@1 = mean c/n
    # outside the sampling family, N and C keep their meaning: parameters and FLOPs
    assert (canonical_name("n"), canonical_name("c")) == ("params", "flops")


def test_parquet_by_content_even_when_named_csv(hand_edited, tmp_path):
    frame = pd.read_csv(hand_edited)
    parquet = tmp_path / "runs.parquet"
    frame.to_parquet(parquet)
    misnamed = tmp_path / "runs_export.csv"
    misnamed.write_bytes(parquet.read_bytes())
    reference = _fit(hand_edited)
    for path in (parquet, misnamed):
        assert _fit(path)["params"] == pytest.approx(reference["params"], rel=1e-12)


def test_two_sheet_excel_reads_the_first_and_says_so(hand_edited, tmp_path):
    frame = pd.read_csv(hand_edited)
    book = tmp_path / "runs.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="runs", index=False)
        frame.iloc[:4].to_excel(writer, sheet_name="pilot", index=False)
    reference = _fit(hand_edited)
    run = run_cli("fit", "loss", book)
    assert run.code == 0, run.stderr
    assert "read sheet 'runs' of 2 (also 'pilot'); --sheet chooses another" in run.stderr + run.stdout
    assert _fit(book)["params"] == pytest.approx(reference["params"], rel=1e-12)
    frame4, notes = loss.read_runs(book, sheet="pilot")
    assert len(frame4) == 4 and "read sheet 'pilot' of 2 (also 'runs')" in notes[0]
    assert len(read_table(book, sheet=1).frame) == 4


def test_bad_inputs_through_the_cli_are_one_line_and_write_nothing(wandb_export, hand_edited, tmp_path):
    truncated = tmp_path / "cut.parquet"
    pd.read_csv(hand_edited).to_parquet(truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    book = tmp_path / "two.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        pd.read_csv(hand_edited).to_excel(writer, sheet_name="runs", index=False)
        pd.read_csv(hand_edited).to_excel(writer, sheet_name="more", index=False)
    text_named_parquet = tmp_path / "runs.parquet"
    text_named_parquet.write_text(hand_edited.read_text())
    cases = [
        ((wandb_export, "--column", "los=eval/loss"), ["role 'los' is unknown"]),
        ((wandb_export, "--column", "loss=eval/los"), ["wandb_export.csv", "--column maps loss to 'eval/los'"]),
        ((wandb_export, "--column", "loss"), ["--column 'loss' is not KEY=VALUE"]),
        ((wandb_export, "--where", "budget<<3e20"), ["--where 'budget<<3e20'", "not a number"]),
        ((wandb_export, "--where", "State"), ["--where 'State' is not a filter"]),
        ((wandb_export, "--where", "Colour=red"), ["names column 'Colour', which the file lacks"]),
        ((wandb_export, "--where", "model/params>1e12"), ["no rows match model/params>1e12"]),
        ((truncated,), ["cut.parquet", "cannot be read as parquet", "truncated"]),
        ((book, "--sheet", "third"), ["two.xlsx", "has no sheet 'third'", "'runs', 'more'"]),
        ((hand_edited, "--sheet", "runs"), ["runs.csv", "--sheet 'runs' is for Excel files"]),
        ((text_named_parquet,), ["runs.parquet", "holds text"]),
    ]
    for args, fragments in cases:
        out = tmp_path / "fit.json"
        run = run_cli("fit", "loss", *args, "--out", out)
        assert_user_error(run, *fragments)
        assert not out.exists()
    out = tmp_path / "passk.json"
    assert_user_error(run_cli("sampling", "fit", wandb_export, "--column", "n_samples=draws", "--out", out),
                      "--column maps n_samples to 'draws'")
    assert not out.exists()


def test_every_table_command_takes_column_and_sheet():
    commands = [("fit", "loss"), ("fit", "isoflop"), ("validate", "loss"), ("sampling", "passk"),
                ("sampling", "fit"), ("sampling", "check"), ("sampling", "verifier"), ("hparams", "fit"),
                ("hparams", "evaluate"), ("datastore", "fit"), ("datastore", "frontier"), ("downstream", "chain"),
                ("downstream", "ladder"), ("downstream", "error-law"), ("downstream", "observational"),
                ("transport", "distance"), ("transport", "project"), ("transport", "select"), ("mix", "fit"),
                ("mix", "evaluate")]
    for command in commands:
        run = run_cli(*command, "--help")
        assert run.code == 0 and "--column" in run.stdout and "--sheet" in run.stdout, command


def test_shipped_olmo_checkpoints_fit_with_a_column_mapping_and_a_filter(tmp_path):
    from support import DATA

    path = DATA / "loss" / "colpret_olmo_checkpoint_losses.csv"
    raw = pd.read_csv(path)
    kept = raw[(raw["model_name"] == "OLMo-7B") & raw["pile-validation/CrossEntropyLoss"].notna()]
    edited = tmp_path / "olmo7b_pile.csv"
    pd.DataFrame({"params": 7e9, "tokens": kept["tokens"],
                  "loss": kept["pile-validation/CrossEntropyLoss"]}).to_csv(edited, index=False)
    law = ("--law", "E + B/D**beta")
    reference = _fit(edited, *law)
    mapped = _fit(path, *law, "--column", "loss=pile-validation/CrossEntropyLoss", "--where", "loss>0",
                  "--where", "model=OLMo-7B")
    assert mapped["data"]["rows"] == len(kept) == 529
    assert mapped["params"] == pytest.approx(reference["params"], rel=1e-9)
    assert mapped["params"]["beta"] == pytest.approx(0.0796, abs=1e-4)


def test_reading_block_checks_the_main_file_and_lets_later_files_take_what_they_have(tmp_path):
    from scalelaw.io import reading

    main, manifest = tmp_path / "runs.csv", tmp_path / "manifest.csv"
    main.write_text("model/params,eval/loss\n7B,2.1\n")
    manifest.write_text("model,path\na,x.json\n")
    with reading(columns={"params": "model/params"}):
        assert read_table(main, numeric=["params"]).frame["params"].tolist() == [7e9]
        assert list(read_table(manifest).frame.columns) == ["model", "path"]
    with reading(columns={"params": "size"}), pytest.raises(InputError, match="maps params to 'size'"):
        read_table(main)


def test_text_formats_by_content(tmp_path):
    records = tmp_path / "runs.csv"
    records.write_text('[{"N": "7B", "loss": 2.1}, {"N": "1B", "loss": 2.5}]')
    lines = tmp_path / "runs.log"
    lines.write_text('{"N": "7B", "loss": 2.1}\n{"N": "1B", "loss": 2.5}\n')
    tabs = tmp_path / "runs.txt"
    tabs.write_text("N\tloss\n7B\t2.1\n1B\t2.5\n")
    bom = tmp_path / "excel_saved.csv"
    bom.write_bytes("N,loss\n7B,2.1\n1B,2.5\n".encode("utf-8-sig"))
    for path in (records, lines, tabs, bom):
        assert read_table(path, numeric=["params", "loss"]).frame["params"].tolist() == [7e9, 1e9], path
