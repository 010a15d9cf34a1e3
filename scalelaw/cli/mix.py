"""Commands of the mixing laws: ``scalelaw mix fit / evaluate / optimize``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.cli.options import BOOTSTRAP, SEED, Bootstrap, Json, Out, Plot, Seed, check_outputs
from scalelaw.errors import InputError

if TYPE_CHECKING:
    from scalelaw.result import FitResult

mix_group = typer.Typer(
    help="Mixing laws: predict the loss of untried data mixtures and pick the best one.", no_args_is_help=True
)
app.add_typer(mix_group, name="mix")

MixFile = Annotated[
    Path,
    typer.Argument(
        help="Mixtures: one column per training domain (shares summing to 1), optional 'index'.",
        show_default=False,
    ),
]
LossFile = Annotated[
    Path,
    typer.Argument(
        help="Losses: one column per validation loss, optional 'index' "
        "(joined to the mixtures on it, else by row order).",
        show_default=False,
    ),
]
FitFile = Annotated[
    Path, typer.Argument(help="Fit artifact written by 'scalelaw mix fit --out'.", show_default=False)
]


@mix_group.command("fit")
@options.Reading
@options.Grouping
def mix_fit(
    mixtures: MixFile,
    losses: LossFile,
    target: Annotated[
        str,
        typer.Option(help="Loss column to model, e.g. metric/the_pile_pile_cc_val_loss.", show_default=False),
    ],
    law: Annotated[str, typer.Option(help="mixing_law (c + k exp(sum_j t_j r_j)) or linear.")] = "mixing_law",
    t_bound: Annotated[float, options.ranged(help="Bound on every t_j of mixing_law, in log-loss units per unit "
                                                 "share (0: unbounded); keeps a fit on few mixtures from k -> 0 "
                                                 "with huge t_j. Example: --t-bound 5.", low=0, high=1e6)] = 10.0,
    bootstrap: Bootstrap = BOOTSTRAP,
    seed: Seed = SEED,
    grouping: dict | None = None,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Fit a mixing law to training mixtures and their losses (with --by, one per group of runs).

    Example: scalelaw mix fit data/mixture/train_mixture_1m.csv data/mixture/train_pile_loss_1m.csv
    --target metric/the_pile_pile_cc_val_loss --out mix.json
    """
    from scalelaw import artifact
    from scalelaw.families.transport import mixing as mix_family
    from scalelaw.plots import transport as figures
    from scalelaw.plots.common import figure_bytes

    check_outputs(out=out, plot=plot)
    if law not in mix_family.LAWS:
        raise InputError(f"--law must be one of {', '.join(mix_family.LAWS)}, not {law!r}")
    by = options.split("--by", grouping["by"])
    frame, domains = mix_family.read_mixtures(mixtures, losses, target=target, keep=by)
    if by:
        from scalelaw.cli import grouped

        settings = {"law": law, "bootstrap": bootstrap, "seed": seed, "t_bound": t_bound or None}
        grouped.run(functools.partial(mix_family.fit_mixture, domains=domains, target=target, **settings), frame,
                    grouping, family="transport", settings=settings | {"target": target}, out=out, plot=plot, json=json)
        return
    fit = mix_family.fit_mixture(frame, domains, target, law=law, bootstrap=bootstrap, seed=seed,
                                 t_bound=t_bound or None)
    payload = fit.to_dict()
    figure = None
    if plot is not None:
        fitted = mix_family.evaluate(fit, frame)
        figure = figure_bytes(figures.mixing_predictions({losses.name: fitted}, target=target), plot)
    options.write_outputs((out, artifact.dumps(payload)), (plot, figure))
    if json:
        render.emit_json(payload)
        return
    render.line(f"{fit.law.name} fitted to {fit.data['rows']} mixtures of {len(domains)} domains -> {target}")
    render.table(
        "parameters",
        ["parameter", "value", "domain"],
        ((name, f"{fit.params[name]:.5g}", _domain_of(fit, name)) for name in fit.law.param_names),
    )
    m = fit.metrics
    render.line(
        f"in-sample MAE {m['mae']:.4g}, max {m['max_abs_error']:.4g} (loss units); "
        f"{fit.diagnostics['message']}"
    )
    if fit.diagnostics.get("at_bound"):
        render.warn(f"parameters at a bound: {', '.join(fit.diagnostics['at_bound'])}; the data do not pin "
                    "the law down (too few mixtures for its domains?)")


def _domain_of(fit: FitResult, name: str) -> str:
    suffix = name.rsplit("_", 1)[-1]
    return fit.law.column(f"r_{suffix}") if "_" in name and suffix.isdigit() else ""


@mix_group.command("evaluate")
@options.Reading
def mix_evaluate(
    fit_file: FitFile,
    mixtures: MixFile,
    losses: LossFile,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """Rank correlation (Spearman) and MAE of a fitted mixing law on held-out mixtures.

    Example: scalelaw mix evaluate mix.json data/mixture/test_mixture_1B.csv
    data/mixture/test_pile_loss_1B.csv
    """
    from scalelaw.families.transport import mixing as mix_family
    from scalelaw.plots import transport as figures
    from scalelaw.plots.common import figure_bytes
    from scalelaw.result import FitResult

    check_outputs(plot=plot)
    fit = FitResult.from_json(fit_file)
    frame, _ = mix_family.read_mixtures(
        mixtures, losses, target=fit.law.target, domains=mix_family.domains_of(fit.law)
    )
    result = mix_family.evaluate(fit, frame)
    if plot is not None:
        figure = figure_bytes(
            figures.mixing_predictions({losses.name: result}, target=fit.law.target), plot
        )
        options.write_outputs((plot, figure), note=False)
    if json:
        render.emit_json({k: result[k] for k in ("spearman", "mae", "n", "target", "law", "warnings")})
        return
    render.line(
        f"{fit.law.name} on {result['n']} held-out mixtures ({losses.name}): Spearman "
        f"{result['spearman']:.4f}, MAE {result['mae']:.4g} ({fit.law.target})"
    )
    for text in result["warnings"]:
        render.warn(text)
    render.wrote(plot)


@mix_group.command("optimize")
def mix_optimize(
    fit_file: FitFile,
    caps: Annotated[
        list[str] | None,
        typer.Option("--cap", help="Upper bound on a domain's share, DOMAIN=VALUE (repeatable or comma-separated)."),
    ] = None,
    max_share: Annotated[float | None, options.ranged(low=0, high=1, low_open=True,
                                                      help="Upper bound on every domain's share.")] = None,
    maximize: Annotated[
        bool, typer.Option("--maximize", help="Maximise instead (a metric, not a loss).")
    ] = False,
    out: Out = None,
    plot: Plot = None,
    json: Json = False,
) -> None:
    """The best mixture on the simplex under a fitted mixing law (optionally with caps).

    Example: scalelaw mix optimize mix.json --max-share 0.3 --out optimum.json
    """
    from scalelaw.answers import mixing as answers
    from scalelaw.result import FitResult

    check_outputs(out=out, plot=plot)
    fit = FitResult.from_json(fit_file)
    answer = answers.optimal(fit, cap=caps, max_share=max_share, maximize=maximize)
    best = answer.result
    options.write_result(best, out, plot)
    if json:
        render.emit_json(answer.payload)
        return
    render.table(
        f"best mixture under {fit.law.name} ({'max' if maximize else 'min'} {fit.law.target})",
        ["domain", "share"],
        ((d, f"{v:.4f}") for d, v in best.mixture.items() if v > 5e-5),
    )
    render.line(f"predicted {fit.law.target}: {best.predicted:.5g}; {best.path.message}")
    for text in best.warnings:
        render.warn(text)
