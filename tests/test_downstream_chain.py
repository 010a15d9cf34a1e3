"""The predictability chain: exact metrics, vectorised correlations, readers and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scalelaw.families.downstream import chain
from scalelaw.families.downstream.readers import read_choices

from support import assert_user_error


def _frame(logprobs, correct, lengths=None, model="m", flops=1e20):
    rows = {
        "model": model,
        "family": "f",
        "flops": flops,
        "question": "q",
        "choice": [str(i) for i in range(len(logprobs))],
        "logprob": logprobs,
        "is_correct": correct,
    }
    if lengths is not None:
        rows["length"] = lengths
    return pd.DataFrame(rows)


def test_metrics_of_one_question_are_the_closed_forms():
    ll = [-1.0, -2.0, -3.5]
    m = chain.question_metrics(_frame(ll, [False, True, False])).iloc[0]
    p = np.exp(ll) / np.exp(ll).sum()
    assert m["logp_correct"] == -2.0
    assert m["p_vocab_correct"] == pytest.approx(np.exp(-2.0), rel=1e-15)
    assert m["p_vocab_incorrect"] == pytest.approx(np.exp(-1.0) + np.exp(-3.5), rel=1e-14)
    assert m["logp_incorrect"] == pytest.approx(np.log(np.exp(-1.0) + np.exp(-3.5)), rel=1e-14)
    assert m["p_choices_correct"] == pytest.approx(p[1], rel=1e-14)
    assert m["brier"] == pytest.approx(((p - [0, 1, 0]) ** 2).mean(), rel=1e-14)
    assert m["accuracy"] == 0.0 and not m["tie"]


def test_a_tie_for_the_maximum_counts_as_wrong_and_is_reported():
    m = chain.question_metrics(_frame([-1.0, -1.0, -4.0], [True, False, False])).iloc[0]
    assert m["accuracy"] == 0.0 and m["tie"]
    assert m["p_choices_correct"] == pytest.approx(np.exp(-1) / (2 * np.exp(-1) + np.exp(-4)))


def test_length_normalised_accuracy_divides_by_characters():
    # raw: choice 0 wins (-4 > -6); per character: choice 1 wins (-6/12 = -0.5 > -4/4 = -1)
    m = chain.question_metrics(_frame([-4.0, -6.0], [False, True], lengths=[4, 12])).iloc[0]
    assert m["accuracy"] == 0.0
    assert m["accuracy_norm"] == 1.0


@pytest.mark.parametrize(
    ("method", "reference"),
    [("pearson", stats.pearsonr), ("spearman", stats.spearmanr), ("kendall", stats.kendalltau)],
)
def test_vectorised_correlations_match_scipy_column_by_column(method, reference):
    rng = np.random.default_rng(1)
    x = np.log10(np.geomspace(1e19, 1e23, 9))
    Y = rng.normal(size=(9, 40))
    Y[:, 5] = 0.25  # constant column: undefined
    Y[3:6, 7] = Y[0, 7]  # ties
    ours = chain.correlate(x, Y, method)
    expected = [reference(x, Y[:, j])[0] if np.ptp(Y[:, j]) > 0 else np.nan for j in range(40)]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
    assert np.isnan(ours[5])


def _family(n_models=8, n_questions=400, seed=0, noise=0.5):
    """A family whose correct-answer log-likelihood rises with compute while the mass on the
    distractors fluctuates at random (Schaeffer et al.'s mechanism)."""
    rng = np.random.default_rng(seed)
    flops = np.geomspace(1e19, 1e22, n_models)
    rows = []
    for i, c in enumerate(flops):
        gain = 0.4 * np.log10(c / 1e19)
        for q in range(n_questions):
            ll = np.minimum(np.r_[-3.0 + gain + rng.normal(0, 0.1), -3.2 + rng.normal(0, noise, 3)], -1e-3)
            rows += [(f"m{i}", "toy", c, f"q{q}", str(k), ll[k], k == 0) for k in range(4)]
    return pd.DataFrame(
        rows, columns=["model", "family", "flops", "question", "choice", "logprob", "is_correct"]
    )


def test_predictability_degrades_along_the_chain_when_distractor_mass_fluctuates():
    result = chain.analyse(_family())
    means = result.degradation("pearson").loc["toy"]
    assert means["logp_correct"] > 0.9
    assert means["logp_correct"] >= means["p_vocab_correct"] > means["p_choices_correct"] > means["accuracy"]
    assert means["brier"] < means["p_vocab_correct"]
    spearman = result.degradation("spearman").loc["toy"]
    assert spearman["logp_correct"] == pytest.approx(spearman["p_vocab_correct"])  # same ranks
    inc = result.incorrect.set_index(["metric", "method"])["mean"]
    assert abs(inc[("logp_incorrect", "pearson")]) < 0.1  # random distractor mass: no trend
    per_model = result.per_model
    assert per_model["accuracy"].is_monotonic_increasing
    assert list(per_model.index) == [f"m{i}" for i in range(8)]


def test_without_distractor_noise_the_chain_stays_predictable():
    means = chain.analyse(_family(noise=0.0, n_questions=50)).degradation("pearson").loc["toy"]
    assert means["p_choices_correct"] > 0.95


def test_family_with_too_few_models_is_skipped_with_a_note():
    result = chain.analyse(_family(n_models=2, n_questions=5))
    assert result.summary().empty
    assert any("at least 3" in note for note in result.notes)


# --------------------------------------------------------------------------------- harness files
def _samples(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_harness_samples_file_with_string_responses_and_text_targets(tmp_path):
    path = _samples(
        tmp_path / "samples_arc.jsonl",
        [
            {
                "doc_id": 0,
                "target": 1,
                "filtered_resps": [["-2.5", "False"], ["-1.0", "True"]],
                "arguments": {
                    "gen_args_0": {"arg_0": "Q", "arg_1": " red"},
                    "gen_args_1": {"arg_0": "Q", "arg_1": " blue"},
                },
            },
            {
                "doc_id": 1,
                "target": " cat",
                "filtered_resps": [[-0.5, True], [-3.0, False]],
                "arguments": [["Q", " cat"], ["Q", " mouse"]],
            },
        ],
    )
    choices = read_choices(path, flops=1e21)
    frame = choices.frame
    assert frame.groupby("question")["is_correct"].sum().tolist() == [1, 1]
    assert frame.loc[frame["is_correct"], "choice"].tolist() == ["1", "0"]
    assert frame["length"].tolist() == [4.0, 5.0, 4.0, 6.0]
    metrics = chain.question_metrics(choices)
    assert metrics["accuracy"].tolist() == [1.0, 1.0]


def test_manifest_of_samples_files(tmp_path, cli):
    for name, shift in (("a", 0.0), ("b", 0.5), ("c", 1.0)):
        _samples(
            tmp_path / f"{name}.jsonl",
            [
                {"doc_id": q, "target": 0, "filtered_resps": [[-2.0 + shift - 0.1 * q, False], [-2.2, False]]}
                for q in range(4)
            ],
        )
    (tmp_path / "manifest.csv").write_text(
        "model,family,params,tokens,path\n"
        "a,pythia,1e8,3e11,a.jsonl\nb,pythia,4e8,3e11,b.jsonl\n"
        "c,pythia,1.4e9,3e11,c.jsonl\n"
    )
    run = cli("downstream", "chain", tmp_path / "manifest.csv", "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert [m["model"] for m in out["models"]] == ["a", "b", "c"]
    assert {"accuracy", "brier", "p_choices_correct", "p_vocab_correct", "logp_correct"} <= set(
        out["models"][0]
    )
    pearson = {r["metric"]: r["mean"] for r in out["correlations"] if r["method"] == "pearson"}
    assert pearson["logp_correct"] == pytest.approx(
        stats.pearsonr(np.log10([6e19, 2.4e20, 8.4e20]), [-2.0, -1.5, -1.0])[0]
    )


# ------------------------------------------------------------------------------------------- CLI
def _write_tidy(path, frame):
    frame.to_csv(path, index=False)
    return path


def test_cli_chain_on_a_tidy_table_writes_metrics_and_plot(tmp_path, cli):
    path = _write_tidy(tmp_path / "choices.csv", _family(n_questions=30))
    run = cli("downstream", "chain", path, "--csv", tmp_path / "q.csv", "--plot", tmp_path / "c.png")
    assert run.code == 0, run.stderr
    assert "per-model means" in run.stdout and "family toy" in run.stdout
    written = pd.read_csv(tmp_path / "q.csv")
    assert len(written) == 8 * 30
    assert (tmp_path / "c.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda f: f.assign(is_correct=False), ("row 1 (line 2)", "'is_correct'", "no correct choice")),
        (lambda f: f.assign(is_correct=f["choice"].isin(["0", "1"])), ("'is_correct'", "2 correct choices")),
        (
            lambda f: f.assign(logprob=f["logprob"].where(f.index != 5, 0.7)),
            ("row 6", "'logprob'", "is positive"),
        ),
        (
            lambda f: f.assign(logprob=f["logprob"].astype(object).where(f.index != 3, "nan")),
            ("row 4", "'logprob'", "not finite"),
        ),
        (
            lambda f: f.assign(logprob=f["logprob"].astype(object).where(f.index != 2, "-inf")),
            ("row 3", "not finite"),
        ),
        (lambda f: f.assign(flops=f["flops"].where(f.index != 9, 5e19)), ("model 'm0'", "different compute")),
        (lambda f: f.drop(columns="is_correct"), ("missing column 'is_correct'",)),
        (lambda f: f.drop(columns="flops"), ("needs each model's compute",)),
        (
            lambda f: f.assign(logprob=f["logprob"].astype(object).where(f.index != 1, "abc")),
            ("row 2", "not a number"),
        ),
        (lambda f: pd.concat([f, f.iloc[[0]]]), ("appears twice",)),
    ],
)
def test_cli_chain_refuses_bad_choice_tables(tmp_path, cli, change, fragments):
    path = _write_tidy(tmp_path / "bad.csv", change(_family(n_models=3, n_questions=4)))
    run = cli("downstream", "chain", path, "--out", tmp_path / "q.csv")
    assert_user_error(run, "bad.csv", *fragments)
    assert not (tmp_path / "q.csv").exists()


def test_cli_chain_refuses_bad_harness_samples(tmp_path, cli):
    bad_target = _samples(
        tmp_path / "t.jsonl", [{"doc_id": 0, "target": 3, "filtered_resps": [[-1, 0], [-2, 0]]}]
    )
    assert_user_error(
        cli("downstream", "chain", bad_target, "--flops", "1e21"),
        "t.jsonl",
        "row 1",
        "not one of the 2 choices",
    )
    positive = _samples(
        tmp_path / "p.jsonl", [{"doc_id": 0, "target": 0, "filtered_resps": [[0.3, 0], [-2, 0]]}]
    )
    assert_user_error(cli("downstream", "chain", positive, "--flops", "1e21"), "p.jsonl", "row 1", "positive")
    assert_user_error(cli("downstream", "chain", positive), "p.jsonl", "--flops")
