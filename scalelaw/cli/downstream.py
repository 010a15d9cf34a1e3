"""Commands of the downstream family: chain, ladder, error-law, observational."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import Csv, Json, Out, Params, Plot, Resampling, Tokens, Where, check_outputs
from scalelaw.errors import InputError

group = typer.Typer(help="Downstream capabilities: predictability chain, ladder, loss to error, "
                         "observational scaling.", no_args_is_help=True)
app.add_typer(group, name="downstream")


Manifest = Annotated[Path | None, typer.Option(
    help="With a folder of lm-evaluation-harness results: a table of model, params [, tokens, family, "
         "loss, ...] giving each model's sizes.")]
Metric = Annotated[str, typer.Option(help="With lm-evaluation-harness results: the metric of each task, "
                                          "e.g. acc, acc_norm, exact_match.")]
Format = Annotated[str | None, typer.Option("--format", help="table or lm-eval (default: lm-eval for a "
                                                             "folder of results_*.json, else table).")]


def _harness_options(manifest: Path | None, params: list[str] | None = None,
                     tokens: list[str] | None = None) -> dict:
    """The harness reader's options that were given (MODEL=SIZE pairs by model)."""
    given = {"manifest": manifest, "params": options.pairs("--params", params) or None,
             "tokens": options.pairs("--tokens", tokens) or None}
    return {k: v for k, v in given.items() if v is not None}


def _f(value, digits: int = 4) -> str:
    value = float(value)
    return "-" if not math.isfinite(value) else f"{value:.{digits}f}"


# ------------------------------------------------------------------------------------------- chain
@group.command("chain")
@options.Reading
def chain(
    file: Annotated[Path, typer.Argument(
        help="Per-choice log-likelihoods: a tidy table (model, question, choice, logprob, is_correct, "
             "flops or params and tokens), an lm-evaluation-harness samples .jsonl, or a manifest with a "
             "'path' column.",
        show_default=False)],
    family_column: Annotated[str, typer.Option(help="Column naming each model's family.")] = "family",
    model: Annotated[str | None, typer.Option(help="Model name of a single samples file.")] = None,
    flops: Annotated[str | None, typer.Option(help="Training compute of one samples file (FLOPs).")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters N of a single samples file.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens D of a single samples file.")] = None,
    family: Annotated[str | None, typer.Option(help="Family of a single samples file.")] = None,
    min_models: Annotated[int, options.ranged(low=2, integer=True,
                                              help="Fewest models (distinct computes) for correlations.")] = 3,
    out: Out = None,
    csv: Csv = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Per-question metrics along the chain log p -> p_vocab -> p_choices -> Brier -> accuracy,
    per-model means, and per-question correlations with log compute within each family
    (--csv writes the per-question metrics).

    Example: scalelaw downstream chain choices.csv --family-column family --plot chain.png
    """
    from scalelaw.families.downstream import chain as chain_family
    from scalelaw.families.downstream.readers import read_choices

    check_outputs(out=out, csv=csv, plot=plot)
    choices = read_choices(file, family_column=family_column, model=model, family=family,
                           flops=render.quantity("--flops", flops),
                           params=render.quantity("--params", params),
                           tokens=render.quantity("--tokens", tokens))
    result = chain_family.analyse(choices, min_models=min_models)
    options.write_result(result, out, plot, (csv, result.per_question.to_csv(index=False) if csv else None))
    models = result.per_model.reset_index()
    if json:
        render.emit_json({"models": models.to_dict(orient="records"),
                          "correlations": result.correlation_summary.to_dict(orient="records"),
                          "incorrect_mass": result.incorrect.to_dict(orient="records"),
                          "notes": list(result.notes)})
        return
    for text in result.notes:
        render.note(text)
    names = chain_family.chain_metrics(result.per_question)
    render.table(f"per-model means ({len(models)} models, {file.name})",
                 ["model", "family", "compute (FLOPs)", "questions", *names, "p_vocab_incorrect", "ties"],
                 ((r["model"], r["family"], render.number(r["flops"]), int(r["n_questions"]),
                   *(_f(r[n]) for n in names), _f(r["p_vocab_incorrect"]), int(r["ties"]))
                  for _, r in models.iterrows()))
    if result.correlation_summary.empty:
        render.note("no family has enough models for correlations with compute")
        return
    for fam, part in result.correlation_summary.groupby("family", sort=False):
        order = list(dict.fromkeys(part["metric"]))
        wide = part.pivot(index="metric", columns="method", values="mean").loc[order]
        nan = part[part["method"] == "pearson"].set_index("metric")["nan_fraction"]
        render.table(f"family {fam}: mean per-question correlation with log10 compute (Brier negated)",
                     ["metric", *chain_family.METHODS, "undefined (constant)"],
                     ((m, *(_f(wide.loc[m, k], 3) for k in chain_family.METHODS), f"{100 * nan[m]:.1f}%")
                      for m in wide.index))
        inc = result.incorrect
        inc = inc[(inc["family"] == fam) & (inc["method"] == "pearson")].set_index("metric")["mean"]
        render.line("incorrect mass: corr(log p_vocab(incorrect), log compute) = "
                    f"{_f(inc.get('logp_incorrect'), 3)}; corr(log p_vocab(incorrect), log p_vocab(correct)) "
                    "across models = "
                    f"{_f(inc.get('covariation'), 3)} (means over questions, Pearson)")


# ------------------------------------------------------------------------------------------ ladder
@group.command("ladder")
@options.Reading
@Resampling
def ladder(
    source: Annotated[Path, typer.Argument(
        help="Ladder logs: an OLMo-ladder folder (final.json and its CSVs) or a tidy table (run, params, "
             "tokens, task_loss, accuracy, [mode, task]).", show_default=False)],
    task: Annotated[str, typer.Option(help="Task, e.g. mmlu, arc_challenge, hellaswag; 'main' for the "
                                           "paper's eight.")] = "mmlu",
    format: Annotated[str, typer.Option("--format", help="olmo-ladder or tidy.")] = "olmo-ladder",
    target_params: Annotated[str | None, typer.Option("--target-params", "--params",
                                                      help="Target non-embedding parameters N, e.g. 13.2B.")] = None,
    target_tokens: Annotated[str | None, typer.Option("--target-tokens", "--tokens",
                                                      help="Target training tokens D, e.g. 5T.")] = None,
    intermediate: Annotated[str, typer.Option(help="Step-1 quantity: task-loss (bits per byte) or c4 "
                                                   "(C4 loss).")] = "task-loss",
    skip: Annotated[float, options.ranged(low=0, high=1, high_open=True,
                                          help="Fraction of each run's first checkpoints left out of "
                                             "step 2.")] = 0.1,
    moving_avg: Annotated[int, options.ranged(low=1, integer=True,
                                              help="Trailing moving-average window of step 2.")] = 5,
    last_n: Annotated[int, options.ranged(low=1, integer=True,
                                          help="Evaluations averaged for a run's final values.")] = 5,
    anchor: Annotated[bool, typer.Option(help="Add the point (loss 0, accuracy 1) to step 2.")] = True,
    delta: Annotated[float, options.ranged(low=0, low_open=True, help="Huber threshold of step 1 (log units).")] = 1e-3,
    resampling: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Two-step prediction: task loss L(N, D) from the ladder's final checkpoints, accuracy(L) from
    its intermediate checkpoints, chained to the target (N, D).

    Example: scalelaw downstream ladder data/downstream/olmo_ladder --format olmo-ladder --task mmlu
    --params 13202396160 --tokens 5000088518656
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw import artifact
    from scalelaw.families.downstream import ladder as ladder_family
    from scalelaw.families.downstream import olmo_ladder

    check_outputs(out=out, plot=plot)
    n = render.quantity("--target-params", target_params)
    d = render.quantity("--target-tokens", target_tokens)
    if (n is None) != (d is None):
        raise InputError("give both --target-params and --target-tokens (or neither, to predict the "
                         "target runs in the logs)")
    if format not in olmo_ladder.FORMATS:
        raise InputError(f"--format {format!r} is not one of {', '.join(olmo_ladder.FORMATS)}")
    if format == "tidy" and intermediate != "task-loss":
        raise InputError("--intermediate applies to --format olmo-ladder; a tidy table gives task_loss")
    result = ladder_family.predict_ladder(source, task=task, format=format, intermediate=intermediate, params=n,
                                          tokens=d, skip=skip, moving_avg=moving_avg, last_n=last_n,
                                          anchor=anchor, delta=delta, bootstrap=bootstrap, seed=seed,
                                          level=level)
    options.write_result(result, out, plot)
    records = result.records()
    if json:
        payload = {**artifact.header(result.KIND, result.SCHEMA), "format": result.format,
                   "source": result.source, "level": level, "predictions": records}
        if len(records) == 1:
            payload |= records[0]
        render.emit_json(payload)
        return
    _show_ladder(records, level, result.loss_name)
    for text in result.warnings:
        render.warn(text)


def _show_ladder(records: list[dict], level: float, loss_name: str) -> None:
    def actual(r, key, fmt=_f):
        return fmt(r["actual"][key]) if r["actual"] else "-"

    bootstrapped = any(math.isfinite(r["accuracy_lower"]) for r in records)
    note = f" ({100 * level:g}% bootstrap intervals)" if bootstrapped else ""
    render.table(f"ladder predictions: {loss_name} -> accuracy{note}",
                 ["task", "target", "loss", "loss pred", "acc", "step 2 only", "chained", "interval",
                  "error"],
                 ((r["task"], r["target"] or "-", actual(r, "task_loss"), _f(r["task_loss"]),
                   actual(r, "accuracy"), actual(r, "accuracy_from_actual_loss"), _f(r["accuracy"]),
                   render.interval(r["accuracy_lower"], r["accuracy_upper"]),
                   actual(r, "abs_error_points", lambda v: f"{v:+.1f} pts")) for r in records))
    for r in records[:1]:
        s1, s2 = r["step1"], r["step2"]
        render.line(f"step 1 ({r['task']}): L = {s1['E']:.4g} + {s1['A']:.4g} N^-{s1['alpha']:.4f} + "
                    f"{s1['B']:.4g} D^-{s1['beta']:.4f}")
        render.line(f"step 2 ({r['task']}): acc = {s2['a']:.4f} / (1 + exp(-{s2['k']:.4g} "
                    f"(L - {s2['x0']:.4f}))) + {s2['b']:.4f}")


# ---------------------------------------------------------------------------------------- error law
@group.command("error-law")
@options.Reading
@Resampling
@options.Grouping
def error_law(
    file: Annotated[Path, typer.Argument(help="One row per model with its loss and its error (or accuracy), "
                                              "or a folder of lm-evaluation-harness v0.4 results_*.json "
                                              "(the loss from --manifest; error = 1 - mean --metric).",
                                         show_default=False)],
    loss_column: Annotated[str, typer.Option(help="Column of the loss (e.g. C4 loss, nats).")] = "loss",
    error_column: Annotated[str, typer.Option(help="Column of the average top-1 error.")] = "error",
    from_accuracy: Annotated[bool, typer.Option(help="The error column holds accuracy: error = 1 - "
                                                     "accuracy.")] = False,
    loss_fit: Annotated[Path | None, typer.Option(
        help="A loss-law fit (JSON from 'scalelaw fit loss --out') to chain with.")] = None,
    params: Params = None,
    tokens: Tokens = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Other inputs of the loss law as "
                                                                 "COLUMN=VALUE (repeatable or comma-separated).")]
    = None,
    where: Where = None,
    at_loss: Annotated[float | None, options.ranged(low=0, low_open=True,
                                                    help="Predict the error at this loss.")] = None,
    loss: Annotated[str, typer.Option(help="squared (as curve_fit) or huber.")] = "squared",
    format: Format = None,
    manifest: Manifest = None,
    metric: Metric = "acc",
    resampling: dict | None = None,
    grouping: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Fit Err(L) = epsilon - k exp(-gamma L) to (loss, error) pairs; chain it with a loss law.

    Example: scalelaw downstream error-law evals.csv --loss-column c4_loss --error-column error
    --loss-fit fit.json --params 6.9B --tokens 138B
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw.families.downstream import error_law as error_family
    from scalelaw.result import FitResult

    check_outputs(out=out, plot=plot)
    frame = error_family.read_errors(file, loss_column=loss_column, error_column=error_column,
                                     from_accuracy=from_accuracy, where=where,
                                     format=format, metric=metric, **_harness_options(manifest))
    law_fit = inputs = None
    if loss_fit is not None or params is not None or tokens is not None or set_:
        if loss_fit is None:
            raise InputError("--params/--tokens/--set need --loss-fit, the loss law that turns them into a "
                             "loss")
        law_fit = FitResult.from_json(loss_fit, strict=(grouping or {}).get("strict", False))
        inputs = {k: options.number(f"--set {k}", v) for k, v in options.pairs("--set", set_).items()}
        inputs |= {k: v for k, v in (("params", options.one("--params", params)),
                                     ("tokens", options.one("--tokens", tokens))) if v is not None}
        missing = [law_fit.law.column(s) for s in law_fit.law.inputs if law_fit.law.column(s) not in inputs]
        if missing:
            raise InputError(f"the loss law {law_fit.law.name!r} needs {', '.join(missing)}; give "
                             + ", ".join(f"--{m}" if m in ("params", "tokens") else f"--set {m}=VALUE"
                                         for m in missing))
    if grouping["by"] is not None:
        from scalelaw.cli import grouped

        settings = {"at_loss": None if inputs is not None else at_loss, "inputs": inputs, "loss": loss,
                    "bootstrap": bootstrap, "seed": seed, "level": level}
        grouped.run(functools.partial(error_family.analyse, loss_fit=law_fit, **settings), frame, grouping,
                    family="downstream", settings=settings, out=out, plot=plot, json=json)
        return
    result = error_family.analyse(frame, law_fit, at_loss=None if inputs is not None else at_loss,
                                  inputs=inputs, loss=loss, bootstrap=bootstrap, seed=seed, level=level)
    options.write_result(result, out, plot)
    fit, chained = result.fit, result.prediction
    if json:
        intervals = {k: list(v) for k, v in fit.intervals().items()}
        render.emit_json({"params": dict(fit.params), "intervals": intervals,
                          "metrics": dict(fit.metrics), "converged": fit.diagnostics["converged"],
                          "prediction": None if chained is None else chained.to_dict(),
                          "warnings": list(result.warnings)})
        return
    p = fit.params
    render.line(f"Err(L) = {p['epsilon']:.4f} - {p['k']:.4f} exp(-{p['gamma']:.4f} L)  ({len(frame)} models, "
                f"{file.name}; {fit.diagnostics['message']})")
    ranges = fit.intervals()
    if ranges:
        render.line(", ".join(f"{k} {render.interval(*v)}" for k, v in ranges.items())
                    + f"  ({100 * level:g}% bootstrap intervals)")
    m = fit.metrics
    render.line(f"in-sample error: MAE {m['mae']:.4g}, max {m['max_abs_error']:.4g} (error units)")
    if chained is not None:
        render.line(f"loss {chained.loss:.4f} {render.interval(chained.loss_lower, chained.loss_upper)} -> "
                    f"error {chained.error:.4f} {render.interval(chained.error_lower, chained.error_upper)}")
    for text in result.warnings:
        render.warn(text)


# ------------------------------------------------------------------------------------ observational
@group.command("observational")
@options.Reading
def observational(
    file: Annotated[Path, typer.Argument(
        help="Benchmark matrix: one row per model (Model, Model Family, compute as FLOPs or FLOPs (1E21), "
             "and one column per benchmark), or a folder of lm-evaluation-harness v0.4 results_*.json.",
        show_default=False)],
    target: Annotated[str, typer.Option(help="Benchmark to predict (a column of FILE or --target-file).")],
    cutoff_flops: Annotated[str, typer.Option(help="Fit on models with compute <= this (FLOPs), test above, "
                                                   "e.g. 8.4e22.")],
    components: Annotated[int, options.ranged(low=1, integer=True, help="Principal components in the link.")] = 3,
    target_file: Annotated[Path | None, typer.Option(
        help="Another table of scores joined by model, holding the target.")] = None,
    predictor: Annotated[list[str] | None, typer.Option(
        help="Benchmarks used for the PCs (repeatable or comma-separated; default: all but the target).")] = None,
    chance: Annotated[float, options.ranged(low=0, high=1, high_open=True,
        help="Chance score of the target: fit (y - chance) / (1 - chance).")] = 0.0,
    loss: Annotated[str, typer.Option(help="squared (as curve_fit) or huber.")] = "squared",
    delta: Annotated[float, options.ranged(low=0, low_open=True,
                                           help="Huber threshold (score units) with --loss huber.")] = 0.1,
    format: Format = None,
    manifest: Manifest = None,
    params: Annotated[list[str] | None, typer.Option(
        help="With lm-evaluation-harness results: a model's parameters as MODEL=SIZE, e.g. "
             "EleutherAI/pythia-160m=160M (repeatable or comma-separated).")] = None,
    tokens: Annotated[list[str] | None, typer.Option(
        help="With lm-evaluation-harness results: a model's training tokens as MODEL=SIZE.")] = None,
    metric: Metric = "acc",
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Observational scaling: PCs of public benchmark scores, a sigmoid link to the target, fitted
    below a compute cutoff and checked above it.

    Example: scalelaw downstream observational data/downstream/obsscaling/base_llm_benchmark_eval.csv
    --target GSM8K --cutoff-flops 8.4e22
    """
    from scalelaw import artifact
    from scalelaw.families.downstream import observational as obs_family

    check_outputs(out=out, plot=plot)
    cutoff = render.quantity("--cutoff-flops", cutoff_flops)
    predictor = options.split("--predictor", predictor)
    bench = obs_family.read_benchmarks(file, target_file=target_file, format=format, metric=metric,
                                       **_harness_options(manifest, params, tokens))
    result = obs_family.fit_observational(bench, target, cutoff_flops=cutoff, components=components,
                                          predictors=tuple(predictor) if predictor else None, chance=chance,
                                          loss=loss, delta=delta)
    options.write_result(result, out, plot)
    payload = {**artifact.header(result.KIND, result.SCHEMA), "target": target,
               "cutoff_flops": cutoff, "components": components, "predictors": list(result.predictors),
               "chance": chance, "explained_variance": result.pca.explained.tolist(),
               "loadings": result.pca.loadings().to_dict(), "params": dict(result.fit.params),
               "baseline_params": dict(result.baseline.params),
               "errors": result.errors.to_dict(orient="records"),
               "family_checks": result.family_checks.to_dict(orient="records"),
               "models": result.models.to_dict(orient="records"), "notes": list(result.notes)}
    if json:
        render.emit_json(payload)
        return
    for text in result.notes:
        render.note(text)
    explained = ", ".join(f"PC{i + 1} {v:.3f}" for i, v in enumerate(result.pca.explained))
    render.line(f"PCA of {len(result.predictors)} benchmarks on the training models: explained variance "
                f"{explained}")
    units = " (normalised by chance)" if chance else ""
    render.table(f"{target}{units}: fit <= {render.number(cutoff)} FLOPs, test above",
                 ["split", "predictor", "models", "MSE", "MAE"],
                 ((r["split"], r["predictor"], r["n"], f"{r['mse']:.4g}", f"{r['mae']:.4g}")
                  for _, r in result.errors.iterrows()))
    test = result.models[result.models["split"] == "test"].sort_values("flops")
    render.table("held-out models",
                 ["model", "family", "compute (FLOPs)", "actual", "predicted", "log-compute"],
                 ((r["model"], r["family"], render.number(r["flops"]), _f(r[target], 3),
                   _f(r["predicted"], 3), _f(r["baseline"], 3)) for _, r in test.iterrows()))
    for text in result.warnings:
        render.warn(text)
