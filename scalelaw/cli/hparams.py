"""Commands of the hyperparameter family: hparams laws, fit, recommend, evaluate."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import Json, Out, Params, Plot, Quiet, Resampling, Tokens, Where, check_outputs
from scalelaw.errors import InputError

if TYPE_CHECKING:
    from scalelaw.families import hyperparams as family

group = typer.Typer(
    help="Optimal learning rate and batch size: published laws (Step Law, DeepSeek, Porian), "
    "laws fitted to your sweeps, recommendations with intervals and plateaus.",
    no_args_is_help=True,
)
app.add_typer(group, name="hparams")

File = Annotated[
    Path,
    typer.Argument(
        help="Sweep: one row per run with params, tokens, lr, batch_size, loss "
        "(optional smooth_loss, group, seq_len).",
        show_default=False,
    ),
]
Format = Annotated[
    str,
    typer.Option(
        help="auto, generic, or steplaw (Step Law's dense_lr_bs_loss.csv: bs in sequences of 2048)."
    ),
]
SeqLen = Annotated[
    str | None,
    typer.Option(help="Tokens per sequence (default: the file's seq_len column; 2048 for Step Law's files)."),
]
BatchUnit = Annotated[
    str,
    typer.Option(
        help="Unit of the batch column: tokens, sequences, or auto (from its name; sequences when "
        "every value is below 1e4 and the sequence length is known; otherwise below 1e4 is refused)."
    ),
]
TokensUnit = Annotated[
    str,
    typer.Option(
        help="Unit of the tokens column: tokens, billions, or auto (billions when its name says so, "
        "e.g. tokens_b; values all below 1e4 are refused)."
    ),
]
Band = Annotated[
    float | None,
    typer.Option(
        help="Near-optimal band: runs within this fraction of the group "
        "minimum (default 0.0025, i.e. 0.25%).",
        show_default=False,
    ),
]
DivergeRatio = Annotated[
    float | None,
    typer.Option(
        help="A run above this multiple of its group's minimum loss counts as diverged (default 1.5).",
        show_default=False,
    ),
]
MaxLoss = Annotated[float | None, options.ranged(low=0, low_open=True,
                                                 help="Also count runs above this loss as diverged.")]
RawLoss = Annotated[
    bool, typer.Option("--raw-loss", help="Use the raw final loss even when a smoothed loss is present.")
]
ExcludeEdge = Annotated[
    bool, typer.Option("--exclude-edge", help="Drop groups whose best run is on the edge of their grid.")
]
LawOption = Annotated[
    str, typer.Option(help="steplaw, deepseek, porian, or a FIT.json from 'scalelaw hparams fit --out'.")
]
BootstrapFile = Annotated[
    Path | None,
    typer.Option(
        help="Step Law's 1004_fitted_lr_bs_scaling_model_parameters"
        ".csv, e.g. ../shared/data/hparams/1004_fitted_lr_bs_scaling_model_parameters.csv "
        "(default: the file named by $SCALELAW_STEPLAW_BOOTSTRAP; without one, no intervals)."
    ),
]
Heatmaps = Annotated[
    Path | None,
    typer.Option("--plot", help="Write the loss heatmaps with each law's prediction (.png, .pdf or .svg)."),
]


Selection = options.Group(
    "sweep_options", seq_len=(SeqLen, None), batch_unit=(BatchUnit, "auto"),
    tokens_unit=(TokensUnit, "auto"), where=(Where, None), band=(Band, None),
    diverge_ratio=(DivergeRatio, None), max_loss=(MaxLoss, None), raw_loss=(RawLoss, False),
    exclude_edge=(ExcludeEdge, False),
)


def _sweep(file: Path, format: str, sweep_options: dict, like: Mapping | None = None) -> family.Sweep:
    """The sweep in ``file``, read and selected with a command's ``sweep_options`` (``like``: the selection
    of a fitted law, for the options not given)."""
    from scalelaw.families import hyperparams as family

    chosen = dict(sweep_options)
    seq_len = render.quantity("--seq-len", chosen.pop("seq_len"))
    where = chosen.pop("where")
    return family.load_sweep(file, format=format, seq_len=seq_len, where=where, like=like, **chosen)


def _notes(notes, warnings=()) -> None:
    """Remarks on stderr, printed only once everything succeeded (an error stays one line); those in
    ``warnings`` (the sweep's) as ``warning:`` lines."""
    for text in dict.fromkeys(notes):
        (render.warn if text in warnings else render.note)(text)


def _predictions(sweep: family.Sweep, first) -> dict:
    """The given law's and the published laws' predictions per group, for the heatmaps."""
    from scalelaw.families import hyperparams as family

    out = {family.law_name(first): family.evaluate(sweep, first).groups}
    for name in family.NAMES:
        if name not in out:
            out[name] = family.evaluate(sweep, family.published(name, bootstrap_file=False)).groups
    return out


def _pct(value: float, digits: int = 3) -> str:
    return f"{100 * value:.{digits}g}%"


@group.command("laws")
def laws(json: Json = False) -> None:
    """The published laws side by side: formulas, variables, batch unit and the setting measured in.

    Example: scalelaw hparams laws
    """
    from scalelaw.families import hyperparams as family

    rows = []
    for name in family.NAMES:
        law = family.published(name, bootstrap_file=False)
        rows.append(family.about(law).to_dict() | {"formulas": family.formulas(law)})
    if json:
        render.emit_json({"laws": rows})
        return
    render.table(
        "published hyperparameter laws (batch sizes in tokens)",
        ["name", "learning rate", "batch size (tokens)", "measured on"],
        (
            (
                r["name"],
                r["formulas"]["lr"],
                r["formulas"]["batch_size"],
                ", ".join(
                    f"{k} {render.number(lo)}..{render.number(hi)}" for k, (lo, hi) in r["ranges"].items()
                ),
            )
            for r in rows
        ),
    )
    for r in rows:
        render.line(f"[bold]{r['name']}[/bold] ({r['title']}): {r['variables']}. {r['setting']}.")


@group.command("fit")
@options.Reading
@Selection
@Resampling
@options.Grouping
def fit(
    file: File,
    format: Format = "auto",
    sweep_options: dict | None = None,
    lr_form: Annotated[
        str, typer.Option(help="Learning-rate law: 'N,D' (lr = c N^a D^b) or C (C = 6 N D).")
    ] = "N,D",
    batch_form: Annotated[str, typer.Option(help="Batch law (tokens): D, 'N,D' or C.")] = "D",
    loss: Annotated[
        str, typer.Option(help="squared (least squares in log space, as Step Law) or huber.")
    ] = "squared",
    delta: Annotated[float, options.ranged(low=0, low_open=True, help="Huber threshold, log units.")] = 1e-3,
    resampling: dict | None = None,
    plateau_window: Annotated[
        float,
        typer.Option(
            help="Fit each group's loss surface to runs within this fraction of its minimum; 0 for none."
        ),
    ] = 0.03,
    grouping: dict | None = None,
    out: Out = None,
    plot: Heatmaps = None,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit optimal lr and batch-size laws to a sweep (near-optimal runs per (N, D) group; with --by, one
    pair of laws per group of runs).

    Example: scalelaw hparams fit ../shared/data/hparams/dense_lr_bs_loss.csv --format steplaw --out fit.json
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw import artifact
    from scalelaw.families import hyperparams as family
    from scalelaw.plots.common import figure_bytes
    from scalelaw.plots.hparams import sweep_heatmaps

    check_outputs(out=out, plot=plot)
    sweep = _sweep(file, format, sweep_options)
    from scalelaw.cli import grouped

    if grouping["by"] is not None:
        if plot is not None:
            raise InputError("--plot draws the heatmaps of one sweep; fit one group with --where to draw it")
    with render.progress("bootstrap", enabled=bootstrap > 0 and not (json or quiet)) as callback:
        law = family.fit_sweep(
            sweep,
            lr_form=lr_form,
            batch_form=batch_form,
            loss=loss,
            delta=delta,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            plateau_window=plateau_window,
            progress=callback,
            by=grouping["by"],
            strict=grouping["strict"],
            **grouped.parallelism(grouping),
        )
    if grouping["by"] is not None:
        grouped.show(law, out=out, plot=None, json=json)
        return
    payload = law.to_dict()
    figure = figure_bytes(sweep_heatmaps(sweep, _predictions(sweep, law)), plot) if plot else None
    options.write_outputs((out, artifact.dumps(payload) if out else None), (plot, figure), note=False)
    if json:
        render.emit_json(payload)
        return
    _notes(law.warnings, sweep.warnings)
    selection = law.info["selection"]
    render.table(
        f"{len(sweep.groups)} groups of {Path(file).name} ({selection['objective']}; near-optimal: "
        f"within {_pct(selection['band'])} of the minimum)",
        ["group (N/D)", "runs", "diverged", "near-opt", "best lr", "best batch", "best loss", "edge"],
        (
            (
                g.group,
                g.runs,
                g.diverged,
                g.near_optimal,
                render.number(g.lr_best),
                render.number(g.batch_best),
                f"{g.loss_best:.4f}",
                "yes" if g.on_edge else "",
            )
            for g in sweep.groups.itertuples()
        ),
    )
    level_text = f"{100 * family.level(law):g}%"
    coef = family.coefficients(law)
    render.table(
        f"laws fitted to {law.info['rows']} near-optimal runs ({level_text} bootstrap intervals of "
        f"the exponents, {law.settings['bootstrap']} replicates)",
        ["form", "law", "exponents"],
        (
            (
                form + (" (used)" if form in family.used(law) else ""),
                family.formula_text(fit_),
                ", ".join(
                    f"{r.coefficient[6:]}: {render.interval(r.lower, r.upper)}"
                    for r in coef[(coef["form"] == form) & (coef["coefficient"] != "c")].itertuples()
                ),
            )
            for form, fit_ in law.fits.items()
        ),
    )
    if law.info["plateau"] is not None:
        s = law.info["plateau"].surfaces
        slopes = -s["H_uv"] / s["H_uu"]
        render.line(
            f"plateau: loss surfaces for {len(s)} of {len(sweep.groups)} groups; the lr optimum moves as "
            f"B^{slopes.min():.2f} to B^{slopes.max():.2f} at fixed (N, D)"
        )
    render.wrote(out, plot)


@group.command("recommend")
def recommend(
    params: Params = None,
    tokens: Tokens = None,
    seq_len: Annotated[
        str | None,
        typer.Option(help="Tokens per sequence (default 2048).", show_default=False),
    ] = None,
    law: LawOption = "steplaw",
    batch_size: Annotated[
        str | None, typer.Option(help="A batch size (tokens) you must use: also give the lr for it, e.g. 2M.")
    ] = None,
    layers: Annotated[
        str | None, typer.Option(help="Number of layers (DeepSeek's FLOPs count attention).")
    ] = None,
    d_model: Annotated[str | None, typer.Option(help="Model width d_model (DeepSeek's FLOPs).")] = None,
    moe: Annotated[bool, typer.Option("--moe", help="The model is a mixture of experts.")] = False,
    plateau: Annotated[
        Path | None,
        typer.Option(help="A FIT.json whose loss surfaces give the plateau when --law is a published law."),
    ] = None,
    bootstrap_file: BootstrapFile = None,
    group: options.GroupName = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
    strict: options.StrictArtifact = False,
) -> None:
    """Recommend a peak learning rate and a batch size (tokens and sequences) for N and D (for laws fitted
    with --by: those of --group, or of every group).

    Example: scalelaw hparams recommend --params 7B --tokens 1.4T --seq-len 2048 --out rec.json --plot rec.png
    """
    from scalelaw import artifact, protocol
    from scalelaw.answers import hparams as answers
    from scalelaw.families import hyperparams as family

    check_outputs(out=out, plot=plot)
    given = {"params": params, "tokens": tokens, "seq_len": seq_len, "batch_size": batch_size, "layers": layers,
             "d_model": d_model, "moe": moe}
    with artifact.strict_if(strict):  # the law, the plateau: refused when edited by hand
        chosen = _grouped_law(law, group) if group is not None or Path(law).is_file() else None
        if chosen is not None and not family.is_law(chosen):
            if out is not None or plot is not None or plateau is not None:
                raise InputError("--out, --plot and --plateau take one law; give --group NAME")
            _recommend_each(chosen, given, json)
            return
        chosen = family.resolve(law if chosen is None else chosen, bootstrap_file=bootstrap_file)
        surfaces = None
        if plateau is not None:
            surfaces = family.check_law(protocol.load(plateau), source=str(plateau))
            if surfaces.info["plateau"] is None:
                raise InputError(f"--plateau {plateau}: the fit has no loss surfaces; refit with "
                                 "--plateau-window > 0")
    answer = answers.recommend(chosen, plateau=surfaces, **given)
    r = answer.result
    options.write_result(r, out, plot)
    if json:
        render.emit_json(answer.payload)
        return
    render.line(f"[bold]{r.law}[/bold]: {r.formulas['lr']}, {r.formulas['batch_size']} (tokens)")
    render.line(
        f"N = {render.number(r.params)}, D = {render.number(r.tokens)} (D/N = {r.tokens / r.params:.3g}), "
        f"sequence length {r.seq_len:g}"
    )
    iv = r.intervals
    head = (
        f"bootstrap median [{50 * (1 - iv['level']):g}%, {50 * (1 + iv['level']):g}%]" if iv else "interval"
    )

    def shown(key: str, value: float) -> tuple[str, str]:
        if not iv:
            return render.number(value), "-"
        q = iv[key]
        return render.number(value), f"{render.number(q['median'])} {render.interval(q['lower'], q['upper'])}"

    render.table(
        "recommendation",
        ["quantity", "value", head],
        [
            ("peak learning rate", *shown("lr", r.lr)),
            ("batch size (tokens)", *shown("batch_size", r.batch_size)),
            (
                f"batch size (sequences of {r.seq_len:g})",
                *shown("batch_size_sequences", r.batch_size_sequences),
            ),
        ],
    )
    if iv:
        render.note(f"intervals from {iv['source']}")
    else:
        render.note(
            "no bootstrap for this law: no interval"
            + (" (give --bootstrap-file with Step Law's released rows)" if r.law == "steplaw" else "")
        )
    if r.plateau:
        render.table(
            "plateau (from the fitted loss surfaces)",
            ["loss within", "lr (this batch)", "batch, tokens (this lr)", "box: lr", "box: batch"],
            (
                (
                    _pct(p["tolerance"], 2),
                    render.interval(*p["lr"]),
                    render.interval(*p["batch_size"]),
                    render.interval(*p["box"]["lr"]),
                    render.interval(*p["box"]["batch_size"]),
                )
                for p in r.plateau
            ),
        )
        render.note("the first two ranges move one setting at a time; inside the box both can move at once")
        render.line(f"moving the batch size B, move the lr as B^{r.ridge_slope:.3f}")
    if r.at_batch_size:
        a = r.at_batch_size
        cost = (
            "" if a["excess_loss"] is None else f", about {_pct(a['excess_loss'], 2)} above the optimum loss"
        )
        render.line(
            f"at batch {render.number(a['batch_size'])} tokens ({a['batch_size_sequences']:.0f} sequences): "
            f"lr = {render.number(a['lr'])} ({a['rule']}{cost})"
        )
    for text in r.warnings:
        render.warn(text)
    if out is not None:
        render.note(f"wrote {out}")


def _grouped_law(law: str, group: str | None):
    """The laws of a fit made with --by (its member ``group`` when given), or None for one law."""
    from scalelaw import protocol
    from scalelaw.answers import is_groups

    stored = protocol.load(Path(law)) if Path(law).is_file() else None
    if stored is None or not is_groups(stored):
        if group is not None:
            raise InputError(f"--group {group}: --law {law} is not laws fitted per group (hparams fit --by)")
        return None
    return stored if group is None else stored[group]


def _recommend_each(laws, given: dict, json: bool) -> None:
    """The recommendation of every group's law: one JSON object keyed by group, or one line per group."""
    from scalelaw import answers

    answer = answers.answered("recommend", laws, **given)
    if json:
        render.emit_json(answer.payload)
        return
    for name, one in answer.result.items():
        r = one.result
        render.line(f"{laws.key} {name}: lr {render.number(r.lr)}, batch {render.number(r.batch_size)} tokens "
                    f"({r.batch_size_sequences:.0f} sequences of {r.seq_len:g})")


@group.command("evaluate")
@options.Reading
@Selection
def evaluate(
    file: File,
    format: Format = "auto",
    law: LawOption = "steplaw",
    cross_validate: Annotated[
        bool,
        typer.Option(
            "--cross-validate", help="Refit a FIT.json's recipe leaving one (N, D) group out at a time."
        ),
    ] = False,
    sweep_options: dict | None = None,
    out: Out = None,
    plot: Heatmaps = None,
    json: Json = False,
) -> None:
    """How much loss a law leaves on a sweep: the run nearest its prediction vs each group's best.

    --out writes the evaluation (with --cross-validate: both evaluations as one group).

    Example: scalelaw hparams evaluate ../shared/data/hparams/dense_lr_bs_loss.csv --law deepseek
    """
    from scalelaw.families import hyperparams as family
    from scalelaw.plots.common import figure_bytes
    from scalelaw.plots.hparams import sweep_heatmaps

    check_outputs(out=out, plot=plot)
    chosen = family.resolve(law, bootstrap_file=False)
    fitted = family.law_name(chosen) not in family.NAMES
    if cross_validate and not fitted:
        raise InputError(
            f"--cross-validate refits a law from a sweep; give --law FIT.json (from 'scalelaw "
            f"hparams fit --out'), not the published {family.law_name(chosen)!r}"
        )
    sweep = _sweep(file, format, sweep_options, like=chosen.info.get("selection") if fitted else None)
    result = family.evaluate(sweep, chosen)
    held_out = family.cross_validate(sweep, chosen) if cross_validate else None
    figure = figure_bytes(sweep_heatmaps(sweep, _predictions(sweep, chosen)), plot) if plot else None
    evaluated = (result if held_out is None else family.evaluations(result, held_out)).to_json() if out else None
    options.write_outputs((out, evaluated), (plot, figure), note=False)
    if json:
        payload = result.to_dict()
        if held_out is not None:
            payload["cross_validation"] = held_out.to_dict()
        render.emit_json(payload)
        return
    _notes([*sweep.notes, *result.warnings], (*sweep.warnings, *result.warnings))
    cv = None if held_out is None else held_out.groups.set_index("group")
    columns = ["group (N/D)", "law lr", "law batch", "nearest lr", "nearest batch", "gap"]
    if cv is not None:
        columns.append("gap, group left out")
    rows = []
    for g in result.groups.itertuples():
        row = [
            g.group,
            render.number(g.lr),
            render.number(g.batch_size),
            render.number(g.lr_run),
            render.number(g.batch_run),
            _pct(g.gap) + (" (off grid)" if g.off_grid else ""),
        ]
        if cv is not None:
            row.append(_pct(cv.loc[g.group, "gap"]))
        rows.append(row)
    render.table(
        f"{result.law} on {Path(file).name}: relative excess of the run nearest the law's (lr, batch) "
        "over the group's best",
        columns,
        rows,
    )
    for label, e in (("in-sample", result), ("leave-one-group-out", held_out)):
        if e is not None:
            render.line(
                f"{label}: mean gap {_pct(e.mean_gap)}, median {_pct(e.median_gap)}, "
                f"max {_pct(e.max_gap)} over {len(e.groups)} groups"
            )
    render.wrote(out, plot)
