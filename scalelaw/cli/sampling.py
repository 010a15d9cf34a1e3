"""Commands of the sampling family: sampling passk, fit, plan, verifier, check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import SEED, Json, Out, Plot, Quiet, Resampling, Seed, Where, check_outputs
from scalelaw.errors import InputError

if TYPE_CHECKING:
    import numpy as np

group = typer.Typer(help="Repeated sampling: pass@k, coverage laws, sample budgets, imperfect verifiers.",
                    no_args_is_help=True)
app.add_typer(group, name="sampling")

File = Annotated[Path, typer.Argument(help="CSV/TSV/JSON(L)/parquet/Excel: one row per (model, problem) with "
                                           "n_samples and n_correct (or n and c), or one row per sample with a "
                                           "0/1 'correct' column.",
                                      show_default=False)]
Space = Annotated[str, typer.Option(help="Loss space of the power law: log-coverage (Brown et al., 37-point "
                                         "grid), coverage, or neglog-loglog (Schaeffer et al.'s least "
                                         "squares).")]
Scale = Annotated[str, typer.Option(help="Beta-binomial scale: fixed ((P+1)/P max c/n, as Schaeffer et al.), "
                                         "ml (profile likelihood) or a number in (0, 1].")]


def _ks(option: str, items: list[str] | str) -> np.ndarray:
    from scalelaw.families.sampling.passk import check_k

    return check_k(options.numbers(option, items, positive=False), name=option)


def _scale(text: str):
    from scalelaw.families.sampling.distributional import SCALES

    if text in SCALES:
        return text
    try:
        return float(text)
    except ValueError as err:
        raise InputError(f"--scale must be fixed, ml or a number in (0, 1], not {text!r}") from err


def _read(file: Path, quiet: bool, where: list[str] | None = None):
    from scalelaw.families import sampling as family

    tidy, notes = family.read_counts(file, where=where)
    if not quiet:
        for text in notes:
            render.note(text)
    return tidy


@group.command()
@options.Reading
@Resampling
def passk(
    file: File,
    k: Annotated[list[str] | None, typer.Option(help="Samples per problem: positive integers, comma-separated "
                                                     "or repeated (default 1,10,100).")] = None,
    resampling: dict | None = None,
    nan_beyond_n: Annotated[bool, typer.Option(help="Give NaN (with a warning) for k above a problem's "
                                                    "samples instead of an error.")] = False,
    where: Where = None,
    json: Json = False,
) -> None:
    """Unbiased pass@k and pass^k per model (mean over problems), with bootstrap-over-problems intervals.

    Example: scalelaw sampling passk data/sampling/llmonkeys_pythia_math_per_problem.csv --k 1,10,100,10000
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw.answers import sampling as answers
    from scalelaw.io import read_table

    _ks("--k", k or answers.DEFAULT_K)
    rows = read_table(file, where=where, family="sampling")
    answer = answers.passk(rows=rows, k=k, bootstrap=bootstrap, seed=seed, level=level, nan_beyond_n=nan_beyond_n)
    table, notes = answer.result
    if not json:
        for text in notes:
            render.note(text)
    if json:
        render.emit_json(answer.payload)
        return
    pct = f"{100 * level:g}%"
    render.table(f"pass@k (mean over problems) and pass^k, {pct} intervals from {bootstrap} resamples "
                 "of problems",
                 ["model", "problems", "k", "pass@k", f"{pct} interval", "pass^k", f"{pct} interval"],
                 ((r.model, r.problems, r.k, f"{r.coverage:.4f}", render.interval(r.lower, r.upper),
                   f"{r.pass_all:.4g}", render.interval(r.pass_all_lower, r.pass_all_upper))
                  for r in table.itertuples()))


@group.command()
@options.Reading
@Resampling
@options.Grouping
def fit(
    file: File,
    method: Annotated[str, typer.Option(help="powerlaw (coverage = exp(-A k^-beta)) or beta-binomial "
                                             "(Schaeffer et al.'s distributional estimator).")] = "powerlaw",
    space: Space = "log-coverage",
    grid: Annotated[list[str] | None, typer.Option("--k-grid", help="k values to fit: brown (37 points), schaeffer "
                                                                    "(101) or integers (comma-separated or "
                                                                    "repeated); default: the space's preset.")]
    = None,
    loss: Annotated[str, typer.Option(help="Residual loss of the power law: squared or huber.")] = "squared",
    scale: Scale = "fixed",
    resampling: dict | None = None,
    grouping: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    where: Where = None,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit a coverage law per model: A, beta and Brown et al.'s a = -A, b = -beta (or the Beta-binomial);
    with --by, every model per group of rows.

    Example: scalelaw sampling fit data/sampling/llmonkeys_pythia_math_per_problem.csv --out fit.json
    --plot coverage.png
    """
    bootstrap, seed, level = resampling.values()
    from scalelaw.families import sampling as family
    from scalelaw.plots import sampling as plots
    from scalelaw.plots.common import figure_bytes

    check_outputs(out=out, plot=plot)
    preset = options.split("--k-grid", grid)
    grid = (preset[0] if preset[0] in ("brown", "schaeffer") else _ks("--k-grid", preset)) if preset else None
    from scalelaw.cli import grouped

    settings = {"method": method, "space": space, "grid": grid, "loss": loss, "scale": _scale(scale),
                "bootstrap": bootstrap, "seed": seed, "level": level}
    if grouping["by"] is not None:
        from scalelaw.io import read_table

        rows = read_table(file, where=where, family="sampling")
        result = family.fit_groups(rows, by=grouping["by"], strict=grouping["strict"], **settings,
                                   **grouped.parallelism(grouping))
        grouped.show(result, out=out, plot=plot, json=json)
        return
    tidy = _read(file, json, where)
    slow = method != "powerlaw" or bootstrap > 0
    with render.progress("fitting", enabled=slow and not (json or quiet)) as callback:
        result = family.fit_coverage(tidy, **settings, progress=callback, strict=grouping["strict"],
                                     **grouped.parallelism(grouping))
    figure = figure_bytes(plots.coverage_curves(result), plot) if plot else None
    options.write_outputs((out, result.to_json() if out else None), (plot, figure))
    summary = family.summary(result)
    method = result.info["method"]
    if json:
        models = summary.to_dict(orient="index")
        render.emit_json({"method": method, "settings": dict(result.settings), "models": models,
                          "notes": list(result.warnings)})
        return
    pct = f"{100 * level:g}%"
    if method == "powerlaw":
        render.table(f"coverage = exp(-A k^-beta), loss in {space} space; Brown et al.: log c = a k^b",
                     ["model", "A", f"{pct} interval", "beta", f"{pct} interval", "a", "b",
                      "|fit - cov| mean ± std"],
                     ((m, f"{r.A:.4g}", render.interval(r.A_lower, r.A_upper), f"{r.beta:.4g}",
                       render.interval(r.beta_lower, r.beta_upper), f"{r.a:.4g}", f"{r.b:.4g}",
                       f"{r.error_mean:.4f} ± {r.error_std:.4f}") for m, r in summary.iterrows()))
    else:
        window = result.settings["window"]
        render.table("scaled Beta-binomial (pass@1 = s u, u ~ Beta(alpha, beta)) by maximum likelihood",
                     ["model", "alpha = asymptotic exponent", f"{pct} interval",
                      f"window slope (k {window[0]}..{window[-1]})", f"{pct} interval", "beta", "scale s",
                      "NLL / problem", "|fit - cov| mean"],
                     ((m, f"{r.alpha:.4f}", render.interval(r.alpha_lower, r.alpha_upper),
                       f"{r.window_slope:.4f}", render.interval(r.window_slope_lower, r.window_slope_upper),
                       f"{r.beta:.4g}",
                       f"{r.scale:.4g}", f"{r.nll_per_problem:.5f}", f"{r.error_mean:.4f}")
                      for m, r in summary.iterrows()))
        render.line("alpha is the exponent as k -> infinity (-log pass_D@k ~ A k^-alpha); the window slope "
                    "is what a power law fitted over the window sees")
    for text in result.warnings:
        render.note(text)


@group.command()
def plan(
    fit_file: Annotated[Path, typer.Argument(help="Artifact written by 'sampling fit --out'.",
                                             show_default=False)],
    target: Annotated[float, options.ranged(low=0, high=1, low_open=True, high_open=True,
                                            help="Coverage to reach.")],
    cost_per_sample: Annotated[float | None, options.ranged(low=0, low_open=True,
                                                            help="Cost of one sample (any currency), all "
                                                               "models.")] = None,
    cost: Annotated[list[str] | None, typer.Option(help="Per-model cost of one sample as MODEL=COST "
                                                        "(repeatable or comma-separated; overrides "
                                                        "--cost-per-sample).")] = None,
    problems: Annotated[int | None, options.ranged(low=1, integer=True,
                                                   help="Number of problems to budget for (default: those "
                                                      "fitted).")] = None,
    group: Annotated[str | None, typer.Option("--group", help="For a fit made with --by: the group to plan "
                                                              "for (its values joined by /, e.g. MATH).")] = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
    strict: options.StrictArtifact = False,
) -> None:
    """Samples per problem that reach a target coverage, per model, with interval and cost.

    Example: scalelaw sampling plan fit.json --target 0.5 --cost-per-sample 0.002 --out plan.json
    """
    from scalelaw import load
    from scalelaw.answers import sampling as answers
    from scalelaw.families import sampling as family
    from scalelaw.families.sampling.budget import check_target

    check_outputs(out=out, plot=plot)
    check_target(target)
    fit = family.grouped.member(load(fit_file, strict=strict), group, source=str(fit_file))
    answer = answers.plan(fit, target=target, cost_per_sample=cost_per_sample, cost=cost, problems=problems)
    result = answer.result
    table = result.table
    options.write_result(result, out, plot)
    if json:
        render.emit_json(answer.payload)
        return
    pct = f"{100 * result.level:g}%"
    priced = cost_per_sample is not None or bool(cost)
    columns = ["model", "samples per problem", f"k* ({pct} interval)", "coverage at samples"]
    if priced:
        columns += ["cost per problem", f"{pct} interval", "total cost", "problems"]
    rows = []
    for r in table.itertuples():
        row = [r.model, render.number(r.samples),
               f"{render.number(r.k)} {render.interval(r.k_lower, r.k_upper)}", f"{r.coverage:.4f}"]
        if priced:
            row += [render.number(r.cost_per_problem),
                    render.interval(r.cost_per_problem_lower, r.cost_per_problem_upper),
                    render.number(r.total_cost), r.problems]
        rows.append(row)
    render.table(f"samples for coverage {target:g} ({result.method} fit)", columns, rows)
    if priced and len(table) > 1:
        render.line(f"cheapest: {table['model'].iloc[0]}")
    for text in result.warnings:
        render.warn(text)


@group.command()
@options.Reading
def verifier(
    rates: Annotated[list[str] | None, typer.Option(help="Per task type, chance one sample is correct, e.g. "
                                                         "0.87,0.13 (comma-separated or repeated).")] = None,
    weights: Annotated[list[str] | None, typer.Option(help="Share of each task type, summing to 1 "
                                                           "(comma-separated or repeated).")] = None,
    completeness: Annotated[float | None, options.ranged(low=0, high=1,
                                                         help="P(verifier accepts | correct).")]
    = None,
    soundness: Annotated[float | None, options.ranged(low=0, high=1,
                                                      help="P(verifier rejects | wrong).")] = None,
    fp_cost: Annotated[list[str] | None, typer.Option(help="Cost of a false positive relative to +1 for a "
                                                           "correct answer; several comma-separated or repeated "
                                                           "(default 1).")] = None,
    counts: Annotated[Path | None, typer.Option(help="Per-problem counts with n_samples, n_correct, "
                                                     "n_accepted and n_accepted_correct (instead of rates).")]
    = None,
    max_k: Annotated[int | None, options.ranged(low=1, integer=True,
                                                help="Largest number of samples considered (default 1000, or a "
                                                   "problem's samples with --counts).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the plan artifact (JSON) here (one --fp-cost).")]
    = None,
    plot: Plot = None,
    where: Where = None,
    json: Json = False,
) -> None:
    """Accuracy ceiling and the best number of samples K under an imperfect verifier (0 = abstain).

    Example: scalelaw sampling verifier --rates 0.87,0.13 --weights 0.58,0.42 --completeness 1
    --soundness 0.75 --fp-cost 1
    """
    from scalelaw.families import sampling as family
    from scalelaw.plots import sampling as plots
    from scalelaw.plots.common import figure_bytes

    check_outputs(out=out, plot=plot)
    costs = options.numbers("--fp-cost", fp_cost or "1", positive=False)
    if out is not None and len(costs) > 1:
        raise InputError(f"--out writes one plan; give one --fp-cost with --out, not {len(costs)}")
    plans: dict[str, object] = {}
    results = []
    if counts is not None:
        if any(v is not None for v in (rates, weights, completeness, soundness)):
            raise InputError("give either --counts or --rates/--weights/--completeness/--soundness, not both")
        tidy = _read(counts, json, where)
        for fp in costs:
            results.append(family.verifier_from_counts(tidy, fp_cost=fp, max_k=max_k))
            for model, p in results[-1].items():
                plans[f"{model}, fp cost {fp:g}" if len(costs) > 1 else model] = p
    else:
        given = (("--rates", rates), ("--weights", weights), ("--completeness", completeness),
                 ("--soundness", soundness))
        missing = [name for name, value in given if value is None]
        if missing:
            raise InputError(f"missing {', '.join(missing)}; give rates, weights, completeness and "
                             "soundness, or --counts FILE")
        for fp in costs:
            results.append(family.verifier_from_rates(
                options.numbers("--rates", rates, positive=False),
                options.numbers("--weights", weights, positive=False), completeness=completeness,
                soundness=soundness, fp_cost=fp, max_k=1000 if max_k is None else max_k))
            plans[f"fp cost {fp:g}"] = results[-1]
    figure = figure_bytes(plots.utility_curves(plans), plot) if plot else None
    options.write_outputs((out, results[0].to_json() if out else None), (plot, figure))
    if json:
        numbers = {label: p.numbers() for label, p in plans.items()}
        if len(numbers) == 1:
            render.emit_json(next(iter(numbers.values())))
        else:
            render.emit_json({"plans": numbers})
        return
    render.table("imperfect verifier: sample until accepted, at most K",
                 ["case", "K_opt", "U(K_opt)", "U(K -> inf)", "accuracy ceiling", ""],
                 ((label, p.k_opt if p.k_opt else "0 (abstain)", f"{p.utility:.4f}", f"{p.utility_limit:.4f}",
                   f"{p.ceiling:.4f}", "U never falls with K" if p.increasing else "")
                  for label, p in plans.items()))
    for label, p in plans.items():
        if p.estimates:
            e = p.estimates
            render.line(f"{label}: verifier completeness {e['completeness']:.4f}, soundness "
                        f"{e['soundness']:.4f}; never accepts {100 * e['never_accepted']:.1f}% of problems")
        for text in p.warnings:
            render.note(f"{label}: {text}")


@group.command()
@options.Reading
def check(
    file: File,
    samples: Annotated[int, options.ranged(low=1, integer=True,
                                           help="Small budget: fit on k <= this, or on this many samples per "
                                              "problem (subsampled).")] = 100,
    target_k: Annotated[int, options.ranged(low=1, integer=True,
                                            help="Large budget at which predictions are compared with the "
                                               "data.")] = 10000,
    space: Space = "log-coverage",
    scale: Scale = "fixed",
    seed: Seed = SEED,
    where: Where = None,
    json: Json = False,
) -> None:
    """Extrapolation check: fit on a small budget, predict coverage (and the exponent) at a large one.

    Example: scalelaw sampling check data/sampling/llmonkeys_pythia_math_per_problem.csv --samples 100
    --target-k 10000
    """
    from scalelaw.families import sampling as family

    tidy = _read(file, json, where)
    cov = family.extrapolation_check(tidy, samples=samples, target_k=target_k, space=space,
                                     scale=_scale(scale), seed=seed)
    exp = family.exponent_check(tidy, samples=samples, target_k=target_k, scale=_scale(scale), seed=seed)
    if json:
        render.emit_json({"samples": samples, "target_k": target_k, "coverage": cov.to_dict(orient="records"),
                          "exponent": exp.to_dict(orient="records")})
        return
    render.table(f"coverage at k = {target_k} predicted from {samples} samples",
                 ["model", "estimator", "observed", "predicted", "error"],
                 ((r.model, r.estimator, f"{r.observed:.4f}", f"{r.predicted:.4f}", f"{r.error:+.4f}")
                  for r in cov.itertuples()))
    for name, part in cov.groupby("estimator", sort=False):
        render.line(f"mean |error| {name}: {part['abs_error'].mean():.4f}")
    render.table(f"exponent from {samples} samples per problem vs full-data least squares (k <= {target_k})",
                 ["model", "estimator", "reference", "estimate", "relative error"],
                 ((r.model, r.estimator, f"{r.reference:.4f}", f"{r.estimate:.4f}", f"{r.relative_error:.3f}")
                  for r in exp.itertuples()))
    for name, part in exp.groupby("estimator", sort=False):
        render.line(f"mean relative error {name}: {part['relative_error'].mean():.3f}")
