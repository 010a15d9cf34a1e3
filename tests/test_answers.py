"""scalelaw.answers: each verb asked of a stored result answers exactly what the CLI prints with --json for
the same artifact and inputs (text for text, so floats bit for bit); wrong results and inputs are one line."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from hparams_sweeps import sweep_frame, write

from scalelaw import answers, artifact, engine, get_law, load
from scalelaw.errors import ExtrapolationWarning, InputError

from support import DATA, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
SIMULATED = DATA / "datastore" / "massiveds_simulated.csv"
PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
MIXTURES, LOSSES = DATA / "mixture" / "train_mixture_1m.csv", DATA / "mixture" / "train_pile_loss_1m.csv"


@pytest.fixture(autouse=True)
def quiet_extrapolation():
    """The answers carry their extrapolation warnings in the payload; the Python warnings are not tested."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        yield


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """Artifacts written by the CLI's --out: a loss fit with bootstrap, a joint and a per-reader datastore
    fit, a coverage fit, a mixing law and a fitted hyperparameter law."""
    folder = tmp_path_factory.mktemp("answers")
    sweep = write(folder / "sweep.csv", sweep_frame())
    paths = {name: folder / f"{name}.json" for name in ("loss", "joint", "readers", "sampling", "mix", "hparams",
                                                        "power")}
    engine.fit(get_law("power_law"), pd.DataFrame({"x": [1.0, 4.0, 16.0, 64.0], "loss": [3.0, 1.5, 0.75, 0.375]}),
               loss="squared").to_json(paths["power"])
    for args in (("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--bootstrap", "30", "--out", paths["loss"]),
                 ("datastore", "fit", SIMULATED, "--law", "joint", "--metric", "redpajama_ppl", "--bootstrap", "10",
                  "--out", paths["joint"]),
                 ("datastore", "fit", SIMULATED, "--metric", "redpajama_ppl", "--out", paths["readers"]),
                 ("sampling", "fit", PER_PROBLEM, "--out", paths["sampling"]),
                 ("mix", "fit", MIXTURES, LOSSES, "--target", "metric/the_pile_pile_cc_val_loss", "--out",
                  paths["mix"]),
                 ("hparams", "fit", sweep, "--out", paths["hparams"])):
        run = run_cli(*args)
        assert run.code == 0, run.stderr
    return paths


def same(payload: dict, *args) -> dict:
    """The CLI's --json output for ``args`` is the payload, text for text; returns it parsed."""
    run = run_cli(*args, "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == payload
    assert run.stdout == artifact.dumps(payload)
    return payload


# ------------------------------------------------------------------------------------------ predict
def test_predict_one_point_with_units_equals_the_cli(stored):
    fit = load(stored["loss"])
    payload = answers.answer("predict", fit, params="70B", tokens="1.4T")
    assert payload == answers.answer("predict", fit, params=7e10, tokens=1.4e12)
    assert artifact.loads(run_cli("predict", stored["loss"], "--params", "70B", "--tokens", "1.4T",
                                  "--json").stdout) == payload  # dict equality: the bootstrap gives finite bounds
    same(payload, "predict", stored["loss"], "--params", "70B", "--tokens", "1.4T")
    assert set(payload) == {"prediction", "lower", "upper", "interval", "level", "inputs", "target", "extrapolating",
                            "warnings"}
    assert payload["interval"] == "prediction"  # the default for a fit with a noise model
    assert payload["inputs"] == {"params": 7e10, "tokens": 1.4e12}
    assert payload["lower"] < payload["prediction"] < payload["upper"]
    assert payload["extrapolating"] and "params = 70B is 4.3x the largest fitted (16.2B)" in payload["warnings"]


def test_predict_several_points_and_flops(stored):
    fit = load(stored["loss"])
    payload = answers.answer("predict", fit, params=["7B", "70B"], tokens="1.4T,2.8T")
    rows = same(payload, "predict", stored["loss"], "--params", "7B,70B", "--tokens", "1.4T", "--tokens", "2.8T")
    assert [r["inputs"] for r in rows["predictions"]] == [{"params": 7e9, "tokens": 1.4e12},
                                                          {"params": 7e10, "tokens": 2.8e12}]
    by_flops = answers.answer("predict", fit, params="70B", flops=5.88e23, set={"tokens": "1.4T"})
    same(by_flops, "predict", stored["loss"], "--params", "70B", "--flops", "5.88e23", "--set", "tokens=1.4T")
    derived = answers.answer("predict", fit, params="70B", flops="5.88e23")
    assert derived["inputs"]["tokens"] == 5.88e23 / (6 * 7e10)


def test_predict_inside_the_fitted_range_warns_of_nothing(stored):
    fit = load(stored["loss"])
    low, high = fit.data["ranges"]["params"]
    payload = answers.answer("predict", fit, params=(low * high) ** 0.5, set=["tokens=20B"])
    same(payload, "predict", stored["loss"], "--params", repr((low * high) ** 0.5), "--set", "tokens=20B")
    assert "params" not in " ".join(payload["extrapolating"])


def test_a_bound_without_bootstrap_is_encoded_as_the_cli_prints_it(stored, tmp_path):
    out = tmp_path / "plain.json"
    assert run_cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--out", out).code == 0
    payload = answers.answer("predict", load(out), params="70B", tokens="1.4T", interval="confidence")
    same(payload, "predict", out, "--params", "70B", "--tokens", "1.4T", "--interval", "confidence")
    assert payload["lower"] == payload["upper"] == {"$float": "nan"}
    noise_only = answers.answer("predict", load(out), params="70B", tokens="1.4T")  # prediction: the scatter alone
    same(noise_only, "predict", out, "--params", "70B", "--tokens", "1.4T")
    assert noise_only["lower"] < noise_only["prediction"] < noise_only["upper"]
    assert any("residual scatter only" in text for text in noise_only["warnings"])


# ------------------------------------------------------------------------------------------ optimal
def test_optimal_of_a_loss_fit(stored):
    fit = load(stored["loss"])
    one = answers.answer("optimal", fit, flops="5.76e23")
    same(one, "optimal", stored["loss"], "--flops", "5.76e23")
    assert one["method"] == "closed form" and one["params_lower"] < one["params"] < one["params_upper"]
    both = answers.answer("optimal", fit, flops=[1e21, "1e26"])
    same(both, "optimal", stored["loss"], "--flops", "1e21,1e26")
    assert [a["flops"] for a in both["allocations"]] == [1e21, 1e26] and both["allocations"][1]["warnings"]


def test_optimal_of_a_datastore_fit(stored):
    joint = load(stored["joint"])
    one = answers.answer("optimal", joint, flops="1e22", max_datastore="1.4T")
    same(one, "datastore", "optimal", stored["joint"], "--flops", "1e22", "--max-datastore", "1.4T")
    several = answers.answer("optimal", joint, flops="1e21,1e22", retriever_params=2e8, queries="1M")
    same(several, "datastore", "optimal", stored["joint"], "--flops", "1e21,1e22", "--retriever-params", "200M",
         "--queries", "1M")
    assert len(several["optima"]) == 2 and several["optima"][0]["cost"]["retriever_params"] == 2e8
    with pytest.raises(InputError, match="per-reader laws"):
        answers.answer("optimal", load(stored["readers"]), flops="1e22")


def test_optimal_of_a_mixing_law(stored):
    fit = load(stored["mix"])
    payload = answers.answer("optimal", fit, max_share=0.3)
    same(payload, "mix", "optimize", stored["mix"], "--max-share", "0.3")
    assert max(payload["mixture"].values()) <= 0.3 + 1e-9
    assert answers.answer("optimal", fit, maximize=True) == json.loads(
        run_cli("mix", "optimize", stored["mix"], "--maximize", "--json").stdout)


# --------------------------------------------------------------------------------------------- plan
def test_plan_of_a_coverage_fit(stored):
    group = load(stored["sampling"])
    payload = answers.answer("plan", group, target="0.5", cost_per_sample=0.002)
    same(payload, "sampling", "plan", stored["sampling"], "--target", "0.5", "--cost-per-sample", "0.002")
    costs = answers.answer("plan", group, target=0.5, cost={"Pythia 12B": 0.05, "Pythia 70M": "0.0001"},
                           problems=100)
    same(costs, "sampling", "plan", stored["sampling"], "--target", "0.5", "--cost", "Pythia 12B=0.05",
         "--cost", "Pythia 70M=0.0001", "--problems", "100")
    assert {m["problems"] for m in costs["models"]} == {100}


# ---------------------------------------------------------------------------------------- recommend
def test_recommend_by_a_fitted_law(stored):
    law = load(stored["hparams"])
    payload = answers.answer("recommend", law, params="1B", tokens="20B", batch_size="1M")
    same(payload, "hparams", "recommend", "--law", stored["hparams"], "--params", "1B", "--tokens", "20B",
         "--batch-size", "1M")
    assert payload["at_batch_size"]["batch_size"] == 1e6


def test_recommend_published_steplaw_for_7b_and_1_4t():
    payload = answers.recommend_published(params="7B", tokens="1.4T")
    same(payload, "hparams", "recommend", "--params", "7B", "--tokens", "1.4T")
    assert f"{payload['lr']:.3g}" == "0.000917" and f"{payload['batch_size'] / 1e6:.2g}" == "5"
    assert payload == answers.recommend_published("steplaw", params=7e9, tokens=1.4e12)
    assert any("outside" in w for w in payload["warnings"])
    deepseek = answers.recommend_published("deepseek", params="7B", tokens="1.4T", layers=32, d_model="4096",
                                           moe=False)
    same(deepseek, "hparams", "recommend", "--law", "deepseek", "--params", "7B", "--tokens", "1.4T",
         "--layers", "32", "--d-model", "4096")


# ------------------------------------------------------------------------------------------- passk
def test_passk_of_rows_equals_the_cli_on_the_file():
    rows = pd.read_csv(PER_PROBLEM).to_dict(orient="records")
    payload = answers.passk(rows=rows, k="1,10,100", bootstrap=20)
    same(payload, "sampling", "passk", PER_PROBLEM, "--k", "1,10,100", "--bootstrap", "20")
    assert payload == answers.passk(rows=rows, k=[1, 10, "100"], bootstrap="20")
    picked = answers.passk(rows=rows, where=["model=Pythia 70M"])
    same(picked, "sampling", "passk", PER_PROBLEM, "--where", "model=Pythia 70M")
    assert list(picked["models"]) == ["Pythia 70M"] and picked["models"]["Pythia 70M"]["k"] == [1, 10, 100]


# ------------------------------------------------------------------------------------------- errors
def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("verb, name, inputs, fragments", [
    ("recommend", "loss", {"params": "7B", "tokens": "1T"}, ("a fit of the law 'chinchilla'", "hyperparameter laws")),
    ("plan", "hparams", {"target": 0.5}, ("hyperparams law group", "sampling coverage fits")),
    ("predict", "sampling", {"params": "7B"}, ("sampling coverage group", "fitted laws")),
    ("optimal", "sampling", {"flops": "1e22"}, ("sampling coverage group", "datastore fits", "mixing laws",
                                                 "loss laws")),
    ("optimal", "power", {"flops": "1e22"}, ("a fit of the law 'power_law'", "loss laws of N and D")),
])
def test_a_verb_of_another_family_is_one_line(stored, verb, name, inputs, fragments):
    with pytest.raises(InputError) as error:
        answers.answer(verb, load(stored[name]), **inputs)
    text = one_line(error)
    assert text.startswith(f"{verb} does not apply to")
    for fragment in fragments:
        assert fragment in text


def test_unknown_inputs_and_verbs_are_one_line(stored):
    with pytest.raises(InputError) as error:
        answers.answer("predict", load(stored["loss"]), params="7B", token="1T")
    assert one_line(error) == "predict: unknown input 'token'; it takes params=, tokens=, flops=, set=, interval="
    assert error.value.field == "token"
    with pytest.raises(InputError) as error:
        answers.recommend_published(params="7B", tokens="1T", lr="1e-3")
    assert "unknown input 'lr'" in one_line(error) and "seq_len=" in str(error.value)
    with pytest.raises(InputError) as error:
        answers.passk(file="counts.csv")
    assert "unknown input 'file'" in one_line(error) and "rows=" in str(error.value)
    with pytest.raises(InputError) as error:
        answers.answer("fit", load(stored["loss"]))
    assert "ask one of predict, optimal, plan, recommend" in one_line(error)


@pytest.mark.parametrize("verb, name, inputs, message", [
    ("predict", "loss", {"params": "7X", "tokens": "1T"}, "params=: '7X' is not a number"),
    ("predict", "loss", {"params": "7B"}, "needs tokens; give tokens="),
    ("predict", "loss", {"params": "7B,8B", "tokens": "1T,2T,3T"}, "same number of values"),
    ("predict", "loss", {"params": "7B", "set": {"tokens": "many"}}, "set=tokens: 'many' is not a number"),
    ("optimal", "loss", {"flops": -5}, "flops=: -5 must be a positive number"),
    ("optimal", "loss", {}, "give flops="),
    ("optimal", "joint", {"flops": "1e22", "queries": "-1"}, "queries=: '-1' must be a number >= 0"),
    ("optimal", "mix", {"maximize": "yes"}, "maximize=: give true or false"),
    ("plan", "sampling", {}, "give target="),
    ("plan", "sampling", {"target": 1.5}, "target=1.5 must be a coverage strictly between 0 and 1"),
    ("plan", "sampling", {"target": 0.5, "problems": 2.5}, "problems=: 2.5 must be a whole number"),
    ("recommend", "hparams", {"params": "7B"}, "give params= (non-embedding parameters N"),
    ("recommend", "hparams", {"params": "7B,8B", "tokens": "1T"}, "params=: this command takes one value, not 2"),
    ("recommend", "hparams", {"params": "7B", "tokens": "1T", "seq_len": "-2048"},
     "seq_len=: '-2048' must be a positive number"),
])
def test_bad_inputs_name_the_input(stored, verb, name, inputs, message):
    with pytest.raises(InputError) as error:
        answers.answer(verb, load(stored[name]), **inputs)
    assert message in one_line(error)
    if "=" in message.split()[0]:  # the field of the service's error body
        assert error.value.field == message.split("=")[0]


def test_bad_rows_and_k_of_passk():
    with pytest.raises(InputError) as error:
        answers.passk(rows=[{"model": "m", "problem": 1, "n_samples": 10, "n_correct": 1}], k="0")
    assert "k= must be positive integers" in one_line(error)
    with pytest.raises(InputError) as error:
        answers.passk(rows="counts.csv")
    assert "rows=: give a list of objects" in one_line(error)
    with pytest.raises(InputError) as error:
        answers.passk()
    assert "give rows=" in one_line(error)


def test_predict_any_fitted_law_with_set(stored):
    fit = load(stored["mix"])
    domains = [fit.law.column(s) for s in fit.law.inputs]
    shares = {d: 1 / len(domains) for d in domains}
    payload = answers.answer("predict", fit, set=shares)
    same(payload, "predict", stored["mix"], "--set", ",".join(f"{d}={v!r}" for d, v in shares.items()))
    assert payload["target"] == "metric/the_pile_pile_cc_val_loss" and payload["inputs"] == shares


def test_passk_rows_take_the_short_names_of_counts():
    rows = [{"model": "m", "problem": p, "n": 10, "c": c} for p, c in enumerate([0, 1, 5, 10])]
    payload = answers.passk(rows=rows, k=[1, 2])
    # pass@1 = mean c/n; pass@2 = mean 1 - C(n-c, 2)/C(n, 2)
    assert payload["models"]["m"]["pass_at_k"] == pytest.approx([0.4, (0 + 0.2 + 35 / 45 + 1) / 4])
    with pytest.raises(InputError) as error:
        answers.passk(rows=[])
    assert "rows=: no rows" in one_line(error)
