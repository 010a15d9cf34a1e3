"""Laws of the downstream family.

* ``downstream.error_law`` (Gadre et al. 2024): average top-1 error Err(L) = epsilon - k exp(-gamma L)
  of a model with loss L.
* ``downstream.gadre_loss``: their loss law L(N, M) = alpha N^eta + beta 6^(eta/2) (M N)^eta + E,
  M = D / N tokens per parameter.
* ``downstream.ladder_task_loss`` and ``downstream.ladder_sigmoid``: the two steps of the OLMo
  ladder (Bhagia et al. 2024), task loss L(N, D) and accuracy as a sigmoid of the task loss.
* ``downstream.observational_sigmoid`` (Ruan et al. 2024): y = (1 - b) sigmoid(c + w . x) + b on
  any number of inputs (principal components); a parametrised law
  (:func:`observational_sigmoid`) whose canonical instance has two inputs, PC1 and PC2.
"""

from __future__ import annotations

from dataclasses import replace

from scalelaw.laws import CATALOGUE, EXPONENT_STARTS, Law, Param, register, register_builder

ERROR_LAW = register(Law(
    name="downstream.error_law",
    formula="epsilon - k * exp(-gamma * L)",
    inputs=("L",),
    params=(Param("epsilon", doc="error as the loss grows without bound (near chance), fraction"),
            Param("gamma", lower=0.0, starts=(0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5, 4.0),
                  doc="decay rate per unit of loss"),
            Param("k", lower=0.0, doc="amplitude, fraction")),
    space="linear",
    columns=(("L", "loss"),),
    target="error",
    doc="Gadre et al. (2024): average top-1 error Err(L) = epsilon - k exp(-gamma L), L the loss.",
))

GADRE_LOSS_LAW = register(Law(
    name="downstream.gadre_loss",
    formula="alpha * N**eta + beta * 6**(eta / 2) * (M * N)**eta + E",
    inputs=("N", "M"),
    params=(Param("E", doc="irreducible loss, nats per token"),
            Param("alpha", doc="model-size term amplitude"),
            Param("beta", doc="over-training term amplitude"),
            Param("eta", upper=0.0, starts=(-0.05, -0.1, -0.2, -0.3, -0.5), doc="exponent (negative)")),
    space="linear",
    columns=(("N", "params"), ("M", "tokens_per_param")),
    target="loss",
    doc="Gadre et al. (2024): L(N, M) = alpha N^eta + beta 6^(eta/2) (M N)^eta + E, M = D / N tokens "
        "per parameter (equivalently E + (a M^eta' + b M^-eta') C^eta' with C = 6 N D).",
))

LADDER_TASK_LOSS = register(Law(
    name="downstream.ladder_task_loss",
    formula="E + A * N**-alpha + B * D**-beta",
    inputs=("N", "D"),
    params=(Param("E", lower=0.0, doc="irreducible task loss, bits per byte"),
            Param("A", log=True, lower=1.0, doc="model-size term amplitude, bits per byte"),
            Param("B", log=True, lower=1.0, doc="data term amplitude, bits per byte"),
            Param("alpha", lower=0.0, starts=EXPONENT_STARTS, doc="exponent of non-embedding parameters"),
            Param("beta", lower=0.0, starts=EXPONENT_STARTS, doc="exponent of training tokens")),
    columns=(("N", "params"), ("D", "tokens")),
    target="task_loss",
    doc="OLMo ladder step 1: task loss L(N, D) = E + A N^-alpha + B D^-beta (log residuals).",
))

LADDER_SIGMOID = register(replace(
    CATALOGUE["sigmoid"],
    name="downstream.ladder_sigmoid",
    params=(Param("a", lower=-1.0, upper=0.0, doc="height (negative: accuracy falls with loss)"),
            Param("b", lower=0.0, upper=1.0, doc="accuracy at zero loss"),
            Param("k", lower=0.0, starts=(1.0, 3.0, 10.0, 30.0), doc="steepness per unit of task loss"),
            Param("x0", lower=0.0, starts=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0), doc="midpoint, task-loss units")),
    columns=(("x", "task_loss"),),
    target="accuracy",
    doc="OLMo ladder step 2: accuracy = a / (1 + exp(-k (L - x0))) + b, a in [-1, 0], b in [0, 1].",
))

#: Largest floor b of the observational link (a chance score of at most 20%).
FLOOR_MAX = 0.2


def observational_sigmoid(n_inputs: int = 2, *, names: tuple[str, ...] | None = None,
                          floor_max: float = FLOOR_MAX, target: str = "y") -> Law:
    """The sigmoid link y = (1 - b) sigmoid(c + sum_j w_j x_j) + b on ``n_inputs`` inputs
    (named ``names``, by default PC1, PC2, ...), b in [0, ``floor_max``]."""
    names = tuple(names or (f"PC{j + 1}" for j in range(n_inputs)))
    terms = " + ".join(f"w{j + 1} * {name}" for j, name in enumerate(names))
    weights = tuple(Param(f"w{j + 1}", starts=(-10.0, -1.0, 1.0, 10.0) if n_inputs <= 3 else (-3.0, 3.0),
                          doc=f"weight of {name}") for j, name in enumerate(names))
    return Law(name="downstream.observational_sigmoid",
               formula=f"(1 - b) / (1 + exp(-(c + {terms}))) + b",
               inputs=names,
               params=(Param("b", lower=0.0, upper=floor_max, doc="floor of the score (e.g. chance)"),
                       Param("c", starts=(-3.0, 0.0, 3.0), doc="intercept, logit units"), *weights),
               space="linear", columns=tuple((n, n) for n in names), target=target,
               doc="Observational scaling link: y = (1 - b) sigmoid(c + w . x) + b, b in [0, 0.2].")


OBSERVATIONAL_SIGMOID = register_builder(observational_sigmoid, n_inputs=2)
