"""Robust losses on residuals: the objective is the (weighted) sum of rho(r) over points.

Each loss gives rho, its derivative psi and the iteratively-reweighted-least-squares weight
psi(r)/r, which is what the batched optimiser needs.  The sum, not the mean, is what the engine
minimises: a mean-reduced Huber with a small delta makes quasi-Newton methods stop early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from scalelaw.errors import LawError

LOSSES = ("huber", "squared", "huber-likelihood", "asymmetric")


@dataclass(frozen=True)
class Huber:
    """Huber loss: r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond (Hoffmann et al. 2022).

    ``relax`` scales the reweighting curvature delta/|r| of points beyond delta.  The full
    curvature (relax = 1) majorises the loss; a fraction of it takes longer steps (each step is
    still accepted only when the objective falls) and reaches the optimum in fewer iterations.
    """

    delta: float = 1e-3
    name: str = "huber"
    relax: float = 0.2

    def rho(self, r: np.ndarray) -> np.ndarray:
        a = np.abs(r)
        with np.errstate(over="ignore"):  # a huge delta: an infinite objective, which the fit refuses
            return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))

    def psi(self, r: np.ndarray) -> np.ndarray:
        return np.clip(r, -self.delta, self.delta)

    def irls_weight(self, r: np.ndarray) -> np.ndarray:
        a = np.abs(r)
        with np.errstate(divide="ignore"):
            return np.where(a <= self.delta, 1.0, self.relax * self.delta / a)


@dataclass(frozen=True)
class Squared:
    """Squared error r^2: the objective is the residual sum of squares."""

    name: str = "squared"

    def rho(self, r: np.ndarray) -> np.ndarray:
        return r * r

    def psi(self, r: np.ndarray) -> np.ndarray:
        return 2.0 * r

    def irls_weight(self, r: np.ndarray) -> np.ndarray:
        return np.full_like(r, 2.0)


@dataclass(frozen=True)
class Asymmetric:
    """Lower-envelope loss: rho(r) = r for r > 0, w |r| for r <= 0, with w = 10.

    The asymmetric absolute error of the ``chinchilla`` package (K. Takano,
    github.com/kyo-takano/chinchilla, ``chinchilla/_metrics.py``, ``asymmetric_mae`` with its default
    ``w=1e1``): with r = T(y) - T(f), a run below the law (r < 0) costs w times a run above it, so
    the law traces the lower envelope of the runs (about the 1/(1 + w) quantile).  Here it acts on
    residuals in the law's space (log loss for loss laws), as every engine loss does.  The
    reweighting curvature psi(r)/r = 1/|r| (or w/|r|) is the quadratic majoriser of |r|; it is capped
    at residuals of ``floor`` (residual units).
    """

    w: float = 10.0
    name: str = "asymmetric"
    floor: float = 1e-12

    def rho(self, r: np.ndarray) -> np.ndarray:
        return np.where(r > 0, r, -self.w * r)

    def psi(self, r: np.ndarray) -> np.ndarray:
        return np.where(r > 0, 1.0, -self.w)

    def irls_weight(self, r: np.ndarray) -> np.ndarray:
        return np.where(r > 0, 1.0, self.w) / np.maximum(np.abs(r), self.floor)


@dataclass(frozen=True)
class HuberLikelihood:
    """Negative log-likelihood of a Huber density with a free scale sigma (Besiroglu et al. 2024).

    NLL = sum rho_delta(r / sigma) + n log sigma + n log Z(delta), with
    Z(delta) = sqrt(2 pi) (1 - 2 Phi(-delta)) + 2 exp(-delta^2 / 2) / delta.
    The scale is an extra parameter, optimised as log sigma.
    """

    delta: float = 1e-3
    name: str = "huber-likelihood"

    @property
    def log_normaliser(self) -> float:
        d = self.delta
        return math.log(math.sqrt(2 * math.pi) * (1 - 2 * norm.sf(d)) + 2 * math.exp(-d * d / 2) / d)

    def unit(self) -> Huber:
        return Huber(self.delta)


def make_loss(name: str, delta: float = 1e-3) -> Huber | Squared | HuberLikelihood | Asymmetric:
    """The loss called ``name`` (``huber``, ``squared``, ``huber-likelihood`` or ``asymmetric``)."""
    if not delta > 0:
        raise LawError(f"the Huber delta must be positive, got {delta}")
    if name == "huber":
        return Huber(delta)
    if name == "squared":
        return Squared()
    if name == "huber-likelihood":
        return HuberLikelihood(delta)
    if name == "asymmetric":
        return Asymmetric()
    raise LawError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
