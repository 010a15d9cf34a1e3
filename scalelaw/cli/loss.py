"""Commands of the loss family: fit loss, fit isoflop, validate loss, predict, optimal, laws."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app, fit_app, validate_app
from scalelaw.cli.options import Flops, Json, Out, Params, Plot, Quiet, Resampling, Tokens, Where, check_outputs
from scalelaw.errors import InputError

if TYPE_CHECKING:
    from scalelaw.result import FitResult

File = Annotated[Path, typer.Argument(help="CSV/TSV/JSON(L)/parquet/Excel log: one row per run.",
                                      show_default=False)]
Law = Annotated[str, typer.Option(help="Catalogue name (see 'scalelaw laws') or a formula such as "
                                       "'E + A/N**alpha + B/D**beta' (N = params, D = tokens).")]
AutoLaw = Annotated[str, typer.Option(help="Catalogue name (see 'scalelaw laws'), a formula such as "
                                           "'E + A/N**alpha + B/D**beta' (N = params, D = tokens), or auto: every "
                                           "catalogue loss law with the huber, squared and asymmetric losses, "
                                           "weighted by rolling-origin extrapolation error over FLOPs scales (needs "
                                           "4 scales; --loss is then unused). Example: --law auto.")]
Starts = Annotated[str, typer.Option(help="Start set: default, hoffmann (the 4,500-point grid) or "
                                          "hoffmann-estimate.")]
Loss = Annotated[str, typer.Option(help="huber (summed, on residuals in the law's space), squared, "
                                        "huber-likelihood (free scale, as Besiroglu et al.), or asymmetric (lower "
                                        "envelope: a run below the law costs 10x one above, as the chinchilla "
                                        "package).")]
Delta = Annotated[float, options.ranged(low=0, low_open=True, help="Huber threshold, in residual units (log loss).")]
Exclude = Annotated[int, options.ranged(low=0, integer=True,
                                        help="Drop the K rows with the highest loss (Besiroglu et al. "
                                           "drop 5 of Hoffmann's 245).")]
MaxIter = Annotated[int | None, options.ranged(help="Most optimiser iterations per start (default 1000). A fit "
                                                    "that stops there warns (exit 2 under --strict). Example: "
                                                    "--max-iter 50.", low=1, high=1_000_000, integer=True)]
Profile = Annotated[bool, typer.Option("--profile", help="Also give each parameter's profile-likelihood interval "
                                                         "at --level (natural units; inf: the data do not bound "
                                                         "it). Example: --profile.")]


def _load(path: Path, where: list[str] | None, exclude_highest: int, units: dict | None = None,
          by: str | list[str] | None = None):
    """The prepared table and the notes to show once the command has succeeded; the reading warnings
    are in ``frame.attrs["warnings"]`` (less those about the ``--by`` columns, whose studies are fitted apart)."""
    import warnings

    from scalelaw.families import loss as family
    from scalelaw.io import studies

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame, notes = family.read_runs(path, where=where, exclude_highest=exclude_highest, **(units or {}))
    if by is not None:
        frame.attrs["warnings"] = studies.without(frame.attrs.get("warnings", ()), by)
    return frame, notes


def _warned(frame, payload: dict | None = None, *, show: bool = False) -> dict | None:
    """The reading warnings added to a JSON payload's ``warnings`` and, with ``show``, printed."""
    found = list(frame.attrs.get("warnings", ()))
    if show:
        for text in found:
            render.warn(render.as_options(text))
    if payload is not None and found:
        payload["warnings"] = [*payload.get("warnings", []), *found]
    return payload


def _notes(notes: list[str], quiet: bool) -> None:
    if not quiet:
        for text in notes:
            render.note(text)


def _parameter_rows(fit: FitResult):
    summary = fit.summary()
    collapsed = fit.diagnostics.get("collapsed", ())
    for name, row in summary.iterrows():
        yield (name, render.number(row["value"], 6), render.number(row["se"]),
               render.interval(row["lower"], row["upper"]),
               "yes" if row["at_bound"] else "collapsed" if name in collapsed else "")


def show_group(group, title: str) -> None:
    """One row per group: its values, parameters, objective, convergence and rows; then the warnings."""
    names = list(group)
    first = group[names[0]] if names else None
    params = list(first.law.param_names) if first is not None else []
    render.table(title, [group.key, *params, "objective", "converged", "rows"],
                 ((name, *(render.number(group[name].params[p], 6) for p in params),
                   f"{group[name].diagnostics['objective']:.6g}",
                   "yes" if group[name].diagnostics["converged"] else "NO", group[name].data["rows"])
                  for name in names))
    for text in group.warnings:
        render.warn(render.as_options(text))


def _ranking(average) -> list[dict]:
    """Each candidate's rolling-origin score beside its weight, as JSON records."""
    return [{"candidate": name, **{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}}
            for name, row in average.scores.iterrows()]


def show_average(average, title: str) -> None:
    """The candidates' rolling-origin MAPE at each origin, their mean and the weights; then the warnings."""
    origins = [c for c in average.scores.columns if c.startswith("mape_at_")]
    render.table(title, ["candidate", *(f"MAPE at {average.order_by} {c[8:]}" for c in origins),
                         "rolling-origin MAPE", "weight"],
                 ((name, *(f"{row[c]:.3g}%" for c in origins), f"{row['score_mape']:.3g}%", f"{row['weight']:.3f}")
                  for name, row in average.scores.iterrows()))
    from scalelaw.averaging import INTERVAL_WORDS as MIXTURE_WORDS

    render.line(f"predictions are the mixture sum_k w_k L_k; intervals: {MIXTURE_WORDS[average.interval_kind()]}")
    for text in average.warnings:
        render.warn(render.as_options(text))


def _show_fit(fit: FitResult, title: str) -> None:
    level = f"{100 * fit.level:g}%"
    render.table(title, ["parameter", "value", "bootstrap se", f"{level} interval", "at bound"],
                 _parameter_rows(fit))
    d = fit.diagnostics
    render.line(f"objective {d['objective']:.10g} ({fit.settings['loss']}); {d['message']}; "
                f"{d['n_at_optimum']} of {d['n_polished']} polished starts reached it "
                f"({d['n_starts']} starts evaluated); {d['wall_time']:.2f} s")
    if d.get("at_bound"):
        render.warn(f"parameters at a bound: {', '.join(d['at_bound'])}; the law may not suit the data")
    for name, p in d.get("profile", {}).items():
        render.line(f"profile {level} interval of {name}: {render.interval(p['lower'], p['upper'])}")
    m = fit.metrics
    render.line(f"in-sample error: MAE {m['mae']:.4g}, MAPE {m['mape']:.3g}%, max {m['max_abs_error']:.4g} "
                f"({fit.law.target} units, {m['n']} rows)")


@fit_app.command("loss")
@options.Reading
@Resampling
@options.Units
@options.Grouping
@options.Declaring
def fit_loss(
    file: File,
    law: AutoLaw = "chinchilla",
    declared: dict | None = None,
    starts: Starts = "default",
    loss: Loss = "huber",
    delta: Delta = 1e-3,
    resampling: dict | None = None,
    grouping: dict | None = None,
    exclude_highest: Exclude = 0,
    max_iter: MaxIter = None,
    profile: Profile = False,
    units: dict | None = None,
    where: Where = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit a loss law L(N, D) to training runs (params, tokens or FLOPs, final loss).

    A degenerate fit (a parameter collapsed toward 0, starts that disagree, a near-collinear problem) or one
    stopped on the iteration limit warns in one line naming the parameters (in --json: warnings); --strict
    refuses it (exit 2).

    Example: scalelaw fit loss data/loss/epoch_chinchilla_svg_extracted.csv --exclude-highest 5 --starts hoffmann
    --bootstrap 1000 --out fit.json --plot fit.png

    A formula law with declared parameters: scalelaw fit loss runs.csv --law 'E + A*N**-a' --param 'E>0,log'
    --param 'a>=0' --start a=0.3
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw import artifact
    from scalelaw.families import loss as family
    from scalelaw.plots import loss as loss_plots
    from scalelaw.plots.common import figure_bytes

    check_outputs(out=out, plot=plot)
    frame, notes = _load(file, where, exclude_highest, units, by=grouping["by"])
    law = options.formula_law(law, declared, frame.columns)
    if grouping["by"] is not None:
        if max_iter is not None or profile:
            raise InputError("--max-iter and --profile apply to a single fit; fit without --by to use them")
        group = family.fit_loss(frame, law, loss=loss, delta=delta, starts=starts, bootstrap=bootstrap,
                                seed=seed, level=level, **grouping)
        options.write_result(group, out, plot)
        if json:
            render.emit_json(_warned(frame, group.to_dict() | {"notes": notes}))
            return
        _notes(notes, json)
        _warned(frame, show=True)
        shown = getattr(law, "formula", law)
        show_group(group, f"{shown}: one fit per {group.key}  ({len(group)} groups, {file.name})")
        render.wrote(out, plot)
        return
    if isinstance(law, str) and law.strip() == "auto":
        average = family.fit_loss(frame, "auto", starts=starts, delta=delta, bootstrap=bootstrap, seed=seed,
                                  level=level)
        options.write_result(average, out, plot)
        if json:
            render.emit_json(_warned(frame, average.to_dict() | {"notes": notes, "ranking": _ranking(average)}))
            return
        _notes(notes, json)
        _warned(frame, show=True)
        show_average(average, f"law averaging: {len(average.names)} candidates ({file.name})")
        return
    extra = ({"max_iter": max_iter} if max_iter is not None else {}) | ({"profile": True} if profile else {})
    with render.progress("bootstrap", enabled=bootstrap > 0 and not (json or quiet)) as callback:
        fit = family.fit_loss(frame, law, loss=loss, delta=delta, starts=starts, bootstrap=bootstrap,
                              seed=seed, level=level, progress=callback, **extra)
    payload = _warned(frame, fit.to_dict() | {"notes": notes})
    text = artifact.dumps(payload)
    figure = figure_bytes(loss_plots.loss_vs_compute(fit, frame), plot) if plot else None
    options.write_outputs((out, text), (plot, figure), note=False)
    if json:
        render.emit_json(payload)
        return
    _notes(notes, json)
    _warned(frame, show=True)
    _show_fit(fit, f"{fit.law.name}: {fit.law.formula}  ({fit.data['rows']} runs, {file.name})")
    if family.is_chinchilla_shaped(fit.law):
        ex = family.exponents(fit)
        render.line("allocation exponents: " + ", ".join(
            f"{q} = {render.number(r['value'])} {render.interval(r['lower'], r['upper'])}"
            for q, r in ex.iterrows()) + "  (N_opt ∝ C^a, D_opt ∝ C^b)")
    render.wrote(out, plot)


@fit_app.command("isoflop")
@options.Reading
@Resampling
@options.Units
@options.Grouping
def fit_isoflop(
    file: File,
    budget_column: Annotated[str | None, typer.Option(help="Column naming each run's budget; default: "
                                                           "FLOPs rounded to 3 significant digits.")] = None,
    min_points: Annotated[int, options.ranged(low=2, integer=True, help="Model sizes needed per budget.")] = 3,
    flops: Annotated[list[str] | None, typer.Option(help="Also give N_opt and D_opt at these budgets (FLOPs, "
                                                         "repeatable or comma-separated).")] = None,
    resample: Annotated[str, typer.Option(help="What --bootstrap draws again: budgets (their minima) or points "
                                               "(the runs within each budget, refitting each parabola, so the "
                                               "intervals carry each vertex's uncertainty). Example: "
                                               "--resample points --bootstrap 200.")] = "budgets",
    interval: Annotated[str, typer.Option(help="Interval of N_opt and D_opt at --flops: confidence (the power "
                                               "law's optimum) or prediction (where a new budget's vertex would "
                                               "land: adds the vertices' scatter). Example: --interval "
                                               "prediction.")] = "confidence",
    resampling: dict | None = None,
    units: dict | None = None,
    grouping: dict | None = None,
    where: Where = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Approach 2: a parabola of loss in log N per FLOPs budget, then N_opt ∝ C^a and D_opt ∝ C^b.

    Example: scalelaw fit isoflop data/loss/porian_isoflop_points.csv --where dataset=rw --where hparams=tuned
    --where param_count=standard --bootstrap 500 --out isoflop.json --plot isoflop.png
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw.families import loss as family

    check_outputs(out=out, plot=plot)
    from scalelaw.result import INTERVALS

    if interval not in INTERVALS:
        raise InputError(f"--interval {interval!r}: give prediction or confidence")
    budgets = options.numbers("--flops", flops)
    frame, notes = _load(file, where, 0, units, by=grouping["by"])
    if grouping["by"] is not None:
        from scalelaw.cli import grouped

        settings = {"budget_column": budget_column, "min_points": min_points, "bootstrap": bootstrap,
                    "seed": seed, "level": level} | ({"resample": resample} if resample != "budgets" else {})
        grouped.run(functools.partial(family.isoflop, **settings), frame, grouping, family="loss",
                    settings=settings, out=out, plot=plot, json=json)
        return
    result = family.isoflop(frame, budget_column=budget_column, min_points=min_points, bootstrap=bootstrap,
                            seed=seed, level=level, resample=resample)
    at_budgets = result.predict(budgets, interval=interval, warn=False) if budgets else None
    options.write_result(result, out, plot)
    ex = result.exponents()
    warned = [*result.warnings, *(result.extrapolation(budgets) if budgets else ())]
    if json:
        payload = {"exponents": {k.split()[0]: {"value": r["value"], "lower": r["lower"], "upper": r["upper"]}
                                 for k, r in ex.iterrows()},
                   "minima": result.minima.to_dict(orient="records"), "skipped": list(result.skipped),
                   "warnings": warned}
        if at_budgets is not None:
            payload["at_budgets"] = [{k: float(v) for k, v in row.items()} | {"interval": interval}
                                     for _, row in at_budgets.iterrows()]
            if len(budgets) == 1:
                payload["at_budget"] = payload["at_budgets"][0]
        render.emit_json(_warned(frame, payload))
        return
    _notes(notes, json)
    _warned(frame, show=True)
    render.table("isoFLOP minima", ["budget (FLOPs)", "N_opt", "D_opt", "loss at N_opt", "runs"],
                 ((render.number(r.flops), render.number(r.params), render.number(r.tokens),
                   f"{r.loss:.4f}", r.points) for r in result.minima.itertuples()))
    for text in result.skipped:
        render.note(f"skipped {text}")
    for name, r in ex.iterrows():
        render.line(f"{name} = {r['value']:.4f} {render.interval(r['lower'], r['upper'])}")
    for budget, (_, at) in zip(budgets, () if at_budgets is None else at_budgets.iterrows(), strict=False):
        render.line(f"at {render.number(budget)} FLOPs: N_opt = {render.number(at['params'])} "
                    f"{render.interval(at['params_lower'], at['params_upper'])}, D_opt = "
                    f"{render.number(at['tokens'])} {render.interval(at['tokens_lower'], at['tokens_upper'])} "
                    f"({100 * level:g}% {interval} interval)")
    for text in warned:
        render.warn(text)


@validate_app.command("loss")
@options.Reading
@Resampling
@options.Units
@options.Grouping
@options.Declaring
def validate_loss(
    file: File,
    law: Law = "chinchilla",
    declared: dict | None = None,
    top_frac: Annotated[float | None, options.ranged("--holdout-top-frac", low=0, high=1, low_open=True, high_open=True,
                                                     help="Hold out this fraction of the "
                                                   "largest runs (by --order-by).")] = 0.2,
    column: Annotated[str | None, typer.Option("--holdout-column", help="Hold out rows where this column is "
                                               "true/1 (overrides --holdout-top-frac).")] = None,
    order_by: Annotated[str, typer.Option(help="Numeric column that orders runs by scale: flops (FLOPs), params, "
                                               "tokens or any other numeric column of the file, e.g. "
                                               "--order-by step.")] = "flops",
    resampling: dict | None = None,
    starts: Starts = "default",
    loss: Loss = "huber",
    delta: Delta = 1e-3,
    exclude_highest: Exclude = 0,
    units: dict | None = None,
    grouping: dict | None = None,
    where: Where = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Fit on the smaller scales and report the error on the held-out larger ones (the figure: each run's
    relative error against its scale, held-out ones apart).

    With --bootstrap N the held-out errors get percentile intervals over N bootstrap fits, and each run's
    prediction its interval (in --json, rows).

    Example: scalelaw validate loss data/loss/epoch_chinchilla_svg_extracted.csv --exclude-highest 5
    --holdout-top-frac 0.2 --bootstrap 200 --out validation.json --plot validation.png
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw.families import loss as family

    check_outputs(out=out, plot=plot)
    frame, notes = _load(file, where, exclude_highest, units, by=grouping["by"])
    family.scale_column(frame, order_by)
    resampled = {"bootstrap": bootstrap, "seed": seed, "level": level} if bootstrap else {}
    law = options.formula_law(law, declared, frame.columns)
    if grouping["by"] is not None:
        from scalelaw.cli import grouped

        plain = law.to_dict() if hasattr(law, "to_dict") else law
        settings = {"law": plain, "top_frac": None if column else top_frac, "column": column, "order_by": order_by,
                    "loss": loss, "delta": delta, "starts": starts, **resampled}
        grouped.run(functools.partial(family.validate_loss, **settings), frame, grouping, family="loss",
                    settings=settings, out=out, plot=plot, json=json)
        return
    result = family.validate_loss(frame, law, top_frac=None if column else top_frac, column=column,
                                  order_by=order_by, loss=loss, delta=delta, starts=starts, **resampled)
    fit = result.fit
    options.write_result(result, out, plot)
    if json:
        render.emit_json(_warned(frame, {"in_sample": dict(result.in_sample), "held_out": dict(result.held_out),
                                         "n_train": result.n_train, "n_held_out": result.n_held_out,
                                         "params": dict(fit.params), "law": fit.law.name,
                                         "warnings": list(fit.warnings), "order_by": order_by,
                                         "rows": result.rows.to_dict(orient="records")}
                                  | ({"held_out_interval": dict(result.held_out_interval), "level": fit.level}
                                     if result.held_out_interval else {})))
        return
    _notes(notes, json)
    _warned(frame, show=True)
    _show_fit(fit, f"{fit.law.name} fitted on {result.n_train} smaller runs")
    interval = result.held_out_interval

    def shown(m, key, text):
        return text + (f" {render.interval(*interval[key])}" if interval and m is result.held_out else "")

    render.table("extrapolation check" + (f" ({100 * fit.level:g}% bootstrap intervals)" if interval else ""),
                 ["rows", "n", "MAE", "MAPE", "max |error|"],
                 ((label, m["n"], shown(m, "mae", f"{m['mae']:.4g}"), shown(m, "mape", f"{m['mape']:.3g}%"),
                   shown(m, "max_abs_error", f"{m['max_abs_error']:.4g}"))
                  for label, m in (("in-sample", result.in_sample), ("held out (largest)", result.held_out))))


def _read_fit(path: Path, group: str | None = None, *, strict: bool = False):
    """The fit artifact at ``path``: a FitResult, or a group fit (``--by``), or its member ``group``
    (``strict``: refuse one edited by hand)."""
    from scalelaw import protocol
    from scalelaw.averaging import AveragedFit
    from scalelaw.result import FitResult

    if str(path).lstrip().startswith("{"):
        return FitResult.from_json(path, strict=strict)
    result = protocol.load(Path(path), strict=strict)
    if isinstance(result, AveragedFit):
        if group is not None:
            raise InputError(f"--group {group}: {path} holds a law average, not one fit per group (fit with --by)")
        return result
    if answers_of_groups(result):
        return result if group is None else result[group]
    if group is not None:
        raise InputError(f"--group {group}: {path} holds one fit, not one fit per group (fit with --by)")
    return result if isinstance(result, FitResult) else FitResult.from_json(Path(path))


def answers_of_groups(result) -> bool:
    from scalelaw.answers import is_groups

    return is_groups(result)


def _each_group(verb: str, group, json: bool, **inputs) -> None:
    """Answer ``verb`` for every group: one JSON object keyed by group, or each group's lines."""
    from scalelaw import answers

    if json:
        render.emit_json(answers.answer(verb, group, **inputs))
        return
    for name in group:
        answer = answers.answered(verb, group[name], **inputs)
        rows = answer.result if isinstance(answer.result, list) else answer.result.to_frame().to_dict("records")
        warned: list[str] = list(getattr(answer.result, "warnings", ()))
        for row in rows:
            shown = ", ".join(f"{k} {render.number(v)}" + _bounds(row, k) for k, v in row.items()
                              if isinstance(v, float) and not k.endswith(("lower", "upper")) and k != "level")
            kind = f" ({100 * row['level']:g}% {row['interval']} interval)" if "interval" in row else ""
            render.line(f"{group.key} {name}: {shown}{kind}")
            warned += [text for text in row.get("warnings", ()) if text not in warned]
        for text in warned:
            render.warn(f"{group.key} {name}: {text}")


def _bounds(row: dict, key: str) -> str:
    """`` [lower, upper]`` of ``key`` in an answer row (``lower``/``upper`` for the prediction itself)."""
    lower, upper = (("lower", "upper") if key == "prediction" else (f"{key}_lower", f"{key}_upper"))
    return f" {render.interval(row[lower], row[upper])}" if lower in row and upper in row else ""


Group = options.GroupName
#: How each kind of interval is named where a prediction is printed.
INTERVAL_WORDS = {"prediction": "prediction interval: bootstrap and residual scatter",
                  "confidence": "confidence interval: bootstrap parameters only"}


@app.command()
def predict(
    fit_file: Annotated[Path, typer.Argument(help="Fit artifact written by --out.", show_default=False)],
    params: Params = None,
    tokens: Tokens = None,
    flops: Flops = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Other inputs as COLUMN=VALUE (repeatable or "
                                                                 "comma-separated).")] = None,
    interval: options.Interval = None,
    group: Group = None,
    plot: Plot = None,
    json: Json = False,
    strict: options.StrictArtifact = False,
) -> None:
    """Predict the target of a fitted law at given inputs, with its prediction or confidence interval (one
    row per point; with --flops and --params, tokens = C / (6 N)).

    Example: scalelaw predict fit.json --params 70B --tokens 1.4T,2.8T --interval prediction --plot predictions.png
    """
    import numpy as np

    from scalelaw import answers

    check_outputs(plot=plot)
    fit = _read_fit(fit_file, group, strict=strict)
    if answers_of_groups(fit):
        _each_group("predict", fit, json, params=params, tokens=tokens, flops=flops, set=set_, interval=interval)
        return
    answer = answers.answered("predict", fit, params=params, tokens=tokens, flops=flops, set=set_,
                              interval=interval)
    payloads = answer.result
    if plot is not None:
        options.write_outputs((plot, _prediction_figure(fit, payloads, plot)))
    if json:
        render.emit_json(answer.payload)
        return
    for row in payloads:
        at = "" if len(payloads) == 1 else ", ".join(f"{k} {render.number(v)}" for k, v in row["inputs"].items())
        render.line((f"at {at}: " if at else "") + f"{fit.law.target} = {row['prediction']:.5g} "
                    f"{render.interval(row['lower'], row['upper'])}"
                    + (f" ({100 * fit.level:g}% {INTERVAL_WORDS[row['interval']]})" if np.isfinite(row["lower"])
                       else " (fit without --bootstrap: no confidence interval)"))
        for text in row["warnings"]:
            render.warn(text)


def _prediction_figure(fit: FitResult, payloads: list[dict], plot: Path) -> bytes:
    """The fitted law over its range with the predicted points (and their intervals) marked."""
    from scalelaw.plots.common import figure_bytes

    figure = fit.plot()
    ax, column = figure.axes[0], fit.law.column(fit.law.inputs[0])
    for row in payloads:
        low, high = row["prediction"] - row["lower"], row["upper"] - row["prediction"]
        ax.errorbar([row["inputs"][column]], [row["prediction"]], fmt="*", ms=10, color="tab:red",
                    yerr=[[low], [high]] if low == low else None)
    return figure_bytes(figure, plot)


@app.command()
def optimal(
    fit_file: Annotated[Path, typer.Argument(help="Fit artifact of a law of N and D.", show_default=False)],
    flops: Flops = None,
    group: Group = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
    strict: options.StrictArtifact = False,
) -> None:
    """Compute-optimal model size and tokens for each FLOPs budget (C = 6 N D), with intervals.

    Example: scalelaw optimal fit.json --flops 5.76e23 --out allocation.json
    """
    from scalelaw.answers import loss as answers

    check_outputs(out=out, plot=plot)
    fit = _read_fit(fit_file, group, strict=strict)
    if answers_of_groups(fit):
        _each_group("optimal", fit, json, flops=flops)
        return
    answer = answers.optimal(fit, flops=flops)
    allocation = answer.result
    options.write_result(allocation, out, plot)
    if json:
        render.emit_json(answer.payload)
        return
    allocations = allocation.to_frame()
    if not hasattr(fit, "bootstrap"):
        render.note(f"a law average: {allocation.method}")
    for _, a in allocations.iterrows():
        budget = a["flops"]
        render.table(f"compute-optimal allocation for C = {render.number(budget)} FLOPs",
                     ["quantity", "value", f"{100 * fit.level:g}% confidence interval"],
                     [("params N", render.number(a["params"]),
                       render.interval(a["params_lower"], a["params_upper"])),
                      ("tokens D", render.number(a["tokens"]),
                       render.interval(a["tokens_lower"], a["tokens_upper"])),
                      ("tokens per param", f"{a['tokens_per_param']:.3g}", ""),
                      (f"predicted {fit.law.target}", f"{a['loss']:.4f}",
                       render.interval(a["loss_lower"], a["loss_upper"]))])
    for text in allocation.warnings:
        render.warn(text)


@app.command()
def laws(json: Json = False) -> None:
    """List the catalogue of laws with their formulas, inputs and parameters.

    Example: scalelaw laws
    """
    from scalelaw.laws import describe

    rows = describe()
    if json:
        render.emit_json({"laws": rows})
        return
    render.table("laws", ["name", "formula", "inputs", "residuals"],
                 ((r["name"], r["formula"], ", ".join(f"{s}={c}" for s, c in r["inputs"].items()), r["space"])
                  for r in rows), fold=("formula", "inputs"))
