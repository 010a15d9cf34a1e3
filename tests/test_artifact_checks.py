"""Artifacts are checked field by field on load: a tampered field is one ArtifactError naming the file and
the JSON path, a hand edit of the numbers is caught by params_sha256, and untouched artifacts load silently."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw import artifact, engine, get_law, protocol
from scalelaw.errors import ArtifactError, ArtifactWarning
from scalelaw.families import loss
from scalelaw.result import FitResult

from support import DATA, ROOT, assert_user_error

LEGACY = ROOT / "tests" / "legacy_artifacts"


@pytest.fixture(scope="module")
def fit() -> FitResult:
    """Chinchilla fitted to Hoffmann et al.'s runs (Besiroglu et al.'s extraction), 5 bootstrap draws."""
    table = pd.read_csv(DATA / "loss" / "epoch_chinchilla_svg_extracted.csv").rename(
        columns={"Model Size": "params", "Training FLOP": "flops"})
    frame, _ = loss.prepare(table[["params", "flops", "loss"]], exclude_highest=5)
    return engine.fit(get_law("chinchilla"), frame, bootstrap=5, seed=0)


def tampered(payload: dict, path: tuple, value=KeyError) -> dict:
    """A copy of ``payload`` with the field at ``path`` set to ``value`` (dropped for KeyError)."""
    out = copy.deepcopy(payload)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is KeyError:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def refused(tmp_path, payload, *fragments: str) -> str:
    """Write ``payload``, load it: one ArtifactError line naming the file and each fragment."""
    path = tmp_path / "fit.json"
    path.write_text(artifact.dumps(payload) if isinstance(payload, dict) else json.dumps(payload))
    with pytest.raises(ArtifactError) as caught:
        scalelaw.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# ------------------------------------------------------------------------------------------ a fit
MUTATIONS = {"NaN": float("nan"), "inf": float("inf"), "-1": -1.0, "string": "abc", "list": [1.0], "null": None,
             "object": {"a": 1}, "dropped": KeyError}


@pytest.mark.parametrize("name", list(MUTATIONS))
@pytest.mark.parametrize("parameter", ["E", "A", "B", "alpha", "beta"])
def test_every_parameter_mutated_is_refused_naming_it(fit, tmp_path, parameter, name):
    payload = tampered(fit.to_dict(), ("params", parameter), MUTATIONS[name])
    if name == "-1" and not fit.law.params[fit.law.param_names.index(parameter)].lower > -1:
        pytest.skip("-1 lies within this parameter's bounds")
    refused(tmp_path, payload, f"params.{parameter} ")


def test_the_messages_say_what_is_wrong(fit, tmp_path):
    d = fit.to_dict()
    assert refused(tmp_path, tampered(d, ("params", "alpha"), float("nan"))).endswith(
        "fit.json: params.alpha is NaN; refit, or restore the artifact")
    assert "params.alpha must be a number, got a string ('abc')" in refused(
        tmp_path, tampered(d, ("params", "alpha"), "abc"))
    assert "params.E is -1.0, outside the law's bounds [0, inf]" in refused(
        tmp_path, tampered(d, ("params", "E"), -1.0))
    refused(tmp_path, tampered(d, ("params", "gamma"), 1.0), "params.gamma is not a parameter of law chinchilla")
    assert refused(tmp_path, tampered(d, ("bootstrap",), d["bootstrap"][0])).endswith(
        "bootstrap must be a 2-D array with 5 columns (one per parameter), got shape (5,); refit, or restore "
        "the artifact")
    refused(tmp_path, tampered(d, ("bootstrap",), [row[:4] for row in d["bootstrap"]]), "got shape (5, 4)")
    refused(tmp_path, tampered(d, ("bootstrap",), [[1.0, "x", 2, 3, 4]]), "bootstrap must be a rectangular array")
    refused(tmp_path, tampered(d, ("bootstrap",), [[float("inf")] * 5]), "bootstrap holds an infinite draw")
    refused(tmp_path, tampered(d, ("level",), 1.5), "level must lie in (0, 1), got 1.5")
    refused(tmp_path, tampered(d, ("settings", "level"), -0.95), "settings.level must lie in (0, 1)")
    refused(tmp_path, tampered(d, ("level",), 0.05), "level is 0.05 but settings.level is 0.95")
    alpha = d["intervals"]["alpha"]
    refused(tmp_path, tampered(d, ("intervals", "alpha"), alpha[::-1]), "intervals.alpha is inverted")
    refused(tmp_path, tampered(d, ("law",), None), "law must be an object, got null")
    refused(tmp_path, tampered(d, ("law", "params"), 5), "law is not a law declaration")
    refused(tmp_path, tampered(d, ("diagnostics", "at_bound"), 3), "diagnostics.at_bound must be a list")
    refused(tmp_path, tampered(d, ("data", "ranges"), "abc"), "data.ranges must be an object")
    refused(tmp_path, tampered(d, ("law",)), "law is missing; restore the artifact, or write it again")


@pytest.mark.parametrize("value", [None, 3.5, "fit", [1, 2], True])
def test_a_json_value_that_is_not_an_object_is_one_line(tmp_path, value):
    refused(tmp_path, value, "not an artifact object")
    with pytest.raises(ArtifactError, match="not a core fit artifact object"):
        FitResult.from_dict(value, source="x.json")


def test_deep_nesting_is_bounded(tmp_path):
    deep = {"schema": "scalelaw.core.fit/1", "law": json.loads("[" * 200 + "]" * 200)}
    refused(tmp_path, deep, "nests deeper than 64 levels")
    path = tmp_path / "fit.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ArtifactError, match="nests deeper than 64 levels"):
        scalelaw.load(path)
    with pytest.raises(ArtifactError, match="nests deeper than 64 levels"):
        FitResult.from_json(path)


def test_an_unknown_field_warns_naming_it(fit, tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(artifact.dumps({**fit.to_dict(), "colour": "blue"}))
    with pytest.warns(ArtifactWarning, match=r"fit.json: unknown fields ignored: colour$"):
        assert scalelaw.load(path).params == fit.params


# ------------------------------------------------------------------------------------------ the hash
def test_the_hash_is_of_the_law_params_bootstrap_and_noise():
    law = get_law("power_law")
    fit = FitResult(law=law, params={"A": 2.0, "alpha": 0.5})
    body = {"law": law.to_dict(), "params": {"A": 2.0, "alpha": 0.5}, "bootstrap": None, "noise": None}
    text = json.dumps(artifact.encode(body), sort_keys=True, separators=(",", ":"))
    import hashlib

    assert fit.to_dict()["params_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert fit.to_dict()["params_sha256"] == FitResult(law=law, params={"alpha": 0.5, "A": 2.0},
                                                       settings={"seed": 3}).to_dict()["params_sha256"]
    assert fit.to_json() == FitResult.from_json(fit.to_json()).to_json()


def test_an_untouched_artifact_loads_silently_and_an_edited_one_warns_or_is_refused(fit, tmp_path):
    path = tmp_path / "fit.json"
    fit.to_json(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArtifactWarning)
        assert scalelaw.load(path, strict=True).params == fit.params
    edited = fit.to_dict()
    edited["params"]["alpha"] = edited["params"]["alpha"] * 1.01
    path.write_text(artifact.dumps(edited))
    with pytest.warns(ArtifactWarning, match="edited by hand: params changed since the fit was written"):
        again = scalelaw.load(path)
    assert again.params["alpha"] == pytest.approx(fit.params["alpha"] * 1.01)
    for read in (lambda: scalelaw.load(path, strict=True), lambda: FitResult.from_json(path, strict=True),
                 lambda: protocol.load(path.read_text(), strict=True)):
        with pytest.raises(ArtifactError, match="params_sha256 does not match: edited by hand"):
            read()
    settings_only = fit.to_dict()
    settings_only["settings"] = {**settings_only["settings"], "seed": 7}
    path.write_text(artifact.dumps(settings_only))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArtifactWarning)
        scalelaw.load(path, strict=True)


def test_a_nested_edit_names_the_member(tmp_path):
    group = engine.fit(get_law("power_law"), pd.DataFrame({
        "x": [1.0, 4.0, 16.0, 64.0] * 2, "loss": [3.0, 1.5, 0.75, 0.375, 2.0, 1.0, 0.5, 0.25],
        "model": ["a"] * 4 + ["b"] * 4}), loss="squared", by="model")
    edited = group.to_dict()
    edited["fits"]["b"]["params"]["A"] = 2.5
    path = tmp_path / "fit.json"
    path.write_text(artifact.dumps(edited))
    with pytest.warns(ArtifactWarning) as caught:
        scalelaw.load(path)
    assert [str(w.message).split(":")[1].strip() for w in caught] == ["fits.b.params_sha256 does not match"]
    edited["fits"]["b"]["params"]["A"] = float("nan")
    refused(tmp_path, edited, "fits.b.params.A is NaN")
    refused(tmp_path, tampered(group.to_dict(), ("info", "groups"), {"a": ["a"]}), "info.groups.b must list")


def test_legacy_artifacts_load_without_artifact_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArtifactWarning)
        for name in ("fit.json", "hparams.json", "sampling.json", "datastore.json", "downstream_error_law.json"):
            assert isinstance(scalelaw.load(LEGACY / name, strict=True), protocol.Result)


# ------------------------------------------------------------------------------------------ the command line
HOSTILE = {"null": "null", "number": "3.5", "string": '"fit"', "list": "[1, 2]", "deep": "[" * 5000 + "]" * 5000,
           "nested": f'{{"schema": "scalelaw.core.fit/1", "scalelaw_version": "{scalelaw.__version__}", "law": '
                     + "[" * 300 + "]" * 300 + "}"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_commands_refuse_a_hostile_artifact_with_one_line(cli, tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_text(HOSTILE[name])
    gadre = DATA / "downstream" / "gadre" / "rpj_models.csv"
    for args in (("predict", path, "--params", "7B", "--tokens", "1.4T"), ("optimal", path, "--flops", "1e23"),
                 ("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--law", path),
                 ("sampling", "plan", path, "--target", "0.5"),
                 ("downstream", "error-law", gadre, "--loss-column", "c4_loss", "--error-column", "error_17",
                  "--loss-fit", path, "--params", "1439795200", "--set", "tokens_per_param=640")):
        assert_user_error(cli(*args), str(path))


def test_predict_strict_refuses_an_edited_fit(cli, fit, tmp_path):
    edited = fit.to_dict()
    edited["params"]["E"] = 1.5
    path = tmp_path / "fit.json"
    path.write_text(artifact.dumps(edited))
    run = cli("predict", path, "--params", "7B", "--tokens", "140B")
    assert run.code == 0 and "warning: " + f"{path}: params_sha256 does not match: edited by hand" in run.stderr
    assert_user_error(cli("predict", path, "--params", "7B", "--tokens", "140B", "--strict"), "edited by hand")
    assert_user_error(cli("optimal", path, "--flops", "1e23", "--strict"), "edited by hand")
    fit.to_json(path)
    run = cli("predict", path, "--params", "7B", "--tokens", "140B", "--strict")
    assert run.code == 0 and "params_sha256" not in run.stderr
    np.testing.assert_array_equal(float(run.stdout.split("=")[1].split()[0]),
                                  float(f"{fit.predict(params=7e9, tokens=1.4e11)[0]:.5g}"))


# ------------------------------------------------------------------------------------------ every family
FAMILY_CASES = ["core.group", "core.groups", "datastore.fit", "datastore.reader", "hparams.law",
                "hparams.recommendation", "sampling.coverage.powerlaw", "sampling.plan", "downstream.error-law",
                "loss.allocation", "transport.optimum"]


@pytest.fixture(scope="module")
def family_artifacts() -> dict[str, dict]:
    import importlib
    import pkgutil

    from contract import CASES

    for module in pkgutil.iter_modules([str(ROOT / "tests" / "contract_cases")]):
        importlib.import_module(f"contract_cases.{module.name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {c.name: json.loads(artifact.dumps(c.make(**c.settings).to_dict())) for c in CASES
                if c.name in FAMILY_CASES}


@pytest.mark.parametrize("name", FAMILY_CASES)
def test_each_family_artifact_mutated_field_by_field_is_refused_or_loads(family_artifacts, tmp_path, name):
    """Every field of the artifact (and of its objects, one level down) set to NaN, inf, -1, a string, a list,
    null, an object or dropped: one ArtifactError line naming the file, or a result, never another error."""
    base, path, outcomes = family_artifacts[name], tmp_path / "result.json", {"refused": 0, "loaded": 0}
    fields = [(k,) for k in base if k not in ("schema", "kind", "family")]
    fields += [(k, j) for k, v in base.items() if isinstance(v, dict) and not any(str(x).startswith("$") for x in v)
               for j in v]
    for field in fields:
        for value in MUTATIONS.values():
            path.write_text(artifact.dumps(tampered(base, field, value)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = scalelaw.load(path)
                except ArtifactError as err:
                    assert "\n" not in str(err) and str(err).startswith(f"{path}: "), (field, str(err))
                    outcomes["refused"] += 1
                    continue
            assert isinstance(result, protocol.Result), field
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 0, outcomes
    cls = protocol.SCHEMAS[base["schema"]]
    for required in (f.name for f in dataclasses.fields(cls)
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING):
        assert f"{required} is missing" in refused(tmp_path, tampered(base, (required,)))
    path.write_text(artifact.dumps(base))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArtifactWarning)
        scalelaw.load(path, strict=True)


def test_every_result_class_field_has_a_checked_type():
    """Each registered class's annotations resolve, so each of its fields is checked on load."""
    import importlib
    import typing

    from scalelaw import schema

    for module in protocol.MODULES.values():
        importlib.import_module(module)
    unresolved = {name: [k for k, v in schema.hints(cls).items() if v is typing.Any]
                  for name, cls in protocol.SCHEMAS.items()}
    assert {k: v for k, v in unresolved.items() if v} == {}


@pytest.mark.parametrize("version", [KeyError, "0.0.1"])
def test_a_refused_artifact_of_any_version_is_one_line_and_no_warning(fit, tmp_path, cli, version):
    payload = tampered(tampered(fit.to_dict(), ("params", "alpha"), float("nan")), ("scalelaw_version",), version)
    path = tmp_path / "fit.json"
    path.write_text(artifact.dumps(payload))
    run = cli("predict", path, "--params", "7e10", "--tokens", "1.4e12")
    assert_user_error(run, "params.alpha is NaN")
    assert "written by scalelaw" not in run.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ArtifactError, match="params.alpha is NaN"):
            scalelaw.load(path)
