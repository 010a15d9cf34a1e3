"""Commands of the datastore family: fit, optimal, frontier, simulate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import (
    SEED,
    Csv,
    Flops,
    GroupName,
    Json,
    LegacyCsv,
    Out,
    Plot,
    Quiet,
    Resampling,
    Seed,
    Where,
    check_outputs,
)
from scalelaw.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from scalelaw.families import datastore as family

group = typer.Typer(help="Retrieval-based LMs: metric vs datastore size, the joint law L(N, D, S) and "
                         "compute-optimal (reader, pretraining, datastore) choices.", no_args_is_help=True)
app.add_typer(group, name="datastore")


class LawChoice(StrEnum):
    auto = "auto"
    log_linear = "log_linear"
    saturating = "saturating"
    joint = "joint"


File = Annotated[Path, typer.Argument(help="CSV/TSV/JSON(L)/parquet/Excel log: model, params, tokens, "
                                           "datastore_tokens (0 or empty: LM-only), metric, value, optional seed "
                                           "and kind.",
                                      show_default=False)]
FitFile = Annotated[Path, typer.Argument(help="Artifact of 'scalelaw datastore fit --law joint --out'.",
                                         show_default=False)]
Metric = Annotated[str | None, typer.Option(help="Use only this metric (the joint law needs one).")]
Reader = Annotated[list[str] | None, typer.Option("--reader", help="Use only these readers (model or label; "
                                                                    "repeatable or comma-separated).")]
RetrieverParams = Annotated[str, typer.Option(help="Retriever parameters N_r for the datastore cost 2 N_r S; "
                                                   "default Contriever-MSMARCO (BERT-base), 110M.")]
Queries = Annotated[str, typer.Option(help="Queries served, to add their retrieval cost (0: training compute "
                                           "only, as MassiveDS).")]
LawOption = Annotated[LawChoice, typer.Option(help="auto: log_linear or saturating per (reader, metric), "
                                                   "chosen by held-out error; or force one; joint: "
                                                   "L(N, D, S).")]
Holdout = Annotated[int, options.ranged(low=1, integer=True,
                                        help="Largest datastore sizes held out to choose and check a law.")]
LmOnlyAt = Annotated[str, typer.Option(help="Tokens at which the LM-only point sits when a reader has one "
                                            "datastore size (two points).")]
At = Annotated[str | None, typer.Option(help="Also predict the metric at this datastore size (tokens), e.g. "
                                             "10T, by each reader's chosen law.")]
Loss = Annotated[str, typer.Option(help="squared (the fit to the seed means) or huber.")]
MaxDatastore = Annotated[str | None, typer.Option(help="Tokens available for the datastore, e.g. 1.4T "
                                                       "(default: no limit).")]
All = Annotated[bool, typer.Option("--all", help="List every configuration, not only the frontier.")]
Overlay = Annotated[Path | None, typer.Option("--fit", help="A joint fit artifact: draw its compute-optimal "
                                                            "curve on the plot.")]


def _count(option: str, text: str) -> float:
    value = options.number(option, text, positive=False)
    if not value >= 0 or value == float("inf"):
        raise InputError(f"{option}: {text!r} must be a number >= 0")
    return value


def _cost(retriever_params: str, queries: str) -> family.RetrievalCost:
    from scalelaw.families import datastore as family

    return family.RetrievalCost(retriever_params=render.quantity("--retriever-params", retriever_params),
                                queries=_count("--queries", queries))


def _load(file: Path, metric: str | None, readers: list[str] | None,
          where: list[str] | None = None, units: dict | None = None) -> family.Measurements:
    from scalelaw.families import datastore as family

    measurements = family.read(file, where=where, **(units or {}))
    return measurements.select(metric=metric, readers=options.split("--reader", readers) or None)


def _notes(measurements: family.Measurements, *written: Path | None) -> None:
    """Remarks on stderr, once everything succeeded (an error stays one line)."""
    for text in measurements.notes:
        render.note(text)
    render.wrote(*written)


def _read_joint(path: Path, group: str | None = None):
    """The joint law of the fit at ``path`` (of its member ``group`` for a fit made with --by); a fit made
    with --by and no ``group`` as it is, for every group."""
    from scalelaw.answers import is_groups
    from scalelaw.families import datastore as family
    from scalelaw.protocol import load

    stored = load(path)
    if is_groups(stored):
        if group is None:
            return stored
        stored = stored[group]
    elif group is not None:
        raise InputError(f"--group {group}: {path} holds one fit, not one fit per group (fit with --by)")
    if isinstance(stored, family.JointFit):
        return stored
    if not isinstance(stored, family.DatastoreFit):
        raise InputError(f"{path} holds a {stored.FAMILY} {stored.KIND}, not a datastore fit; give the artifact "
                         "of 'scalelaw datastore fit FILE --law joint --out FIT.json'")
    if stored.joint is None:
        raise InputError(f"{path} holds per-reader laws; the optimal (N, D, S) needs the joint law: run "
                         "'scalelaw datastore fit FILE --law joint --metric NAME --out FIT.json'")
    return stored.joint


# ------------------------------------------------------------------------------------------- render
def _law_text(fit) -> str:
    p = fit.params
    if fit.law.name == "log_linear":
        return f"a = {render.number(p['a'])}, b = {render.number(p['b'])} per e-fold"
    return f"G = {render.number(p['G'])}, S0 = {render.number(p['S0'])}, gamma = {render.number(p['gamma'])}"


def _error(choice, name: str) -> str:
    error = choice.errors.get(name)
    return f"{error['mae']:.4g}" if error else "-"


def _with_interval(value: float, lower: float, upper: float) -> str:
    bounds = render.interval(lower, upper)
    return render.number(value) + ("" if bounds == "-" else f" {bounds}")


def _show_readers(fits, at: float | None) -> None:
    from scalelaw.families.datastore.data import tokens_label

    for name in dict.fromkeys(f.metric.name for f in fits.values()):
        same = [f for f in fits.values() if f.metric.name == name]
        held = same[0].choice.held_out
        columns = ["reader", "LM-only", "chosen law", "parameters", "held-out MAE log_linear",
                   "held-out MAE saturating", "chosen by"]
        if at is not None:
            columns.append(f"at {tokens_label(at)} tokens")
        rows = []
        for f in same:
            row = [f.reader, render.number(f.lm_only), f.choice.chosen, _law_text(f.chosen),
                   _error(f.choice, "log_linear"), _error(f.choice, "saturating"), f.choice.how]
            if at is not None:
                row.append(_with_interval(*(float(v[0]) for v in f.predict([at], warn=False))))
            rows.append(row)
        sizes = ", ".join(tokens_label(s) for s in held) if held else "none"
        render.table(f"{same[0].metric.label}: laws in datastore size S (held out to choose: {sizes})",
                     columns, rows)
        for f in same:
            for text in f.notes:
                render.note(f"{f.reader}, {name}: {text}")
            for law, reason in f.choice.reasons.items():
                render.note(f"{f.reader}, {name}: {law}: {reason}")
    for text in _beyond(fits, at):
        render.warn(text)


def _beyond(fits, at: float | None) -> list[str]:
    """Each reader's warning when ``at`` (tokens) lies outside the datastore sizes it was fitted on."""
    return [] if at is None else [text for f in fits.values() for text in f.extrapolation([at])]


def _show_joint(joint: family.JointFit, comparison: pd.DataFrame) -> None:
    from scalelaw.families.datastore.data import tokens_label

    fit = joint.fit
    title = (f"joint law for {joint.metric.label}: {fit.law.formula}  (N params, D pretraining tokens, "
             f"S datastore tokens; target {fit.law.target})")
    render.table(title, ["parameter", "value", f"{100 * fit.level:g}% interval", "at bound"],
                 ((name, render.number(r["value"], 6), render.interval(r["lower"], r["upper"]),
                   "yes" if r["at_bound"] else "") for name, r in fit.summary().iterrows()))
    d, inside = fit.diagnostics, joint.validation["in_sample"]
    render.line(f"{d['message']}; {d['n_at_optimum']} of {d['n_polished']} polished starts reached the "
                f"optimum ({d['n_starts']} evaluated); in-sample MAE {inside['mae']:.4g} "
                f"({joint.metric.name}) on {inside['n']} seed means")
    overall = joint.validation.get("overall")
    if overall:
        held = ", ".join(tokens_label(s) for s in joint.validation["held_out"])
        render.line(f"extrapolation check: fitted without the datastore sizes {held}, its error on them is "
                    f"MAE {overall['mae']:.4g}, max {overall['max_abs_error']:.4g} ({overall['n']} points)")
    render.table("joint law vs per-reader laws (MAE in metric units)",
                 ["reader", "per-reader law", "in-sample per-reader", "in-sample joint",
                  "held-out per-reader", "held-out joint"],
                 ((r.reader, r.per_reader_law, f"{r.per_reader_mae:.4g}", f"{r.joint_mae:.4g}",
                   render.number(r.per_reader_held_out_mae), render.number(r.joint_held_out_mae))
                  for r in comparison.itertuples()))
    for text in joint.notes:
        render.note(text)


def _summary(result: family.DatastoreFit) -> dict:
    out: dict = {}
    if result.readers is not None:
        out["laws"] = [{"reader": f.reader, "metric": f.metric.name, "law": name,
                        "chosen": name == f.choice.chosen, "params": dict(fit.params),
                        "intervals": {k: list(v) for k, v in fit.intervals().items()},
                        "held_out_error": f.choice.errors.get(name), "lm_only": f.lm_only,
                        "notes": list(f.notes)}
                       for f in result.readers.values() for name, fit in f.fits.items()]
    if result.joint is not None:
        fit = result.joint.fit
        out["joint"] = {"metric": result.joint.metric.name, "params": dict(fit.params),
                        "intervals": {k: list(v) for k, v in fit.intervals().items()},
                        "validation": dict(result.joint.validation)}
    return out


# ----------------------------------------------------------------------------------------- commands
@group.command("fit")
@options.Reading
@Resampling
@options.SizeUnits
@options.Grouping
def fit(
    file: File,
    law: LawOption = LawChoice.auto,
    metric: Metric = None,
    readers: Reader = None,
    holdout: Holdout = 2,
    lm_only_at: LmOnlyAt = "1B",
    at: At = None,
    resampling: dict | None = None,
    loss: Loss = "squared",
    out: Out = None,
    plot: Plot = None,
    units: dict | None = None,
    grouping: dict | None = None,
    where: Where = None,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit laws of a metric in datastore size per (reader, metric), or the joint law L(N, D, S)
    (with --by, all of it per group of rows).

    Example: scalelaw datastore fit data/datastore/massiveds_simulated.csv --metric redpajama_ppl --law joint
    --bootstrap 200 --out ds.json --plot ds.png
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw import artifact
    from scalelaw.families import datastore as family
    from scalelaw.plots.common import figure_bytes

    check_outputs(out=out, plot=plot)
    at_tokens = render.quantity("--at", at)
    anchor_at = render.quantity("--lm-only-at", lm_only_at)
    measurements = _load(file, metric, readers, where, units)
    from scalelaw.cli import grouped

    with render.progress("bootstrap", enabled=bootstrap > 0 and not (json or quiet)) as callback:
        result = family.fit_datastore(measurements, law=law.value, metric=metric, holdout=holdout,
                                      lm_only_at=anchor_at, loss=loss, bootstrap=bootstrap, seed=seed, level=level,
                                      progress=callback, by=grouping["by"], strict=grouping["strict"],
                                      **grouped.parallelism(grouping))
    if grouping["by"] is not None:
        grouped.show(result, out=out, plot=plot, json=json)
        return
    per_reader, joint, comparison = result.readers, result.joint, result.comparison
    payload = result.to_dict()
    figure = None
    if plot is not None:
        figure = figure_bytes(result.plot(), plot)
    options.write_outputs((out, artifact.dumps(payload) if out else None), (plot, figure), note=False)
    if json:
        warned = [*payload.get("warnings", ()), *(_beyond(per_reader, at_tokens) if joint is None else ())]
        render.emit_json(payload | {"summary": _summary(result), "warnings": warned})
        return
    if joint is not None:
        _show_joint(joint, comparison)
    else:
        _show_readers(per_reader, at_tokens)
    _notes(measurements, out, plot)


@group.command("optimal")
def optimal(
    fit_file: FitFile,
    flops: Flops = None,
    retriever_params: RetrieverParams = "110M",
    max_datastore: MaxDatastore = None,
    queries: Queries = "0",
    group: GroupName = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Compute-optimal reader size, pretraining tokens and datastore size for FLOPs budgets (for a fit
    made with --by: for --group, or for every group).

    Example: scalelaw datastore optimal ds.json --flops 1e21,1e22 --max-datastore 1.4T --out optimum.json
    --plot optimum.png
    """
    import numpy as np

    from scalelaw.answers import datastore as answers
    from scalelaw.families import datastore as family

    check_outputs(out=out, plot=plot)
    given = {"flops": flops, "retriever_params": retriever_params, "max_datastore": max_datastore,
             "queries": queries}
    answers.inputs(**given)
    joint = _read_joint(fit_file, group)
    if not isinstance(joint, family.JointFit):
        _every_optimal(joint, given, out=out, plot=plot, json=json)
        return
    answer = answers.optimal(joint, **given)
    best = answer.result
    options.write_result(best, out, plot)
    frame = best.to_frame()
    if json:
        render.emit_json(answer.payload)
        return
    for _, row in frame.iterrows():
        _show_optimum(row, best, joint.metric.label)
    if not np.isfinite(frame["params_lower"].iloc[0]):
        render.note("the fit has no bootstrap: refit with --bootstrap for intervals")
    for text in best.warnings:
        render.warn(text)


def _every_optimal(fits, given: dict, *, out: Path | None, plot: Path | None, json: bool) -> None:
    """The optimum of every group of a fit made with --by: one JSON object keyed by group, or each group's tables."""
    from scalelaw import answers

    if out is not None or plot is not None:
        raise InputError("--out and --plot write one optimum; give --group NAME")
    answer = answers.answered("optimal", fits, **given)
    if json:
        render.emit_json(answer.payload)
        return
    for name, one in answer.result.items():
        render.line(f"{fits.key} {name}:")
        for _, row in one.result.to_frame().iterrows():
            _show_optimum(row, one.result, one.result.metric)
        for text in one.result.warnings:
            render.warn(text)


def _show_optimum(row, best, label: str) -> None:
    def line(text: str, name: str) -> tuple[str, str, str]:
        return text, render.number(row[name]), render.interval(row[f"{name}_lower"], row[f"{name}_upper"])

    render.table(f"compute-optimal choice for {render.number(row['flops'])} FLOPs ({label})",
                 ["quantity", "value", f"{100 * best.level:g}% interval"],
                 [line("reader params N", "params"), line("pretraining tokens D", "tokens"),
                  line("datastore tokens S", "datastore_tokens"), line(f"predicted {best.metric}", "value"),
                  ("pretraining FLOPs 6ND", render.number(row["pretraining_flops"]), ""),
                  ("datastore FLOPs 2 N_r S", render.number(row["datastore_flops"]), ""),
                  ("serving FLOPs", render.number(row["serving_flops"]), "")])


@group.command("frontier")
@options.Reading
@options.SizeUnits
def frontier(
    file: File,
    metric: Metric = None,
    readers: Reader = None,
    retriever_params: RetrieverParams = "110M",
    queries: Queries = "0",
    all_: All = False,
    fit_file: Overlay = None,
    plot: Plot = None,
    units: dict | None = None,
    where: Where = None,
    json: Json = False,
) -> None:
    """The Pareto frontier of measured configurations: metric against total training FLOPs.

    Example: scalelaw datastore frontier data/datastore/massiveds_simulated.csv --metric tqa_em --plot p.png
    """
    import numpy as np
    import pandas as pd

    from scalelaw.families import datastore as family
    from scalelaw.families.datastore.data import tokens_label
    from scalelaw.plots.common import figure_bytes

    check_outputs(plot=plot)
    cost = _cost(retriever_params, queries)
    joint = _read_joint(fit_file) if fit_file is not None else None
    measurements = _load(file, metric, readers, where, units)
    table = family.frontier(measurements, cost)
    if plot is not None:
        from scalelaw.plots.datastore import pareto_frontier

        curve = None
        if joint is not None:
            spent = table.loc[(table["metric"] == joint.metric.name) & table["retrieval"], "flops"]
            if len(spent):
                grid = np.geomspace(spent.min(), spent.max(), 40)
                best = family.optimal(joint, grid, cost=cost)
                curve = pd.DataFrame({"metric": best.metric, "flops": grid, "value": best.value})
        figure = pareto_frontier(table, metrics=dict(measurements.metrics), optimum=curve)
        options.write_outputs((plot, figure_bytes(figure, plot)), note=False)
    shown = table if all_ else table[table["pareto"] | table["lm_only_pareto"]]
    if json:
        render.emit_json({"cost": cost.to_dict(), "configurations": shown.to_dict(orient="records")})
        return
    for name, part in shown.groupby("metric", sort=False):
        mine = table["metric"] == name
        render.table(f"{measurements.metrics[name].label}: Pareto frontier "
                     f"({int(table.loc[mine, 'pareto'].sum())} of {int(mine.sum())} configurations)",
                     ["reader", "datastore", "FLOPs", "6ND", "2 N_r S", name, "frontier"],
                     ((r.reader, tokens_label(r.datastore_tokens) if r.retrieval else "LM-only",
                       render.number(r.flops), render.number(r.pretraining_flops),
                       render.number(r.datastore_flops), f"{r.value:.4g}", "all" if r.pareto else "LM-only")
                      for r in part.itertuples()))
    _notes(measurements, plot)


@group.command("simulate")
def simulate(
    csv: Csv = None,
    seed: Seed = SEED,
    plot: Plot = None,
    json: Json = False,
    out: LegacyCsv = None,
) -> None:
    """MassiveDS-style measurements drawn from a known joint law (see docs/datastore.md): written as CSV,
    printed as JSON, or drawn as their Pareto frontier.

    Example: scalelaw datastore simulate --csv massiveds_simulated.csv --seed 0
    """
    from scalelaw.families import datastore as family
    from scalelaw.plots.common import figure_bytes

    check_outputs(csv=csv, out=out, plot=plot)
    csv = csv or out
    frame = family.simulate(seed=seed)
    figure = None
    if plot is not None:
        from scalelaw.plots.datastore import pareto_frontier

        measurements = family.prepare(frame)
        table = family.frontier(measurements, family.RetrievalCost())
        figure = figure_bytes(pareto_frontier(table, metrics=dict(measurements.metrics)), plot)
    options.write_outputs((csv, frame.to_csv(index=False)), (plot, figure))
    if json:
        render.emit_json({"seed": seed, "rows": frame.to_dict(orient="records")})
    elif csv is None and plot is None:
        render.raw(frame.to_csv(index=False).rstrip("\n"))
