"""Commands of the transport family: ``scalelaw transport ...`` (OT performance projection, projektor)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import SEED, Json, Out, Plot, Quiet, Seed, check_outputs
from scalelaw.errors import InputError

if TYPE_CHECKING:
    import numpy as np

group = typer.Typer(
    help="Optimal-transport performance projection and data-mixture selection (projektor).",
    no_args_is_help=True,
)
app.add_typer(group, name="transport")

LabelColumn = Annotated[
    str | None,
    typer.Option(
        help="Column holding the class label (adds OTDD's "
        "label-to-label term); every other column is a feature."
    ),
]
Method = Annotated[
    str,
    typer.Option(
        help="OT solver: exact (ot.emd), sinkhorn (entropic) or divergence (debiased Sinkhorn divergence)."
    ),
]
Reg = Annotated[
    float,
    typer.Option(
        help="Entropic regularisation as a fraction of the mean ground cost (sinkhorn, divergence)."
    ),
]
LabelWeight = Annotated[float, options.ranged(low=0, help="Weight of the label-to-label term (0 drops it).")]
MaxSamples = Annotated[int | None, options.ranged(low=1, integer=True,
                                                  help="Use at most N samples per set, drawn with --seed.")]
Pilots = Annotated[
    Path,
    typer.Argument(
        help="Pilot runs: 'size' (training samples), one ratio column per "
        "source file, and the metric column.",
        show_default=False,
    ),
]
Sources = Annotated[
    Path,
    typer.Option(
        help="Folder with one CSV of revealed samples per source; the file "
        "name (without .csv) names the source.",
        show_default=False,
    ),
]
Target = Annotated[
    Path, typer.Option(help="CSV of samples representing the target (validation set).", show_default=False)
]
Size = Annotated[
    str, typer.Option(help="Target training-set size in samples, e.g. 10000 or 10k.", show_default=False)
]
Metric = Annotated[str, typer.Option(help="Metric column of the pilot table.")]
Mapping = Annotated[
    str,
    typer.Option(
        help="Stage-2 map used for the decision: auto (power law with 3+ pilot "
        "sizes, else log), log or power. Both are reported."
    ),
]
Goal = Annotated[
    bool | None,
    typer.Option(
        "--maximize/--minimize",
        help="Whether a higher metric is better; "
        "default: minimise a metric named like a loss or error, else maximise.",
        show_default=False,
    ),
]
Transport = options.Group(
    "transport", label_column=(LabelColumn, None), method=(Method, "exact"), reg=(Reg, 0.05),
    label_weight=(LabelWeight, 1.0), max_samples=(MaxSamples, None), seed=(Seed, SEED),
)
Cap = Annotated[
    list[str] | None,
    typer.Option("--cap", help="Upper bound on a source's share, NAME=VALUE (repeatable or comma-separated)."),
]


# --------------------------------------------------------------------------------------- transport
@group.command("distance")
@options.Reading
@Transport
def distance_command(
    a: Annotated[
        Path,
        typer.Argument(help="First sample set (CSV: feature columns, optional label).", show_default=False),
    ],
    b: Annotated[Path, typer.Argument(help="Second sample set, same feature columns.", show_default=False)],
    transport: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """OT distance between two sample sets: squared-Euclidean feature cost plus OTDD's label term.

    Example: scalelaw transport distance sources/noisy.csv target.csv --label-column label --method exact
    --out distance.json
    """
    from scalelaw.families.transport import distance as ot_family

    check_outputs(out=out, plot=plot)
    solver = dict(transport)
    label_column = solver.pop("label_column")
    sa = ot_family.read_samples(a, label_column=label_column)
    sb = ot_family.read_samples(b, label_column=label_column)
    result = ot_family.distance(sa, sb, **solver)
    options.write_result(result, out, plot)
    if json:
        render.emit_json(result.record())
        return
    render.line(
        f"{result.method} OT between {a.name} ({result.n_a} samples) and {b.name} ({result.n_b} samples), "
        f"{result.dim} features{' + labels' if result.labelled else ''}"
    )
    render.line(
        f"cost = {result.cost:.6g} (squared feature units); distance = sqrt(cost) = {result.distance:.6g}"
        + (f"; epsilon = {result.epsilon:.4g}" if result.epsilon else "")
    )


def _ratio(text: str, names) -> np.ndarray:
    """One mixture: shares in name order (0.2,0.3,0.5) or by name (a=0.2,b=0.8); commas separate its shares."""
    from scalelaw.families.transport.selection import check_ratio

    if "=" in text:
        pairs = options.pairs("--ratio", text)
        try:
            ratio = {k: float(v) for k, v in pairs.items()}
        except ValueError as err:
            raise InputError(f"--ratio {text!r}: {err}") from err
        return check_ratio(ratio, names, where=f"--ratio {text}")
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as err:
        raise InputError(f"--ratio {text!r}: give numbers separated by commas, e.g. 0.2,0.3,0.5") from err
    return check_ratio(values, names, where=f"--ratio {text}")


def _stage_summary(stage1, alpha, maximize: bool) -> dict:
    """The stage-1 errors per pilot size, alpha and the goal, as the JSON of project and select."""
    return {
        "stage1": {
            f"{r.size:g}": {"rows": int(r.rows), "mae": float(r.mae), "rmse": float(r.rmse)}
            for r in stage1.itertuples()
        },
        "alpha": alpha,
        "pilot_sizes": [float(s) for s in stage1["size"]],
        "maximize": maximize,
    }


@group.command("project")
@options.Reading
@Transport
def project_command(
    pilots: Pilots,
    sources: Sources,
    target: Target,
    size: Size,
    ratio: Annotated[
        list[str] | None,
        typer.Option(
            help="Mixture to project, as 0.2,0.3,0.5 (source files in "
            "name order) or name=0.2,...; repeatable. Default: every "
            "pilot mixture."
        ),
    ] = None,
    metric: Metric = "accuracy",
    mapping: Mapping = "auto",
    transport: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Project the metric of mixtures to a larger training-set size from pilot runs and OT distances.

    Example: scalelaw transport project pilots.csv --sources sources --target target.csv --size 400
    --label-column label --out projections.json
    """
    import numpy as np

    from scalelaw.families.transport import projection as projection_family

    check_outputs(out=out, plot=plot)
    n = render.quantity("--size", size)
    projector, mixture = projection_family.load_projector(pilots, sources, target, metric=metric, maximize=None,
                                                          **transport)
    names = projector.sources
    mapping = projector.resolve(mapping)
    ratios = [_ratio(r, names).tolist() for r in ratio] if ratio else None
    group = projection_family.project_mixtures(projector, mixture, ratios, size=n, mapping=mapping)
    rows = list(group.values())
    options.write_result(group, out, plot)
    if json:
        info = group.info
        render.emit_json(
            {
                "size": n,
                "metric": metric,
                "mapping": mapping,
                "sources": list(names),
                "projections": [_row(p, names, projector.sizes) for p in rows],
                **_stage_summary(info["stage1"], info["alpha"], info["maximize"]),
                "transport": dict(info["transport"]),
            }
        )
        return
    render.table(
        f"projected {metric} at N = {render.number(n)} (stage 1 at N = "
        f"{', '.join(render.number(s) for s in projector.sizes)})",
        [*names, "OT", "log mapping", "power law"],
        (
            [
                *(f"{v:.3g}" for v in p.ratio),
                f"{p.ot:.4g}",
                f"{p.log_mapping:.4f}",
                "-" if np.isnan(p.power_law) else f"{p.power_law:.4f}",
            ]
            for p in rows
        ),
    )
    _explain(projector, mapping)


def _row(p, names, sizes) -> dict:
    return {
        "ratio": dict(zip(names, p.ratio.tolist(), strict=True)),
        "ot": p.ot,
        "at_sizes": {f"{s:g}": float(v) for s, v in zip(sizes, p.at_sizes, strict=True)},
        "log_mapping": p.log_mapping,
        "power_law": p.power_law,
        "projected": p.projected,
    }


def _explain(projector, mapping: str) -> None:
    fits = ", ".join(f"N={s:g}: MAE {f.metrics['mae']:.3g}" for s, f in projector.stage1.items())
    render.note(f"stage 1 in-sample error: {fits}")
    if projector.alpha is not None:
        render.note(
            f"power law: alpha = {projector.alpha:.3g} (fitted to the mean pilot metric per size); "
            f"decisions use the {mapping} mapping"
        )
    else:
        render.note("power law needs pilots at 3+ sizes; only the log mapping (no saturation) is available")


@group.command("select")
@options.Reading
@Transport
def select_command(
    pilots: Pilots,
    sources: Sources,
    target: Target,
    size: Size,
    caps: Cap = None,
    metric: Metric = "accuracy",
    mapping: Mapping = "auto",
    maximize: Goal = None,
    transport: dict | None = None,
    iterations: Annotated[int, options.ranged(low=1, integer=True, help="Most projected-gradient steps.")] = 100,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Choose the mixing ratio that maximises the projected metric at the target size.

    Example: scalelaw transport select pilots.csv --sources sources --target target.csv --size 400
    --label-column label --cap noisy=0.2 --out selection.json
    """
    import numpy as np

    from scalelaw.families.transport import projection as projection_family
    from scalelaw.families.transport.choice import select

    check_outputs(out=out, plot=plot)
    n = render.quantity("--size", size)
    projector, mixture = projection_family.load_projector(pilots, sources, target, metric=metric,
                                                          maximize=maximize, **transport)
    names = projector.sources
    result = select(projector, mixture, n, caps=options.shares("--cap", caps), mapping=mapping,
                    iterations=iterations)
    options.write_result(result, out, plot)
    path, best, start = result.path, result.best, result.start
    payload = {
        "ratio": result.ratio,
        "projected": best.projected,
        "log_mapping": best.log_mapping,
        "power_law": best.power_law,
        "ot": best.ot,
        "size": n,
        "mapping": result.mapping,
        "metric": metric,
        "maximize": result.maximize,
        "start": _row(start, names, projector.sizes),
        "caps": None if result.caps is None else dict(result.caps),
        "path": [dict(zip(names, r.tolist(), strict=True)) for r in path.ratios],
        "path_values": path.values.tolist(),
        "converged": path.converged,
        "message": path.message,
        **_stage_summary(result.stage1, projector.alpha, projector.maximize),
    }
    if json:
        render.emit_json(payload)
        return
    render.table(
        f"selected mixture for N = {render.number(n)} ({'maximising' if result.maximize else 'minimising'}"
        f" {metric}, {result.mapping} mapping)",
        ["source", "share", "start"],
        (
            (name, f"{v:.4f}", f"{s:.4f}")
            for name, v, s in zip(names, path.ratio, path.ratios[0], strict=True)
        ),
    )
    render.line(
        f"projected {metric}: {best.projected:.4f} (start {start.projected:.4f}); log mapping "
        f"{best.log_mapping:.4f}, power law {'-' if np.isnan(best.power_law) else f'{best.power_law:.4f}'}; "
        f"{len(path.values) - 1} steps, {path.message}"
    )
    _explain(projector, result.mapping)
    for text in result.warnings:
        render.warn(text)


@group.command("demo")
def demo_command(
    csv: Annotated[
        Path | None, typer.Option(help="Write the sources, target and pilot runs as CSV files into this folder.")
    ] = None,
    seed: Seed = SEED,
    size: Annotated[int, options.ranged(low=1, integer=True, help="Target training-set size (images).")] = 400,
    repeats: Annotated[int, options.ranged(low=1, integer=True, help="Pilot runs per (size, mixture).")] = 3,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """End-to-end projektor on scikit-learn's bundled digits: pilots, projection, check, selection.

    Example: scalelaw transport demo --csv digits --out digits.json --plot digits_projection.png
    """
    from scalelaw.families.transport import demo as demo_family

    check_outputs(out=out, plot=plot, folders={"csv": csv})
    with render.progress("training", enabled=not (json or quiet)) as callback:
        result = demo_family.demonstrate(seed=seed, size=size, repeats=repeats, progress=callback)
    tables = demo_family.task_files(result.task, result.pilots, csv) if csv is not None else {}
    options.write_result(result, out, plot, *tables.items(), parents=True)
    summary = result.record()
    if json:
        render.emit_json(summary)
        return
    render.table(
        f"projection to N = {size} images vs actually training there ({len(result.comparison)} mixtures)",
        ["stage-2 map", "MAE", "max |error|", "Spearman"],
        (
            (name, f"{e['mae']:.4f}", f"{e['max_abs_error']:.4f}", f"{e['spearman']:.3f}")
            for name, e in result.errors.items()
        ),
    )
    render.line(
        "selected "
        + ", ".join(f"{k} {v:.3f}" for k, v in summary["selected_ratio"].items())
        + f": projected {summary['selected_projected']:.4f}, actual {summary['selected_actual']:.4f} "
        f"(uniform {summary['uniform_actual']:.4f}, best evaluated {summary['best_evaluated_actual']:.4f})"
    )
