"""The fuzz targets: each draws cases from a strategy and runs them through the CLI in-process or a Python
reader or loader, returning one outcome per call (:mod:`fuzz.invariant`); the tests assert every outcome is
"ok" or "refused", ``tests/fuzz/measure.py`` counts them.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from fuzz import artifacts, formulas, options, tables
from fuzz.invariant import cli_outcome, outcome

#: Every reader of a table file, by module and name.
READERS = (
    ("scalelaw.families.loss", "read_runs"), ("scalelaw.families.sampling.counts", "read_counts"),
    ("scalelaw.families.downstream.readers", "read_choices"),
    ("scalelaw.families.downstream.error_law", "read_errors"),
    ("scalelaw.families.downstream.observational", "read_benchmarks"),
    ("scalelaw.families.downstream.olmo_ladder", "read_ladder_table"), ("scalelaw.families.datastore.data", "read"),
    ("scalelaw.families.hyperparams.sweep", "read_sweep"), ("scalelaw.families.transport.distance", "read_samples"),
)


@dataclass(frozen=True)
class Target:
    strategy: Callable[[], st.SearchStrategy]
    examples: int  #: cases in ``make test``
    run: Callable[[object], list[tuple[str, str]]]  #: a case -> (outcome, what was called) per call
    artifacts: bool = False  #: reads tampered artifacts (kept out of ``make test`` until they are all refused)


def _folder():
    return tempfile.TemporaryDirectory(prefix="scalelaw-fuzz-")


def _written(case: tables.TableFile, folder: str) -> Path:
    path = Path(folder) / case.name
    path.write_bytes(case.data)
    return path


def readers(case: tables.TableFile):
    from scalelaw.io import read_table

    found = []
    with _folder() as folder:
        path = _written(case, folder)
        found.append((outcome(lambda: read_table(path, numeric=tables.COLUMNS))[0], "read_table"))
        for module, name in READERS:
            reader = getattr(importlib.import_module(module), name)
            found.append((outcome(lambda reader=reader: reader(path))[0], f"{module.rsplit('.', 1)[-1]}.{name}"))
    return found


def same_reading(case: tables.TableFile):
    from scalelaw.io import read_table

    with _folder() as folder:
        kind, table = outcome(lambda: read_table(_written(case, folder), numeric=tables.COLUMNS))
    if kind == "ok" and not np.array_equal(table.frame[list(tables.COLUMNS)].to_numpy(float), np.array(tables.CLEAN)):
        kind = "wrong answer: other numbers than the clean file's"
    return [(kind if kind == "ok" else f"wrong answer: {kind}", "read_table")]


@cache
def clean_fit() -> dict:
    """The parameters ``fit loss`` finds on the clean table."""
    return artifacts.valid()["loss-plain"]["params"]


def fit_loss(case: tables.TableFile):
    with _folder() as folder:
        out = Path(folder) / "fit.json"
        kind, run = cli_outcome("fit", "loss", _written(case, folder), "--out", out, outputs=(out,))
        if case.same and kind != "ok":
            kind = f"wrong answer: an equivalent file is {kind}: {getattr(run, 'stderr', '')[:160]}"
        elif case.same and json.loads(out.read_text())["params"] != clean_fit():
            kind = "wrong answer: an equivalent file fits other parameters"
    return [(kind, "fit loss")]


def loaders(kind: str):
    def run(case):
        import scalelaw
        from scalelaw.protocol import SCHEMAS

        data, how = case
        scalelaw.load(artifacts.FOLDER / f"{kind}.json")  # registers the family's result classes
        cls = SCHEMAS[artifacts.valid()[kind]["schema"]]
        with _folder() as folder:
            path = Path(folder) / "fit.json"
            path.write_bytes(data)
            return [(outcome(lambda: scalelaw.load(path))[0], "scalelaw.load"),
                    (outcome(lambda: cls.from_json(path))[0], f"{cls.__name__}.from_json")]
    return run


#: The commands that read an artifact of each kind (ART: its path, OUT: an output path).
CONSUMERS = {
    "loss": (("predict", "ART", "--params", "1e9", "--tokens", "2e10"), ("optimal", "ART", "--flops", "1e22",
                                                                         "--out", "OUT"),
             ("hparams", "recommend", "--law", "ART", "--params", "1e9", "--tokens", "2e10")),
    "sampling": (("sampling", "plan", "ART", "--target", "0.5", "--out", "OUT"),),
    "datastore": (("datastore", "optimal", "ART", "--flops", "1e22", "--out", "OUT"),),
    "hparams": (("hparams", "recommend", "--law", "ART", "--params", "1e9", "--tokens", "2e10"),),
    "error-law": (("downstream", "error-law", "ERRORS", "--loss-fit", "LOSS"),),
}


def consumers(kind: str):
    def run(case):
        data, how = case
        found = []
        with _folder() as folder:
            art, out = Path(folder) / "fit.json", Path(folder) / "answer.json"
            art.write_bytes(data)
            names = {"ART": art, "OUT": out, "ERRORS": artifacts.FOLDER / "errors.csv", "LOSS": art}
            for line in CONSUMERS[kind]:
                found.append((cli_outcome(*(names.get(a, a) for a in line), outputs=(out,))[0], " ".join(line[:2])))
                out.unlink(missing_ok=True)
        return found
    return run


def parse(text: str):
    from scalelaw.expression import parse as parse_formula
    from scalelaw.laws import get_law

    return [(outcome(lambda: parse_formula(text))[0], "expression.parse"),
            (outcome(lambda: get_law(text))[0], "get_law")]


def clean_runs() -> Path:
    """The clean table as a CSV file (written with the valid artifacts)."""
    artifacts.valid()
    return artifacts.FOLDER / "runs.csv"


def fit_formula(text: str):
    with _folder() as folder:
        out = Path(folder) / "fit.json"
        return [(cli_outcome("fit", "loss", clean_runs(), "--law", text, "--max-iter", "20",
                             "--out", out, outputs=(out,))[0], "fit loss --law")]


def fit_options(line: list[str]):
    with _folder() as folder:
        out = Path(folder) / "fit.json"
        return [(cli_outcome("fit", "loss", clean_runs(), *line, "--out", out, outputs=(out,))[0],
                 "fit loss " + line[0])]


def answer_options(line: list[str]):
    names = {"LOSS": artifacts.FOLDER / "loss.json", "SAMPLING": artifacts.FOLDER / "sampling.json",
             "DATASTORE": artifacts.FOLDER / "datastore.json"}
    artifacts.valid()
    with _folder() as folder:
        out = Path(folder) / "answer.json"
        line = [names.get(a, a) for a in line]
        takes_out = line[0] != "predict"
        return [(cli_outcome(*line, *(("--out", out) if takes_out else ()), outputs=(out,))[0],
                 f"{line[0]} {line[1] if isinstance(line[1], str) else ''}".strip())]


def output_paths(places: tuple[str, str | None]):
    """``fit loss`` with ``--out`` and ``--plot`` at the drawn places; the input and a special file (a socket of
    its own, never a device of the machine) must survive."""
    import os
    import socket
    import stat

    with _folder() as folder:
        folder = Path(folder)
        runs = folder / "runs.csv"
        runs.write_bytes(clean_runs().read_bytes())
        (folder / "file").write_text("x")
        (folder / "sub").mkdir()
        node = socket.socket(socket.AF_UNIX)
        node.bind(str(folder / "node"))
        (folder / "link.json").symlink_to(artifacts.FOLDER / "elsewhere.json")
        where = {"input": runs, "folder": folder / "sub", "special": folder / "node", "link": folder / "link.json",
                 "under-file": folder / "file" / "fit.json", "": Path("")}
        out, plot = (None if p is None else where.get(p, folder / p) for p in places)
        line = ["--out", out, *(("--plot", plot) if plot is not None else ())]
        fresh = tuple(p for p in (out, plot) if p is not None and p.parent == folder and not p.exists())
        try:
            kind, run = cli_outcome("fit", "loss", runs, *line, outputs=fresh)
        finally:
            node.close()
        if runs.read_bytes() != (artifacts.FOLDER / "runs.csv").read_bytes():
            kind = "data loss: the input was overwritten"
        elif not stat.S_ISSOCK(os.lstat(folder / "node").st_mode):
            kind = "data loss: a special file was replaced"
        elif (artifacts.FOLDER / "elsewhere.json").exists():
            kind = "data loss: written through a link out of the folder"
        return [(kind, "fit loss --out --plot")]


TARGETS: dict[str, Target] = {
    "table readers": Target(tables.table_files, 300, readers),
    "equivalent tables": Target(tables.same_tables, 200, same_reading),
    "fit loss tables": Target(tables.table_files, 40, fit_loss),
    "formulas": Target(formulas.formulas, 400, parse),
    "fit loss formulas": Target(formulas.formulas, 60, fit_formula),
    "fit loss options": Target(options.fit_loss_options, 50, fit_options),
    "answer options": Target(options.answers, 60, answer_options),
    "output paths": Target(options.output_places, 40, output_paths),
    **{f"{kind} artifact loaders": Target(lambda kind=kind: artifacts.artifact_files(kind), 150, loaders(kind), True)
       for kind in artifacts.KINDS},
    **{f"{kind} artifact commands": Target(lambda kind=kind: artifacts.artifact_files(kind), 40, consumers(kind), True)
       for kind in artifacts.KINDS},
}
