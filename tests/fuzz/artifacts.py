"""Hypothesis strategies for artifacts: valid ones from real fits (one per family), mutated field by field
(types, NaN/inf, shapes, dropped and extra keys, JSON null/number/string/list, deep nesting), and files that
are not artifacts at all.
"""

from __future__ import annotations

import copy
import json
import tempfile
from functools import cache
from pathlib import Path

import hparams_sweeps
import numpy as np
import pandas as pd
from hypothesis import strategies as st

from fuzz.invariant import check, cli_outcome
from fuzz.tables import CLEAN

from support import DATA

KINDS = ("loss", "sampling", "datastore", "hparams", "error-law")
FOLDER = Path(tempfile.mkdtemp(prefix="scalelaw-fuzz-artifacts-"))


def _fit(name: str, *args: object) -> dict:
    out = FOLDER / f"{name}.json"
    check(cli_outcome(*args, "--out", out, outputs=(out,)), name)
    return json.loads(out.read_text())


@cache
def valid() -> dict[str, dict]:
    """One artifact of each kind, written by the command that makes it: kind -> parsed JSON."""
    runs = FOLDER / "runs.csv"
    runs.write_text("params,tokens,loss\n" + "".join(f"{n!r},{d!r},{y!r}\n" for n, d, y in CLEAN))
    per_problem = pd.read_csv(DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv")
    sampling = FOLDER / "problems.csv"
    per_problem[per_problem["model"].isin(["Pythia 70M", "Pythia 12B"])].to_csv(sampling, index=False)
    sweep = hparams_sweeps.write(FOLDER / "sweep.csv", hparams_sweeps.sweep_frame())
    loss = np.linspace(2.0, 4.0, 12)
    errors = FOLDER / "errors.csv"
    pd.DataFrame({"loss": loss, "error": 0.9 - 0.6 * np.exp(-1.2 * (loss - 2.0))}).to_csv(errors, index=False)
    return {
        "loss-plain": _fit("loss-plain", "fit", "loss", runs),
        "loss": _fit("loss", "fit", "loss", runs, "--bootstrap", "20", "--seed", "0"),
        "sampling": _fit("sampling", "sampling", "fit", sampling),
        "datastore": _fit("datastore", "datastore", "fit", DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv"),
        "hparams": _fit("hparams", "hparams", "fit", sweep),
        "error-law": _fit("error-law", "downstream", "error-law", errors),
    }


def paths(value, prefix=()) -> list[tuple]:
    """Every JSON path (a tuple of keys and indices) in ``value`` down to 12 levels, containers included."""
    found = [prefix]
    if len(prefix) >= 12:
        return found
    if isinstance(value, dict):
        for key, member in value.items():
            found += paths(member, (*prefix, key))
    elif isinstance(value, list):
        for index, member in enumerate(value[:4]):
            found += paths(member, (*prefix, index))
    return found


def nested(depth: int):
    value: object = 1.0
    for _ in range(depth):
        value = [value]
    return value


REPLACEMENTS = (None, True, False, 0, -1, 1e308, 10**400, -(10**30), float("nan"), float("inf"), float("-inf"),
                "", "abc", "1e9", [], [1.0], [[1.0, 2.0]], {}, {"a": 1}, nested(40), nested(300), 2.5, "NaN")


@st.composite
def mutations(draw, kind: str):
    """The valid artifact of ``kind`` with one to three fields replaced, dropped, added, cut or reshaped."""
    payload = copy.deepcopy(valid()[kind])
    how = []
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(payload)[1:]))
        parent = payload
        try:
            for key in where[:-1]:
                parent = parent[key]
            current = parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(("replace", "replace", "replace", "drop", "extra", "cut", "wrap", "scale")))
        if action == "replace":
            parent[where[-1]] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
        elif action == "drop":
            del parent[where[-1]]
        elif action == "extra" and isinstance(current, dict):
            key = draw(st.sampled_from(("extra", "__class__", "", "params")))
            current[key] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
        elif action == "cut" and isinstance(current, (list, str)):
            parent[where[-1]] = current[:draw(st.integers(0, max(0, len(current) - 1)))]
        elif action == "wrap":
            parent[where[-1]] = [current]
        elif action == "scale" and isinstance(current, (int, float)) and not isinstance(current, bool):
            parent[where[-1]] = current * draw(st.sampled_from((-1, 0, 1e-300, 1e300, 1 + 1e-12)))
        how.append(f"{action} {'.'.join(map(str, where))}")
    return payload, how


WHOLE = (b"", b"null", b"1", b"\"fit\"", b"[]", b"{}", b"[" * 100_000, b"{\"schema\": " * 5000, b"not json",
         b"\xef\xbb\xbf{}", b"\xff\xfe{", b"{\"schema\": \"scalelaw.core.fit/1\"}", b"NaN", b"[1, 2, 3]")


def artifact_files(kind: str):
    """Bytes of an artifact file: a mutation of the ``kind`` artifact, or something that is not one."""
    def encode(mutation):
        payload, how = mutation
        try:
            return json.dumps(payload).encode(), how
        except (ValueError, RecursionError):
            return b"[]", how
    return st.one_of(mutations(kind).map(encode),
                     st.integers(0, len(WHOLE) - 1).map(lambda i: (WHOLE[i], [f"whole file {i}"])))
