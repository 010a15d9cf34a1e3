"""Sweep units and groups that cannot silently be wrong: batch sizes in sequences, tokens in billions,
MoE configurations that share N, and two studies in one file (Python and CLI)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import H, optimum

from scalelaw import artifact
from scalelaw.errors import InputError
from scalelaw.families import hyperparams as hp

from support import assert_user_error

#: (N, D) of a Step-Law-style sweep; D in whole billions so that a `tokens_b` file is exact.
PAIRS = ((1e8, 2e9), (1e8, 8e9), (4e8, 4e9), (4e8, 1.6e10), (1.6e9, 3.2e10))
SEQ_LEN = 2048
SEQUENCES = (32, 64, 128, 256, 512, 1024)


def _runs(pairs=PAIRS, *, lr_scale=1.0, batch_scale=1.0) -> list[dict]:
    """Runs on Step Law's kind of grid: lr in steps of sqrt(2) around the optimum, batch sizes as
    whole numbers of sequences of 2048 tokens; loss from the quadratic surface of hparams_sweeps."""
    huu, huv, hvv = H
    rows = []
    for n, d in pairs:
        lr0, b0 = optimum(n, d)
        lr0, b0 = lr0 * lr_scale, b0 * batch_scale
        floor = 1.8 + 400.0 / n**0.34 + 410.0 / d**0.28
        for i in range(-3, 4):
            lr = float(f"{lr0 * 2 ** (i / 2):.4g}")
            for bs in SEQUENCES:
                u, v = np.log(lr / lr0), np.log(bs * SEQ_LEN / b0)
                loss = floor * (1 + 0.5 * (huu * u * u + 2 * huv * u * v + hvv * v * v))
                rows.append({"N": int(n), "D": int(d), "lr": lr, "bs": bs, "loss": round(loss, 6)})
    return rows


def _write(path, rows, **extra) -> str:
    frame = pd.DataFrame(rows)
    for column, value in extra.items():
        frame[column] = value
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def sequences(tmp_path):
    """Step-Law-style: `bs` in sequences, a `seq_len` column beside it."""
    return _write(tmp_path / "steps.csv", _runs(), seq_len=SEQ_LEN)


@pytest.fixture
def tokens(tmp_path):
    """The same runs with the batch size in tokens."""
    rows = [r | {"bs": r["bs"] * SEQ_LEN} for r in _runs()]
    return _write(tmp_path / "tokens.csv", rows)


def _law(path, **read):
    return hp.fit_sweep(hp.load_sweep(path, **read), bootstrap=0)


def _same_law(a, b) -> None:
    assert hp.formulas(a) == hp.formulas(b)
    pd.testing.assert_frame_equal(hp.coefficients(a), hp.coefficients(b))
    pd.testing.assert_frame_equal(a.info["groups"], b.info["groups"])


# ------------------------------------------------------------------------------- batch in sequences
def test_batch_in_sequences_beside_seq_len_gives_the_law_of_tokens(sequences, tokens):
    sweep = hp.load_sweep(sequences)
    assert any("read as sequences" in n and "'seq_len' column" in n for n in sweep.notes), sweep.notes
    assert sweep.runs["batch_size"].min() == 32 * SEQ_LEN
    by_tokens = _law(tokens)
    _same_law(_law(sequences), by_tokens)
    assert hp.formulas(by_tokens)["batch_size"].startswith("B = ")
    assert not any("sequences" in n for n in hp.load_sweep(tokens).notes)


def test_seq_len_argument_decides_too(tmp_path, tokens):
    bare = _write(tmp_path / "bare.csv", _runs())
    sweep = hp.load_sweep(bare, seq_len=2048)
    assert any("seq_len=2048" in n for n in sweep.notes)
    _same_law(_law(bare, seq_len=2048), _law(tokens))
    # an explicit unit overrides the inference
    assert hp.load_sweep(bare, batch_unit="tokens").runs["batch_size"].max() == 1024


def test_undecidable_batch_unit(tmp_path, cli):
    bare = _write(tmp_path / "bare.csv", _runs())
    with pytest.raises(InputError, match=r"column 'bs': the batch sizes 32\.\.1024 are all below 1e4.*batch_unit="):
        hp.load_sweep(bare)
    out = tmp_path / "fit.json"
    run = cli("hparams", "fit", bare, "--out", str(out))
    assert_user_error(
        run, "bare.csv", "'bs'", "32..1024", "--batch-unit sequences with --seq-len", "--batch-unit tokens"
    )
    assert not out.exists()
    run = cli("hparams", "evaluate", bare, "--out", str(out))
    assert_user_error(run, "--batch-unit")
    assert not out.exists()
    ok = cli("hparams", "fit", bare, "--batch-unit", "sequences", "--seq-len", "2048", "--bootstrap", "0",
             "--json")
    assert ok.code == 0, ok.stderr
    assert_user_error(cli("hparams", "fit", bare, "--batch-unit", "rows"), "--batch-unit 'rows' is not one of")


def test_batch_named_in_sequences(tmp_path, tokens):
    rows = [{("batch_sequences" if k == "bs" else k): v for k, v in r.items()} for r in _runs()]
    path = _write(tmp_path / "named.csv", rows, seq_len=SEQ_LEN)
    sweep = hp.load_sweep(path)
    assert any("as its name says" in n for n in sweep.notes)
    _same_law(_law(path), _law(tokens))


def test_cli_fit_of_sequences_matches_tokens(sequences, tokens, cli):
    a = cli("hparams", "fit", sequences, "--bootstrap", "0", "--json")
    b = cli("hparams", "fit", tokens, "--bootstrap", "0", "--json")
    assert a.code == 0 and b.code == 0, (a.stderr, b.stderr)
    fa, fb = artifact.loads(a.stdout), artifact.loads(b.stdout)
    assert fa["info"]["formulas"] == fb["info"]["formulas"]
    assert [f["params"] for f in fa["fits"].values()] == [f["params"] for f in fb["fits"].values()]
    text = cli("hparams", "fit", sequences, "--bootstrap", "0")
    assert "note:" in text.stderr and "read as sequences" in text.stderr


# ------------------------------------------------------------------------------- tokens in billions
def _billions(rows, name):
    return [{(name if k == "D" else k): (v / 1e9 if k == "D" else v) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("name", ["tokens_b", "tokens (B)", "D_billions"])
def test_tokens_named_in_billions(tmp_path, sequences, name):
    path = _write(tmp_path / "billions.csv", _billions(_runs(), name), seq_len=SEQ_LEN)
    sweep = hp.load_sweep(path)
    assert any(f"{name!r} read as billions of tokens" in n for n in sweep.notes), sweep.notes
    assert sorted(sweep.groups["tokens"].unique()) == sorted({d for _, d in PAIRS})
    _same_law(_law(path), _law(sequences))


def test_tokens_in_billions_unnamed(tmp_path, sequences, cli):
    path = _write(tmp_path / "plain.csv", _billions(_runs(), "tokens"), seq_len=SEQ_LEN)
    with pytest.raises(InputError, match=r"column 'tokens': the token counts 2\.\.32 are all below 1e4"):
        hp.load_sweep(path)
    out = tmp_path / "fit.json"
    run = cli("hparams", "fit", path, "--out", str(out))
    assert_user_error(run, "plain.csv", "2..32", "--tokens-unit billions", "--tokens-unit tokens")
    assert not out.exists()
    _same_law(_law(path, tokens_unit="billions"), _law(sequences))
    assert cli("hparams", "fit", path, "--tokens-unit", "billions", "--bootstrap", "0").code == 0


# ------------------------------------------------------------------------------- MoE sharing N
def _moe(tmp_path) -> str:
    """Two MoE configurations at every total N: 8 experts (top-2) and 64 experts (top-8), whose
    optimal lr differ by 2x; total and active parameters, as MoE sweeps report them."""
    rows = []
    for experts, active, scale in ((8, 0.25, 1.0), (64, 0.125, 0.5)):
        for r in _runs(lr_scale=scale):
            rows.append(r | {"bs": r["bs"] * SEQ_LEN, "active_params": int(r["N"] * active),
                             "n_experts": experts})
    return _write(tmp_path / "moe.csv", rows)


def test_moe_configurations_sharing_n_are_separate_groups(tmp_path, tokens):
    path = _moe(tmp_path)
    sweep = hp.load_sweep(path)
    assert len(sweep.groups) == 2 * len(PAIRS)
    assert any("grouped by N, D and 'active_params', 'n_experts'" in n for n in sweep.notes), sweep.notes
    assert "100M/2B active_params=25M n_experts=8" in set(sweep.groups["group"])
    best = sweep.groups.set_index("group")["lr_best"]
    for n, d in PAIRS:
        lr0 = optimum(n, d)[0]
        g = hp.sweep.label(n, d)
        assert best[f"{g} active_params={hp.sweep.short(n * 0.25)} n_experts=8"] == pytest.approx(lr0, rel=0.01)
        assert best[f"{g} active_params={hp.sweep.short(n * 0.125)} n_experts=64"] == pytest.approx(lr0 / 2, rel=0.01)
    (warning,) = sweep.warnings  # one law of N and D cannot tell the two configurations apart
    assert "share N and D (differing in 'active_params', 'n_experts')" in warning
    assert "n_experts=8 (5 (N, D) groups), n_experts=64 (5 (N, D) groups)" in warning
    assert "where=n_experts=8" in warning
    one = hp.load_sweep(path, where={"n_experts": "8"})
    assert one.warnings == () and len(one.groups) == len(PAIRS)
    _same_law(hp.fit_sweep(one, bootstrap=0), _law(tokens))


# ------------------------------------------------------------------------------- two studies in one file
def _conditions(tmp_path) -> str:
    """Llama-style: one file, two loss conditions in one column, the same grid for both."""
    rows = []
    for condition, scale in (("c4_en", 1.0), ("dolma_books", 2.0)):
        rows += [r | {"bs": r["bs"] * SEQ_LEN, "eval": condition} for r in _runs(lr_scale=scale)]
    frame = pd.DataFrame(rows)
    frame.insert(0, "run", [f"run-{i:04d}" for i in range(len(frame))])
    frame.to_csv(tmp_path / "conditions.csv", index=False)
    return str(tmp_path / "conditions.csv")


def test_two_conditions_in_one_column_warn_and_where_selects(tmp_path, tokens, cli):
    path = _conditions(tmp_path)
    sweep = hp.load_sweep(path)
    assert len(sweep.groups) == 2 * len(PAIRS)
    (warning,) = sweep.warnings
    assert "column 'eval' splits the sweep into 2 sweeps" in warning and "where=eval=c4_en" in warning
    law = hp.fit_sweep(sweep, bootstrap=0)
    assert warning in law.warnings
    assert warning in hp.evaluate(sweep, law).warnings
    one = hp.load_sweep(path, where={"eval": "c4_en"})
    assert one.warnings == () and len(one.groups) == len(PAIRS)
    _same_law(hp.fit_sweep(one, bootstrap=0), _law(tokens))

    run = cli("hparams", "fit", path, "--bootstrap", "0")
    assert run.code == 0, run.stderr
    assert "warning: column 'eval' splits" in run.stderr and "--where eval=c4_en" in run.stderr
    payload = json.loads(cli("hparams", "fit", path, "--bootstrap", "0", "--json").stdout)
    assert warning in payload["warnings"]
    text = cli("hparams", "evaluate", path, "--law", "steplaw")
    assert text.code == 0 and "warning: column 'eval' splits" in text.stderr
    quiet = cli("hparams", "fit", path, "--where", "eval=c4_en", "--bootstrap", "0")
    assert quiet.code == 0 and "warning:" not in quiet.stderr, quiet.stderr


def test_run_names_and_labels_nested_in_n_are_not_configurations(tmp_path, tokens):
    frame = pd.read_csv(tokens)
    frame["Name"] = [f"run-{i}" for i in range(len(frame))]
    frame["State"] = ["finished"] * (len(frame) - 2) + ["crashed"] * 2
    frame["model"] = [f"llama-{n / 1e6:.0f}m" for n in frame["N"]]
    path = tmp_path / "named.csv"
    frame.to_csv(path, index=False)
    sweep = hp.load_sweep(path)
    assert len(sweep.groups) == len(PAIRS) and sweep.warnings == ()
    assert not any("grouped by" in n for n in sweep.notes)


def test_bad_where_on_a_sweep(tmp_path, cli):
    path = _conditions(tmp_path)
    out = tmp_path / "fit.json"
    assert_user_error(cli("hparams", "fit", path, "--where", "eval", "--out", str(out)), "--where 'eval'", "KEY=VALUE")
    assert_user_error(cli("hparams", "fit", path, "--where", "eval=c5", "--out", str(out)), "conditions.csv", "eval=c5")
    assert_user_error(cli("hparams", "fit", path, "--where", "set=c4_en", "--out", str(out)), "'set'")
    assert not out.exists()
