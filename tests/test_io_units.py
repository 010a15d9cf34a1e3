"""Size units of generic tables (tokens_b, params_m, PF-days) and studies hiding in a column."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families import loss
from scalelaw.io import scales, studies

from support import DATA, assert_user_error, run_cli

#: A Chinchilla-shaped law the logs are drawn from: E + A N^-alpha + B D^-beta.
TRUE = {"E": 1.8, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
PARAMS_M = (50.0, 125.0, 350.0, 760.0, 1500.0)
TOKENS_B = (1.0, 2.5, 5.0, 10.0, 20.0)


def _loss(n, d, *, E=TRUE["E"], A=TRUE["A"], B=TRUE["B"], alpha=TRUE["alpha"], beta=TRUE["beta"]):
    noise = 1 + 0.002 * np.sin(np.log(n) * 7 + np.log(d) * 3)
    return (E + A * n**-alpha + B * d**-beta) * noise


def _runs(**law) -> pd.DataFrame:
    rows = [(m * 1e6, b * 1e9) for m in PARAMS_M for b in TOKENS_B]
    frame = pd.DataFrame(rows, columns=["params", "tokens"])
    frame["loss"] = _loss(frame["params"], frame["tokens"], **law).round(6)
    return frame


@pytest.fixture
def logs(tmp_path):
    plain = _runs()
    plain.to_csv(tmp_path / "plain.csv", index=False)
    scaled = pd.DataFrame({"run": [f"r{i}" for i in range(len(plain))], "params_m": plain["params"] / 1e6,
                           "tokens_b": plain["tokens"] / 1e9, "loss": plain["loss"]})
    scaled.to_csv(tmp_path / "scaled.csv", index=False)
    pf = pd.DataFrame({"params": plain["params"], "pf_days": 6 * plain["params"] * plain["tokens"] / scales.PF_DAY,
                       "loss": plain["loss"]})
    pf.to_csv(tmp_path / "pf_days.csv", index=False)
    pf.rename(columns={"pf_days": "flops"}).to_csv(tmp_path / "flops_small.csv", index=False)
    other = _runs(E=2.1, A=300.0, alpha=0.30)
    two = pd.concat([plain.assign(condition="baseline"), other.assign(condition="dedup")], ignore_index=True)
    two[["condition", "params", "tokens", "loss"]].to_csv(tmp_path / "two_conditions.csv", index=False)
    return tmp_path


def _fit(frame):
    return loss.fit_loss(frame, "chinchilla")


def test_named_scales():
    assert scales.named_scale("tokens (B)", "tokens") == "billions"
    assert scales.named_scale("model_size_b", "params") == "billions"
    assert scales.named_scale("params_m", "params") == "millions"
    assert scales.named_scale("pfdays", "flops") == "pf-days"
    assert scales.named_scale("loss", "tokens") is None


def test_billions_and_millions_give_the_fit_in_plain_units(logs):
    plain, plain_notes = loss.read_runs(logs / "plain.csv")
    scaled, notes = loss.read_runs(logs / "scaled.csv")
    np.testing.assert_allclose(scaled["params"], plain["params"], rtol=1e-12)
    np.testing.assert_allclose(scaled["tokens"], plain["tokens"], rtol=1e-12)
    assert any("'params_m' read as millions (x 1e+06)" in n for n in notes)
    assert any("'tokens_b' read as billions (x 1e+09)" in n for n in notes)
    a, b = _fit(plain), _fit(scaled)
    for name in TRUE:
        assert b.params[name] == pytest.approx(a.params[name], rel=1e-8)
    assert a.params["alpha"] == pytest.approx(TRUE["alpha"], rel=0.05)


def test_pf_days_are_converted(logs):
    plain, _ = loss.read_runs(logs / "plain.csv")
    frame, notes = loss.read_runs(logs / "pf_days.csv")
    np.testing.assert_allclose(frame["tokens"], plain["tokens"], rtol=1e-9)
    assert any("'pf_days' read as PF-days (x 8.64e19)" in n for n in notes)


def test_small_flops_refused_or_given_a_unit(logs):
    with pytest.raises(InputError, match="flops_unit=pf-days"):
        loss.read_runs(logs / "flops_small.csv")
    frame, _ = loss.read_runs(logs / "flops_small.csv", flops_unit="pf-days")
    plain, _ = loss.read_runs(logs / "plain.csv")
    np.testing.assert_allclose(frame["tokens"], plain["tokens"], rtol=1e-9)


def test_small_flops_matching_6nd_are_read_as_pf_days():
    frame = pd.DataFrame({"params": [1e8, 1e9], "tokens": [2e9, 2e10], "flops": [0.0139, 1.389]})
    out, notes = scales.apply_units(frame)
    assert out["flops"].tolist() == pytest.approx([0.0139 * 8.64e19, 1.389 * 8.64e19])
    assert "match 6 N D as PF-days" in notes[0]


def test_plain_small_tokens_and_params_stop(tmp_path):
    (tmp_path / "t.csv").write_text("params,tokens,loss\n1.25e8,2.5,3.1\n3.5e8,5,2.9\n")
    with pytest.raises(InputError, match="tokens_unit=billions"):
        loss.read_runs(tmp_path / "t.csv")
    frame, _ = loss.read_runs(tmp_path / "t.csv", tokens_unit="billions")
    assert frame["tokens"].tolist() == [2.5e9, 5e9]
    (tmp_path / "p.csv").write_text("params,tokens,loss\n125,2.5e9,3.1\n350,5e9,2.9\n")
    with pytest.raises(InputError, match="params_unit=millions"):
        loss.read_runs(tmp_path / "p.csv")


def test_two_conditions_are_warned_in_python(logs):
    with pytest.warns(UserWarning, match="column 'condition' splits the runs into 2 studies") as caught:
        frame, _ = loss.read_runs(logs / "two_conditions.csv")
    text = str(caught[0].message)
    assert "'baseline' (5 model sizes), 'dedup' (5 model sizes)" in text
    assert "where=condition=baseline" in text
    assert frame.attrs["warnings"] == [text]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one, _ = loss.read_runs(logs / "two_conditions.csv", where="condition=baseline")
    assert one.attrs["warnings"] == []


def test_studies_ignore_run_names_and_numbers():
    frame = pd.DataFrame({"params": [1e8, 1e9, 1e8, 1e9], "run": ["a", "a", "b", "b"],
                          "lr": ["1e-3", "1e-3", "2e-3", "2e-3"], "name": list("wxyz")})
    assert studies.hidden(frame, frame["params"]) == {}


def test_two_conditions_cli_warns_and_where_gives_the_single_study_fit(logs):
    run = run_cli("fit", "loss", logs / "two_conditions.csv")
    assert run.code == 0, run.stderr
    assert "warning: column 'condition' splits the runs into 2 studies" in run.stdout + run.stderr
    assert "--where condition=baseline" in run.stdout + run.stderr
    run = run_cli("fit", "loss", logs / "two_conditions.csv", "--json")
    assert any("'condition'" in w for w in json.loads(run.stdout)["warnings"])
    picked = run_cli("fit", "loss", logs / "two_conditions.csv", "--where", "condition=baseline", "--json")
    single = run_cli("fit", "loss", logs / "plain.csv", "--json")
    assert picked.code == 0 and single.code == 0, picked.stderr
    a, b = json.loads(picked.stdout), json.loads(single.stdout)
    assert a["params"] == b["params"]
    assert not any("'condition'" in w for w in a.get("warnings", []))


def test_cli_units(logs, tmp_path):
    run = run_cli("fit", "loss", logs / "scaled.csv", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["params"] == json.loads(run_cli("fit", "loss", logs / "plain.csv",
                                                                  "--json").stdout)["params"]
    ok = run_cli("fit", "loss", logs / "flops_small.csv", "--flops-unit", "pf-days")
    assert ok.code == 0, ok.stderr


@pytest.mark.parametrize(("name", "text", "args", "fragments"), [
    ("f.csv", "params,flops,loss\n1e8,0.5,3\n1e9,5,2.8\n", (), ("--flops-unit pf-days", "f.csv", "flops")),
    ("t.csv", "params,tokens,loss\n1e8,2.5,3\n1e9,5,2.8\n", (), ("--tokens-unit billions", "t.csv")),
    ("p.csv", "params,tokens,loss\n125,2.5e9,3\n350,5e9,2.8\n", (), ("--params-unit millions", "p.csv")),
    ("u.csv", "params,tokens,loss\n1e8,2.5e9,3\n1e9,5e9,2.8\n", ("--tokens-unit", "gallons"),
     ("tokens-unit", "gallons")),
])
def test_bad_units_through_the_cli(tmp_path, name, text, args, fragments):
    (tmp_path / name).write_text(text)
    out = tmp_path / "fit.json"
    run = run_cli("fit", "loss", tmp_path / name, *args, "--out", out)
    assert_user_error(run, *fragments)
    assert not out.exists()


# ------------------------------------------------------------------------- --where on more commands
def test_sampling_where_equals_the_hand_filtered_file(tmp_path):

    source = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
    kept = tmp_path / "pythia_70m.csv"
    frame = pd.read_csv(source)
    frame[frame["model"] == "Pythia 70M"].to_csv(kept, index=False)
    picked = run_cli("sampling", "passk", source, "--k", "1,100", "--where", "model=Pythia 70M", "--json")
    edited = run_cli("sampling", "passk", kept, "--k", "1,100", "--json")
    assert picked.code == 0, picked.stderr
    assert json.loads(picked.stdout) == json.loads(edited.stdout)
    assert list(json.loads(picked.stdout)["models"]) == ["Pythia 70M"]


def test_datastore_where_equals_the_hand_filtered_file(tmp_path):
    from scalelaw.families import datastore


    source = DATA / "datastore" / "massiveds_simulated.csv"
    frame = pd.read_csv(source)
    kept = tmp_path / "one_metric.csv"
    frame[frame["metric"] == "redpajama_ppl"].to_csv(kept, index=False)
    a = datastore.read(source, where="metric=redpajama_ppl")
    b = datastore.read(kept)
    pd.testing.assert_frame_equal(a.points.drop(columns="row").reset_index(drop=True),
                                  b.points.drop(columns="row").reset_index(drop=True))
    assert list(a.metrics) == ["redpajama_ppl"]
    out = tmp_path / "fit.json"
    run = run_cli("datastore", "fit", source, "--where", "model=nope", "--out", out)
    assert_user_error(run, "no rows match model=nope", "massiveds_simulated.csv")
    assert not out.exists()


def test_bad_where_on_sampling_is_one_line(tmp_path):

    out = tmp_path / "fit.json"
    run = run_cli("sampling", "fit", DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv",
                  "--where", "size>>3", "--out", out)
    assert_user_error(run, "--where")
    assert not out.exists()


def test_datastore_log_in_billions_reads_as_the_plain_one(tmp_path):
    from scalelaw.families import datastore

    plain = pd.read_csv(DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv")
    scaled = plain.rename(columns={"params": "params_b", "tokens": "tokens_b"})
    scaled["params_b"], scaled["tokens_b"] = 7, 2000
    scaled.to_csv(tmp_path / "scaled.csv", index=False)
    a = datastore.read(DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv")
    b = datastore.read(tmp_path / "scaled.csv")
    pd.testing.assert_frame_equal(a.points, b.points)
    assert any("'params_b' read as billions" in n for n in b.notes)
    (tmp_path / "small.csv").write_text("model,params,tokens,datastore_tokens,metric,value\n"
                                        "m,7B,2000,0,ppl,9\nm,7B,2000,1T,ppl,8\n")
    out = tmp_path / "fit.json"
    assert_user_error(run_cli("datastore", "fit", tmp_path / "small.csv", "--out", out),
                      "--tokens-unit billions", "small.csv")
    assert not out.exists()
