"""TransferLearning parents as a learned prior mean for the child's GP.

A TransferLearning parent evaluated a related but different function, so its
jobs are not pooled with the child's own. They get a GP of their own
(standardised per parent), whose posterior mean ``m(x)`` enters the child's
model as a prior mean: the child's targets are ``y = a * m(x) + f(x)`` with a
residual GP ``f``. The weight ``a >= 0`` is the posterior mean of ``a`` under a
Gaussian prior given the child's data (a ridge-regularised generalised least
squares fit, which maximises the marginal likelihood plus that prior), so a
parent whose landscape does not match the child's gets ``a`` near 0 and
costs little, and a child with little data of its own keeps a shrunk default.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modeltune.strategies.bayesian.encoding import Encoding
from modeltune.strategies.bayesian.gp import GaussianProcess, Hyperparameters, fit_hyperparameters
from modeltune.strategies.bayesian.targets import gp_targets, subset

# Prior of the weight a: mean and standard deviation. With no own data a = _WEIGHT_MEAN.
_WEIGHT_MEAN = 0.5
_WEIGHT_STD = 0.5
# Parents' jobs used to fit the parents' GP and to form its posterior.
_MAX_PARENT_FIT = 60
_MAX_PARENT_POSTERIOR = 300
_FIT_ITERATIONS = 60
# Seeds of the initial design: the parents' best few configurations, at least this far apart.
SEEDS = 3
_SEED_SEPARATION = 0.05


class ParentPrior:
    """The TransferLearning parents' GP, whose posterior mean is a prior mean for the child.

    Args:
        encoding: the child's space maps.
        points: the parents' snapped points, shape ``(n, dim)``.
        losses: their losses (NaN for failures), shape ``(n,)``.
        sources: the parent each job came from, length ``n``.
        rng: draws the fit's starting points and subsets.
    """

    def __init__(
        self,
        encoding: Encoding,
        points: np.ndarray,
        losses: np.ndarray,
        sources: Sequence[str],
        rng: np.random.Generator,
    ):
        self.encoding = encoding
        targets = np.full(len(losses), np.nan)
        for source in sorted(set(sources)):
            mine = np.array([s == source for s in sources])
            standardised = gp_targets(losses[mine])
            if standardised is not None:
                targets[mine] = standardised
        usable = np.isfinite(targets)
        points, targets = points[usable], targets[usable]
        self.points, self.targets = points, targets
        self._succeeded = np.isfinite(losses[usable])
        self.gp: GaussianProcess | None = None
        if len(targets) < 2:
            return
        features = encoding.features(points)
        groups = encoding.group_of_feature
        fit = subset(targets, _MAX_PARENT_FIT, rng)
        hyper = fit_hyperparameters(
            features[fit], targets[fit], groups, encoding.dim, rng, runs=1, maxiter=_FIT_ITERATIONS
        )
        keep = subset(targets, _MAX_PARENT_POSTERIOR, rng)
        self.gp = GaussianProcess(features[keep], targets[keep], hyper, groups)

    def mean(self, features: np.ndarray, gradient: bool = False) -> tuple[np.ndarray, ...]:
        """``m(x)`` at ``features`` (m, f), and with ``gradient`` its derivative (m, f)."""
        if self.gp is None:
            zeros = np.zeros(len(features))
            return (zeros, np.zeros_like(features)) if gradient else (zeros,)
        out = self.gp.predict(features, gradient)
        return (out[0], out[2]) if gradient else (out[0],)

    def seeds(self, count: int = SEEDS) -> np.ndarray:
        """The parents' best ``count`` successful points (at least ``_SEED_SEPARATION`` apart), best first."""
        chosen: list[np.ndarray] = []
        for i in np.argsort(self.targets, kind="stable"):
            if len(chosen) == count or not self._succeeded[i]:
                break
            point = self.points[i]
            if all(np.sqrt(((point - c) ** 2).sum()) >= _SEED_SEPARATION for c in chosen):
                chosen.append(point)
        return np.array(chosen).reshape(-1, self.encoding.dim)


def prior_weight(gp: GaussianProcess, y: np.ndarray, prior_mean: np.ndarray) -> float:
    """Posterior mean of ``a`` in ``y = a * m + f``, clipped at 0, with ``f`` distributed as ``gp``.

    Args:
        gp: a GP at the child's points; only its covariance (noise included) and constant mean are used.
        y: the child's targets there, shape ``(n,)``.
        prior_mean: ``m`` there, shape ``(n,)``.
    """
    k_inv_m = gp.solve(prior_mean)
    precision = prior_mean @ k_inv_m + 1.0 / _WEIGHT_STD**2
    weight = (k_inv_m @ (y - gp.mean) + _WEIGHT_MEAN / _WEIGHT_STD**2) / precision
    return max(0.0, float(weight))


class ShiftedGP:
    """A residual GP plus ``weight * m(x)``: what the acquisition sees as the child's model.

    Args:
        residual: the GP of ``y - weight * m(x)``.
        prior: the parents' prior.
        weight: the weight ``a`` of the prior mean.
    """

    def __init__(self, residual: GaussianProcess, prior: ParentPrior, weight: float):
        self.residual, self.prior, self.weight = residual, prior, weight

    @property
    def hyper(self) -> Hyperparameters:
        """The residual GP's hyperparameters."""
        return self.residual.hyper

    def predict(self, xq: np.ndarray, gradient: bool = False) -> tuple[np.ndarray, ...]:
        """As ``GaussianProcess.predict``, with the weighted prior mean added to the mean."""
        out = list(self.residual.predict(xq, gradient))
        if self.weight == 0.0:
            return tuple(out)
        shift = self.prior.mean(xq, gradient)
        out[0] = out[0] + self.weight * shift[0]
        if gradient:
            out[2] = out[2] + self.weight * shift[1]
        return tuple(out)

    def condition(self, xq: np.ndarray, yq: np.ndarray, noise: float) -> ShiftedGP:
        """This model with extra observations ``yq`` at ``xq`` (e.g. fantasies)."""
        residual = yq - self.weight * self.prior.mean(xq)[0]
        return ShiftedGP(self.residual.condition(xq, residual, noise), self.prior, self.weight)
