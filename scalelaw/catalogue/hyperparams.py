"""Laws of the hyperparams family (lr the peak learning rate, B the batch size in tokens).

* ``hyperparams.plateau_surface``: the relative excess loss near a sweep's optimum as a convex
  quadratic in u = ln(lr / lr_best) and v = ln(B / B_best).
* ``hyperparams.lr_N_D``, ``hyperparams.lr_C``, ``hyperparams.batch_D``, ``hyperparams.batch_N_D``,
  ``hyperparams.batch_C``: the centred power laws fitted to a sweep, e.g.
  lr = c (N / N0)^alpha_N (D / D0)^alpha_D.  The centres are the geometric means of the fitted
  rows, so these are parametrised laws (:func:`form_law`); the canonical instances are centred at
  N0 = 1e9 parameters, D0 = 1e11 tokens and C0 = 6e20 FLOPs.
* ``hyperparams.steplaw_lr``, ``hyperparams.steplaw_batch``, ``hyperparams.deepseek_lr``,
  ``hyperparams.deepseek_batch``, ``hyperparams.porian_lr``, ``hyperparams.porian_batch``: the
  published laws, target = c X^alpha_X ... (their numbers are the papers', not fitted;
  :func:`published_law`).
"""

from __future__ import annotations

from scalelaw.laws import Law, Param, register, register_builder

#: What each law predicts: its target column.
TARGETS = {"lr": "lr", "batch": "batch_size"}
#: Starting exponents of the fitted power laws.
EXPONENT_STARTS = (-1.0, -0.5, 0.0, 0.5, 1.0)
#: Columns and meanings of the fitted laws' inputs.
COLUMNS = {"N": "params", "D": "tokens", "C": "flops"}
WORDS = {"N": "model size N", "D": "tokens D", "C": "compute C = 6 N D"}
#: Columns and meanings of the published laws' inputs (C counts non-embedding FLOPs there).
PUBLISHED_COLUMNS = {"N": "params", "D": "tokens", "C": "nonembedding_flops"}
_MEANING = {"N": "model size N", "D": "training tokens D", "C": "non-embedding training FLOPs C"}

SURFACE = register(Law(
    name="hyperparams.plateau_surface",
    formula="h + g_u * u + g_v * v + 0.5 * H_uu * u**2 + H_uv * u * v + 0.5 * H_vv * v**2",
    inputs=("u", "v"),
    params=(
        Param("h", doc="excess at the best run (fraction of the loss)"),
        Param("g_u", doc="slope in ln lr"),
        Param("g_v", doc="slope in ln B"),
        Param("H_uu", doc="curvature in ln lr, per (ln unit)^2"),
        Param("H_uv", doc="cross curvature"),
        Param("H_vv", doc="curvature in ln B"),
    ),
    space="linear",
    target="excess",
    doc="Relative excess loss near a sweep's optimum as a quadratic in (ln lr, ln B).",
))


def form_law(kind: str, form: str, centres: dict[str, float]) -> Law:
    """The centred power law of a form (``kind`` ``"lr"`` or ``"batch"``; ``form`` ``"N,D"``,
    ``"C"``, ``"D"``...) with the centres (N0, D0 or C0, in the inputs' units) of ``centres``."""
    symbols = tuple(form.split(","))
    target = TARGETS[kind]
    unit = "tokens" if kind == "batch" else "peak learning rate"
    terms = " * ".join(f"({s} / {centres[s]!r})**alpha_{s}" for s in symbols)
    return Law(
        name=f"hyperparams.{kind}_{'_'.join(symbols)}",
        formula=f"c * {terms}",
        inputs=symbols,
        params=(
            Param("c", log=True, lower=0.0, doc=f"optimal {target} at the centre ({unit})"),
            *(Param(f"alpha_{s}", starts=EXPONENT_STARTS, doc=f"exponent of {WORDS[s]}") for s in symbols),
        ),
        columns=tuple((s, COLUMNS[s]) for s in symbols),
        target=target,
        doc=f"Optimal {target} ({unit}) as a power law of {', '.join(WORDS[s] for s in symbols)}.",
    )


#: Centres of the canonical instances of the fitted forms.
CANONICAL_CENTRES = {"N": 1e9, "D": 1e11, "C": 6e20}
FORMS = {"lr": ("N,D", "C"), "batch": ("D", "N,D", "C")}
for _kind, _forms in FORMS.items():
    for _form in _forms:
        register_builder(form_law, kind=_kind, form=_form,
                         centres={s: CANONICAL_CENTRES[s] for s in _form.split(",")})


def published_law(name: str, target: str, symbols: tuple[str, ...],
                  columns: dict[str, str] | None = None) -> Law:
    """A published law ``target = c * X^alpha_X * ...`` over ``symbols`` (N, D or C)."""
    columns = columns or PUBLISHED_COLUMNS
    return Law(
        name=name,
        formula="c * " + " * ".join(f"{s}**alpha_{s}" for s in symbols),
        inputs=tuple(symbols),
        params=(
            Param("c", log=True, lower=0.0, doc=f"{target} at every input = 1"),
            *(Param(f"alpha_{s}", starts=EXPONENT_STARTS, doc=f"exponent of {_MEANING[s]}") for s in symbols),
        ),
        columns=tuple((s, columns[s]) for s in symbols),
        target=target,
        doc=f"Published optimal {target}: {name}.",
    )


PUBLISHED = {
    "steplaw": {"lr": ("N", "D"), "batch_size": ("D",)},
    "deepseek": {"lr": ("C",), "batch_size": ("C",)},
    "porian": {"lr": ("N",), "batch_size": ("N",)},
}
for _source, _laws in PUBLISHED.items():
    for _target, _symbols in _laws.items():
        _short = "lr" if _target == "lr" else "batch"
        register(published_law(f"hyperparams.{_source}_{_short}", _target, _symbols))
