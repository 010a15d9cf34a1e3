"""End-to-end demonstration on scikit-learn's bundled digits (no download).

The 1,797 8x8 digit images (features: the 64 pixel intensities scaled to [0, 1]) are split into a
class-balanced target set and three sources that differ the way bought data differs:

* ``low_digits``: 60% of the images of digits 0-4 and 7% of those of 5-9 (class imbalance);
* ``high_digits``: the mirror image (mostly 5-9);
* ``noisy``: the remaining third of every class, with Gaussian pixel noise and a share of labels
  replaced by random classes.

Each source reveals a few samples (``revealed`` per source) for the OT distance.  The learner is a
fixed ``LogisticRegression``; a run draws round(p_i N) images from each source's pool without
replacement, trains, and reports accuracy on the target set.  :func:`demonstrate` runs pilots on a
grid of mixtures at small sizes, fits the projector, projects to a larger size, checks the
projection against actually training there, and selects a mixture.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from scalelaw import outputs, protocol
from scalelaw.errors import InputError
from scalelaw.families.transport.distance import MixtureTransport, Samples
from scalelaw.families.transport.projection import Projector, fit_projector, prepare_pilots, project
from scalelaw.families.transport.selection import Path as SelectionPath
from scalelaw.families.transport.selection import caps_setting, check_caps
from scalelaw.result import error_metrics

SOURCES = ("low_digits", "high_digits", "noisy")


@dataclass(frozen=True)
class DigitsTask:
    """Source pools (what can be bought), revealed samples (what each source shows) and the target."""

    pools: tuple[Samples, ...]
    revealed: tuple[Samples, ...]
    target: Samples
    settings: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.pools)


def digits_task(
    *,
    seed: int = 0,
    target_size: int = 450,
    revealed: int = 100,
    noise: float = 0.5,
    label_noise: float = 0.3,
) -> DigitsTask:
    """Split the bundled digits into a balanced target and three differing sources.

    Parameters
    ----------
    seed
        Seed of every random choice (split, noise, revealed samples).
    target_size
        Images in the target set (stratified by class).
    revealed
        Samples each source reveals for the OT distance.
    noise
        Standard deviation of the Gaussian pixel noise of the ``noisy`` source (pixels in [0, 1]).
    label_noise
        Share of the ``noisy`` source's labels replaced by a random class.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.default_rng(seed)
    target_idx = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[: target_size // 10] for c in range(10)]
    )
    rest = np.setdiff1d(np.arange(y.size), target_idx)
    low = y[rest] < 5
    draw = rng.random(rest.size)
    owner = np.where(draw < 0.6, np.where(low, 0, 1), np.where(draw < 0.67, np.where(low, 1, 0), 2))
    pools, shown = [], []
    for i, name in enumerate(SOURCES):
        idx = rest[owner == i]
        xs, ys = X[idx].copy(), y[idx].copy()
        if name == "noisy":
            xs = xs + rng.normal(scale=noise, size=xs.shape)
            flip = rng.random(ys.size) < label_noise
            ys[flip] = rng.integers(0, 10, flip.sum())
        pool = Samples(xs, ys, name)
        pools.append(pool)
        keep = np.sort(rng.choice(pool.n, size=min(revealed, pool.n), replace=False))
        shown.append(Samples(xs[keep], ys[keep], name))
    target = Samples(X[target_idx], y[target_idx], "target")
    settings = {
        "seed": seed,
        "target_size": target_size,
        "revealed": revealed,
        "noise": noise,
        "label_noise": label_noise,
        "pool_sizes": {p.name: p.n for p in pools},
    }
    return DigitsTask(tuple(pools), tuple(shown), target, settings)


def counts(ratio: np.ndarray, size: int) -> np.ndarray:
    """Samples per source for a training set of ``size``: round(p_i N), largest remainders first."""
    raw = np.asarray(ratio, dtype=float) * size
    out = np.floor(raw).astype(int)
    short = int(size - out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


def train_accuracy(task: DigitsTask, ratio, size: int, rng: np.random.Generator) -> float:
    """Accuracy on the target of a LogisticRegression trained on ``size`` images mixed at ``ratio``."""
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for pool, k in zip(task.pools, counts(ratio, size), strict=True):
        if k > pool.n:
            raise InputError(
                f"a training set of {size} at this ratio needs {k} images of {pool.name}, which has {pool.n}"
            )
        pick = rng.choice(pool.n, size=k, replace=False)
        xs.append(pool.features[pick])
        ys.append(pool.labels[pick])
    X, y = np.vstack(xs), np.concatenate(ys)
    if np.unique(y).size < 2:
        return float(np.mean(task.target.labels == y[0]))
    with threadpool_limits(limits=1):  # tiny problems: threads only contend
        model = LogisticRegression(max_iter=2000).fit(X, y)
    return float(model.score(task.target.features, task.target.labels))


def simplex_grid(m: int, step: float) -> np.ndarray:
    """Every ratio on the simplex whose entries are multiples of ``step`` (66 for m = 3, step 0.1)."""
    k = round(1.0 / step)
    rows = [c for c in itertools.product(range(k + 1), repeat=m - 1) if sum(c) <= k]
    return np.array([[*c, k - sum(c)] for c in rows], dtype=float) / k


def runs(
    task: DigitsTask, ratios: np.ndarray, sizes: Sequence[int], *, repeats: int = 1, seed: int = 0,
    progress=None,
) -> pd.DataFrame:
    """Train at every (size, ratio, repeat): one row each with the target accuracy.

    ``progress`` is called with no argument after each training run.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        for ratio in ratios:
            for rep in range(repeats):
                rows.append(
                    {
                        "size": int(size),
                        **dict(zip(task.names, ratio, strict=True)),
                        "repeat": rep,
                        "accuracy": train_accuracy(task, ratio, int(size), rng),
                    }
                )
                if progress is not None:
                    progress()
    return pd.DataFrame(rows)


def _counter(progress, total: int):
    """A ``step()`` that calls ``progress(done, total)``, or None without ``progress``."""
    if progress is None:
        return None
    done = [0]

    def step() -> None:
        done[0] += 1
        progress(done[0], total)

    return step


@dataclass(frozen=True)
class Demonstration(protocol.Result):
    """What :func:`demonstrate` found.

    ``comparison`` has one row per evaluation mixture: the ratio, the accuracy actually reached
    at ``size`` (median over repeats), and the projections by each stage-2 map.  ``errors`` holds
    the error metrics of each map against the actual accuracies; ``selection`` the path of
    projected gradient ascent; ``selected_actual``, ``uniform_actual`` and ``best_actual`` the
    accuracy actually reached by the selected mixture, the uniform one and the best evaluated one.
    ``settings`` are the arguments of :func:`demonstrate`; ``info`` the task's split and the learner.

    A fresh run also carries its ``task``, ``projector`` and ``transport`` (the data and the fitted
    projector, to project or select again); they are not part of the artifact, so a loaded
    demonstration has None there.
    """

    FAMILY = "transport"
    KIND = "demonstration"
    TITLE = "projektor on the bundled digits: projection vs actual training, and selection"

    names: tuple[str, ...]
    size: int
    pilot_sizes: tuple[float, ...]
    alpha: float | None
    pilots: pd.DataFrame
    comparison: pd.DataFrame
    errors: Mapping[str, Mapping[str, float]]
    selection: SelectionPath
    selected_actual: float
    uniform_actual: float
    best_actual: float
    settings: Mapping[str, object] = field(default_factory=dict)
    info: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    task: DigitsTask | None = field(default=None, init=False, repr=False, compare=False)
    projector: Projector | None = field(default=None, init=False, repr=False, compare=False)
    transport: MixtureTransport | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "pilot_sizes", tuple(self.pilot_sizes))
        for name in ("errors", "settings", "info"):
            object.__setattr__(self, name, protocol.frozen(getattr(self, name)))

    def record(self) -> dict:
        """The numbers of the demonstration as plain values (for JSON and docs)."""
        best = self.comparison.loc[self.comparison["actual"].idxmax()]
        return {
            "size": self.size,
            "pilot_sizes": list(self.pilot_sizes),
            "alpha": self.alpha,
            "errors": {k: dict(v) for k, v in self.errors.items()},
            "selected_ratio": dict(zip(self.names, self.selection.ratio.tolist(), strict=True)),
            "selected_projected": self.selection.value,
            "selected_actual": self.selected_actual,
            "uniform_actual": self.uniform_actual,
            "best_evaluated_actual": self.best_actual,
            "best_evaluated_ratio": {n: float(best[n]) for n in self.names},
            "settings": {**self.settings, **self.info},
        }

    def summary(self) -> pd.DataFrame:
        """One row per stage-2 map: its errors against the accuracies actually reached at ``size``."""
        return pd.DataFrame({k: dict(v) for k, v in self.errors.items()}).T.rename_axis("mapping")

    def report(self) -> str:
        r = self.record()
        chosen = ", ".join(f"{k} {v:.3f}" for k, v in r["selected_ratio"].items())
        lines = super().report().split("\n")
        return "\n".join([*lines[:1], f"projection to N = {self.size} images, {len(self.comparison)} mixtures "
                           "trained there", *lines[1:],
                           f"selected {chosen}: projected {r['selected_projected']:.4f}, actual "
                           f"{self.selected_actual:.4f} (uniform {self.uniform_actual:.4f}, best evaluated "
                           f"{self.best_actual:.4f})"])

    def plot(self, ax=None):
        """Actual and projected accuracy over the simplex, and projected against actual."""
        from scalelaw.plots.transport import projection_simplex

        return projection_simplex(self.comparison, self.names, self.size, ax=ax)


def demonstrate(
    *,
    seed: int = 0,
    pilot_sizes: Sequence[int] = (40, 80, 160),
    size: int = 400,
    step: float = 0.1,
    repeats: int = 3,
    eval_step: float = 0.25,
    eval_repeats: int = 3,
    method: str = "exact",
    caps=None,
    iterations: int = 100,
    progress=None,
) -> Demonstration:
    """Pilots -> projector -> projection at ``size`` vs actual training -> selection.

    Parameters
    ----------
    pilot_sizes
        Training-set sizes (images) of the pilot runs.
    size
        The target training-set size (images).
    step
        Grid step of the pilot mixtures (0.1: 66 mixtures of three sources).
    repeats
        Pilot runs per (size, mixture); the median is fitted.
    eval_step, eval_repeats
        Grid of the mixtures actually trained at ``size`` to measure the projection error.
    method
        OT solver (see :mod:`scalelaw.families.transport.distance`).
    caps
        Optional per-source caps for the selection.
    iterations
        Most steps of the selection's projected gradient ascent.
    progress
        Called as ``progress(done, total)`` after each training run (pilots, evaluation, selection).
    """
    from scalelaw.families.transport.selection import ascend

    task = digits_task(seed=seed)
    transport = MixtureTransport(task.revealed, task.target, method=method, seed=seed)
    grid, evaluation = simplex_grid(3, step), simplex_grid(3, eval_step)
    total = len(grid) * len(pilot_sizes) * repeats + (len(evaluation) + 2) * eval_repeats
    step_done = _counter(progress, total)
    pilots = runs(task, grid, pilot_sizes, repeats=repeats, seed=seed + 1, progress=step_done)
    projector = fit_projector(
        prepare_pilots(pilots, task.names, metric="accuracy"), transport, metric="accuracy"
    )
    actual = runs(task, evaluation, [size], repeats=eval_repeats, seed=seed + 2, progress=step_done)
    medians = actual.groupby(list(task.names), sort=False)["accuracy"].median()
    rows = []
    for ratio in evaluation:
        pr = project(projector, transport, ratio, size)
        rows.append(
            {
                **dict(zip(task.names, ratio, strict=True)),
                "actual": float(medians.loc[tuple(ratio)]),
                "ot": pr.ot,
                "log_mapping": pr.log_mapping,
                "power_law": pr.power_law,
            }
        )
    comparison = pd.DataFrame(rows)
    errors = {
        name: error_metrics(comparison["actual"], comparison[name])
        for name in ("log_mapping", "power_law")
        if comparison[name].notna().all()
    }
    for name in errors:
        errors[name]["spearman"] = float(comparison[["actual", name]].corr(method="spearman").iloc[0, 1])
    cap_values = check_caps(caps, task.names)

    def objective(p):
        pr = project(projector, transport, p, size)
        return pr.projected, pr.gradient

    path = ascend(objective, np.full(3, 1.0 / 3), caps=cap_values, maximize=True, iterations=iterations)
    rng = np.random.default_rng(seed + 3)
    def trained(ratio) -> float:
        accuracy = train_accuracy(task, ratio, size, rng)
        if step_done is not None:
            step_done()
        return accuracy

    selected = float(np.median([trained(path.ratio) for _ in range(eval_repeats)]))
    uniform = float(np.median([trained(np.full(3, 1 / 3)) for _ in range(eval_repeats)]))
    settings = {
        "seed": seed,
        "pilot_sizes": list(pilot_sizes),
        "size": size,
        "step": step,
        "repeats": repeats,
        "eval_step": eval_step,
        "eval_repeats": eval_repeats,
        "method": method,
        "caps": caps_setting(caps),
        "iterations": iterations,
    }
    info = {"task": task.settings, "learner": "sklearn LogisticRegression(max_iter=2000)"}
    warned = [] if path.converged else [f"the selection stopped: {path.message}"]
    result = Demonstration(
        task.names,
        size,
        projector.sizes,
        projector.alpha,
        pilots,
        comparison,
        errors,
        path,
        selected,
        uniform,
        float(comparison["actual"].max()),
        settings,
        info,
        tuple(warned),
    )
    for name, value in (("task", task), ("projector", projector), ("transport", transport)):
        object.__setattr__(result, name, value)
    return result


def write_task(task: DigitsTask, pilots: pd.DataFrame, folder: str | Path) -> dict[str, Path]:
    """Write the revealed sources, the target and the pilot runs as CSV files for the CLI (all or none;
    the layout of :func:`task_files`)."""
    folder = Path(folder)
    outputs.write_all(task_files(task, pilots, folder).items(), parents=True)
    return {"sources": folder / "sources", "target": folder / "target.csv", "pilots": folder / "pilots.csv"}


def task_files(task: DigitsTask, pilots: pd.DataFrame, folder: str | Path) -> dict[Path, str]:
    """The CSV text of the revealed sources, the target and the pilot runs, by path in ``folder``.

    Layout: ``sources/<name>.csv`` and ``target.csv`` (columns ``px0..px63`` and ``label``) and
    ``pilots.csv`` (``size``, one ratio column per source, ``repeat``, ``accuracy``).
    """
    folder = Path(folder)
    columns = [f"px{j}" for j in range(task.target.dim)]

    def frame(s: Samples) -> str:
        return (
            pd.DataFrame(s.features, columns=columns)
            .assign(label=s.labels)
            .to_csv(index=False, float_format="%.6g")
        )

    files = {folder / "sources" / f"{s.name}.csv": frame(s) for s in task.revealed}
    files[folder / "target.csv"] = frame(task.target)
    files[folder / "pilots.csv"] = pilots.to_csv(index=False, float_format="%.6g")
    return files
