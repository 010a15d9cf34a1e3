"""Figures draw with whatever backend is active, on the axes given or on a new figure."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from scalelaw import FitResult, get_law
from scalelaw.errors import InputError
from scalelaw.families import loss
from scalelaw.families.downstream import error_law
from scalelaw.io import read_table
from scalelaw.plots.common import check_figure_path, figure_bytes
from scalelaw.plots.downstream import error_law_figure
from scalelaw.plots.loss import loss_vs_compute
from scalelaw.plots.transport import mixing_predictions

from support import DATA, ROOT

FIGURES = {
    "datastore": ["datastore_scaling", "joint_curves", "optimum_figure", "pareto_frontier", "reader_curves"],
    "downstream": ["chain_figure", "error_law_figure", "ladder_figure", "ladder_tasks_figure", "observational_figure"],
    "hparams": ["evaluation_gaps", "recommendation_panel", "sweep_heatmaps"],
    "law": ["group_panels", "law_curves"],
    "loss": ["allocation_curves", "isoflop_curves", "loss_vs_compute", "validation_errors"],
    "sampling": ["coverage_curves", "plan_bars", "utility_curves"],
    "transport": ["mixing_predictions", "potentials", "projection_curve", "projection_simplex", "selection_path"],
}


def _run(code: str, *args: str) -> list[str]:
    env = {**os.environ, "MPLBACKEND": "svg"}  # a backend nobody would pick: any switch shows
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_library_chooses_no_backend_and_no_pyplot():
    code = ("import importlib, pkgutil, sys, matplotlib, scalelaw\n"
            "for m in pkgutil.walk_packages(scalelaw.__path__, 'scalelaw.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    assert _run(code) == ["svg", "False"]


def test_only_the_cli_names_a_backend():
    calls = [str(p.relative_to(ROOT)) for p in (ROOT / "scalelaw").rglob("*.py")
             if "matplotlib.use(" in p.read_text() and "cli" not in p.relative_to(ROOT / "scalelaw").parts]
    assert calls == []


def test_the_cli_draws_off_screen_once_it_has_a_figure_to_write():
    code = ("import sys, matplotlib\nfrom pathlib import Path\nfrom scalelaw.cli.options import check_outputs\n"
            "check_outputs(Path(sys.argv[1]))\nbefore = matplotlib.get_backend()\n"
            "check_outputs(plot=Path(sys.argv[1]))\nprint(before, matplotlib.get_backend().lower())")
    assert _run(code, "fit.png") == ["svg", "agg"]


@pytest.mark.parametrize("family", sorted(FIGURES))
def test_every_figure_function_takes_ax_and_returns_a_figure(family):
    module = importlib.import_module(f"scalelaw.plots.{family}")
    public = sorted(name for name, f in inspect.getmembers(module, inspect.isfunction)
                    if f.__module__ == module.__name__ and not name.startswith("_"))
    assert public == FIGURES[family]
    for name in public:
        signature = inspect.signature(getattr(module, name))
        ax = signature.parameters["ax"]
        assert (ax.kind, ax.default, signature.return_annotation) == (ax.KEYWORD_ONLY, None, "Figure"), name


# ------------------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def error_points():
    losses = np.linspace(2.0, 4.0, 9)
    return pd.DataFrame({"loss": losses, "error": 0.8 - 10.0 * np.exp(-1.5 * losses)})


@pytest.fixture(scope="module")
def error_fit(error_points):
    return error_law.fit_error_law(error_points)


@pytest.fixture
def evaluations():
    actual = np.array([3.1, 3.0, 2.9, 2.8])
    return {"1M": {"predicted": actual + 0.01, "actual": actual, "spearman": 1.0},
            "60M": {"predicted": actual[::-1] - 0.3, "actual": actual - 0.3, "spearman": -1.0}}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------------------- axes
def test_without_axes_a_new_pyplot_figure_is_made_and_closed_once_rendered(evaluations):
    fig = mixing_predictions(evaluations)
    assert isinstance(fig, Figure) and plt.fignum_exists(fig.number)
    assert [ax.get_title() for ax in fig.axes] == ["1M", "60M"]
    assert figure_bytes(fig, "mix.png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)


def test_one_panel_is_drawn_on_the_axes_given(error_fit, error_points):
    fig = Figure()
    other, ax = fig.subplots(1, 2)
    assert error_law_figure(error_fit, error_points, ax=ax) is fig
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), error_points[["loss", "error"]].to_numpy())
    assert ax.get_xlabel() == "loss L" and not other.has_data()
    assert plt.get_fignums() == []  # pyplot made no figure of its own


def test_the_loss_figure_draws_on_the_axes_given():
    table = read_table(DATA / "loss" / "epoch_chinchilla_svg_extracted.csv", numeric=["params", "flops", "loss"])
    runs, _ = loss.prepare(table, exclude_highest=5)
    fit = FitResult(law=get_law("chinchilla"),
                    params={"E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083})
    fig = Figure()
    ax = fig.add_subplot()
    assert loss_vs_compute(fit, runs, ax=ax) is fig
    assert len(ax.collections[0].get_offsets()) == len(runs) == 240
    assert ax.get_legend_handles_labels()[1] == ["compute-optimal frontier"]


def test_one_axes_is_split_among_the_panels(evaluations):
    fig = Figure()
    left, right = fig.subplots(1, 2)
    box = right.get_position()
    assert mixing_predictions(evaluations, ax=right) is fig
    new = [ax for ax in fig.axes if ax is not left]
    assert right not in fig.axes and [ax.get_title() for ax in new] == ["1M", "60M"]
    for ax in new:
        inside = ax.get_position()
        assert box.x0 - 1e-9 <= inside.x0 < inside.x1 <= box.x1 + 1e-9
    assert not left.has_data()


def test_a_sequence_of_axes_is_drawn_on_in_order(evaluations):
    fig = Figure()
    axes = fig.subplots(2, 1)
    assert mixing_predictions(evaluations, ax=axes) is fig
    assert [ax.get_title() for ax in axes] == ["1M", "60M"] and len(fig.axes) == 2


def test_axes_that_do_not_fit_are_refused(evaluations):
    fig = Figure()
    with pytest.raises(InputError, match="this figure has 2 panels; give one Axes, 2 Axes or None"):
        mixing_predictions(evaluations, ax=fig.subplots(1, 3))
    with pytest.raises(InputError, match="different figures"):
        mixing_predictions(evaluations, ax=[Figure().add_subplot(), Figure().add_subplot()])
    with pytest.raises(InputError, match="give 2 Axes or one made by subplots"):
        mixing_predictions(evaluations, ax=fig.add_axes((0.1, 0.1, 0.8, 0.8)))


# ---------------------------------------------------------------------------------------- files
@pytest.mark.parametrize("name", ["fit.png", "fit.PDF", "fit.svg", "fit"])
def test_figure_paths_matplotlib_writes_are_accepted(name):
    check_figure_path(name)
    assert plt.get_fignums() == []


def test_a_figure_path_matplotlib_cannot_write_is_refused_by_name():
    with pytest.raises(InputError, match=r"out/fit\.xyz: cannot write \.xyz figures"):
        check_figure_path("out/fit.xyz")


@pytest.mark.parametrize(("suffix", "magic"), [("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_figure_bytes_follow_the_suffix(error_fit, error_points, suffix, magic):
    assert figure_bytes(error_law_figure(error_fit, error_points), f"e.{suffix}").startswith(magic)
