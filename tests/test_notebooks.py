"""Every notebook in notebooks/ runs top to bottom without error and shows each figure once.

A notebook that reads ../shared/data lists the files in its metadata,
``{"scalelaw": {"requires_shared": ["hparams/dense_lr_bs_loss.csv"]}}``, and is skipped, with the
reason, where they are absent; they find it through ``$SCALELAW_SHARED_DATA`` (which support sets)
and the shipped data through ``scalelaw.data.path``.  The notebooks are stored executed
(``make notebooks``), so a reader sees their tables and figures without running them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import nbformat
import pytest
from nbclient import NotebookClient

import scalelaw.plots

from support import ROOT, shared_path

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _plot_functions() -> set[str]:
    """Names of the public figure functions of scalelaw.plots (each draws one figure), and plot."""
    names = {"plot"}  # a result's own figure
    for info in pkgutil.iter_modules(scalelaw.plots.__path__):
        module = importlib.import_module(f"scalelaw.plots.{info.name}")
        if info.name != "common":
            names |= {name for name, f in inspect.getmembers(module, inspect.isfunction)
                      if f.__module__ == module.__name__ and not name.startswith("_")}
    return names


CALL = re.compile(r"\b(" + "|".join(sorted(_plot_functions())) + r")\(")


def _check_figures(notebook) -> int:
    """Assert that each code cell shows one PNG per figure it draws; the number of figures drawn."""
    drawn = 0
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        calls = len(CALL.findall(cell.source))
        images = sum("image/png" in output.get("data", {}) for output in cell.outputs)
        assert images == calls, f"cell {number} draws {calls} figure(s) but shows {images} PNG(s):\n{cell.source}"
        drawn += calls
    return drawn


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_each_figure_once(path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    for relative in notebook.metadata.get("scalelaw", {}).get("requires_shared", []):
        shared_path(relative)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own default: the inline backend
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    assert _check_figures(notebook) > 0, "no figure drawn"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_notebook_is_executed_with_its_figures(path):
    notebook = nbformat.read(path, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "not stored executed top to bottom; run make notebooks"
    assert _check_figures(notebook) > 0


def test_a_notebook_runs_from_another_working_directory(tmp_path, monkeypatch):
    path = ROOT / "notebooks" / "03_inference_sampling.ipynb"
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("SCALELAW_DATA", raising=False)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert _check_figures(notebook) > 0
