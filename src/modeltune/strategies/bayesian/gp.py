"""Gaussian-process regression: MAP hyperparameters, the posterior, and fantasies.

The GP has a constant mean (zero unless given), a Matern 5/2 ARD kernel scaled
by a signal variance, and Gaussian noise. Hyperparameters are fitted by
maximising the log marginal likelihood plus log priors with L-BFGS-B.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize

from modeltune.strategies.bayesian.kernel import (
    matern52,
    matern52_with_grad,
    squared_distances,
    weighted_column_distances,
)

# Log-normal priors in the spirit of "vanilla BO performs great in high dimensions"
# (Hvarfner et al., 2024): the length-scale prior grows with sqrt(dimensions).
_LENGTH_PRIOR_STD = math.sqrt(3.0)
_SIGNAL_PRIOR = (0.0, 1.0)  # mean and std of log signal variance
# Centred on a small noise (1/3000 of the signal): noise-free objectives then get refined to the
# optimum, and noisy ones still pull the fitted noise up through the likelihood.
_NOISE_PRIOR = (-8.0, 1.5)  # mean and std of log noise variance
_LOG_LENGTH_BOUNDS = (math.log(5e-3), math.log(50.0))
_LOG_SIGNAL_BOUNDS = (math.log(5e-2), math.log(20.0))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(2.0))


@dataclass(frozen=True)
class Hyperparameters:
    """GP hyperparameters: one length scale per group of features, signal and noise variances."""

    lengthscales: np.ndarray
    signal: float
    noise: float


class _Objective:
    """Negative log posterior of the hyperparameters and its gradient, for L-BFGS-B."""

    def __init__(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_groups: int, prior_mean: float):
        self.x, self.y, self.groups, self.n_groups = x, y, groups, n_groups
        self.prior_mean = prior_mean

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        g = self.n_groups
        lengths = np.exp(theta[:g])[self.groups]
        signal, noise = math.exp(theta[g]), math.exp(theta[g + 1])
        z = self.x / lengths
        r2 = squared_distances(z, z)
        corr, dcorr = matern52_with_grad(r2)
        k = signal * corr
        k.flat[:: len(k) + 1] += noise
        try:
            chol = cholesky(k, lower=True, check_finite=False)
        except LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve((chol, True), self.y, check_finite=False)
        nll = 0.5 * self.y @ alpha + np.log(np.diag(chol)).sum() + 0.5 * len(self.y) * math.log(2 * math.pi)
        w = np.outer(alpha, alpha)
        w -= cho_solve((chol, True), np.eye(len(self.y)), check_finite=False)
        grad = np.empty_like(theta)
        dcorr *= w
        per_column = -signal * weighted_column_distances(dcorr, z)
        grad[:g] = -np.bincount(self.groups, weights=per_column, minlength=g)
        grad[g] = -0.5 * signal * (w * corr).sum()
        grad[g + 1] = -0.5 * noise * np.trace(w)
        prior, prior_grad = self._log_prior(theta)
        return float(nll - prior), grad - prior_grad

    def _log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        g = self.n_groups
        means = np.concatenate([np.full(g, self.prior_mean), [_SIGNAL_PRIOR[0], _NOISE_PRIOR[0]]])
        stds = np.concatenate([np.full(g, _LENGTH_PRIOR_STD), [_SIGNAL_PRIOR[1], _NOISE_PRIOR[1]]])
        dev = (theta - means) / stds
        return float(-0.5 * (dev * dev).sum()), -dev / stds


def fit_hyperparameters(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    n_params: int,
    rng: np.random.Generator,
    runs: int,
    candidates: int = 16,
    maxiter: int = 200,
    mean: float = 0.0,
) -> Hyperparameters:
    """MAP hyperparameters for features ``x`` (n, f) and standardised targets ``y`` (n,).

    Args:
        x: GP input features.
        y: targets with mean about 0 and variance about 1.
        mean: the GP's prior mean (as for ``GaussianProcess``); the kernel models ``y - mean``.
        groups: the length-scale group of each feature column, shape ``(f,)``.
        n_params: number of tuned hyperparameters (sets the length-scale prior).
        rng: draws the extra starting points.
        runs: number of L-BFGS-B runs, started from the best of ``candidates`` points
            (the prior's centre and random draws around it).
        candidates: starting points scored before choosing where to start.
        maxiter: L-BFGS-B iterations per start.
    """
    n_groups = int(groups.max()) + 1
    prior_mean = math.sqrt(2.0) - _LENGTH_PRIOR_STD**2 + 0.5 * math.log(n_params)
    objective = _Objective(x, y - mean, groups, n_groups, prior_mean)
    bounds = [_LOG_LENGTH_BOUNDS] * n_groups + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]
    lower, upper = np.array(bounds).T
    centre = np.concatenate([np.full(n_groups, prior_mean), [_SIGNAL_PRIOR[0], _NOISE_PRIOR[0]]])
    draws = np.clip(centre + rng.normal(0.0, 1.0, (candidates - 1, len(centre))), lower, upper)
    pool = np.vstack([centre, draws])
    # Scoring starts costs one likelihood each; optimising only the best few keeps multi-start cheap.
    starts = pool[np.argsort([objective(theta)[0] for theta in pool], kind="stable")[:runs]]
    best_value, best_theta = math.inf, centre
    for start in starts:
        result = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": maxiter},
        )  # fmt: skip
        if result.fun < best_value:
            best_value, best_theta = float(result.fun), result.x
    return Hyperparameters(
        np.exp(best_theta[:n_groups]), math.exp(best_theta[n_groups]), math.exp(best_theta[n_groups + 1])
    )


class Posterior(Protocol):
    """What the acquisition needs of a model: its hyperparameters, predictions and fantasies."""

    @property
    def hyper(self) -> Hyperparameters: ...

    def predict(self, xq: np.ndarray, gradient: bool = False) -> tuple[np.ndarray, ...]: ...

    def condition(self, xq: np.ndarray, yq: np.ndarray, noise: float) -> Posterior: ...


class GaussianProcess:
    """The GP posterior given data, with fixed hyperparameters.

    Args:
        x: training features, shape ``(n, f)``.
        y: training targets, shape ``(n,)``.
        hyper: fitted hyperparameters (fitted to ``y - mean``).
        groups: the length-scale group of each feature column.
        noise: per-point noise variances, shape ``(n,)``; ``hyper.noise`` for all when None.
        mean: the prior mean, what the GP predicts far from the data.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        hyper: Hyperparameters,
        groups: np.ndarray,
        noise: np.ndarray | None = None,
        mean: float = 0.0,
    ):
        self.x, self.y, self.hyper, self.groups, self.mean = x, y, hyper, groups, mean
        self.noise = np.full(len(y), hyper.noise) if noise is None else noise
        self._lengths = hyper.lengthscales[groups]
        self._z = x / self._lengths
        k = hyper.signal * matern52(squared_distances(self._z, self._z)) + np.diag(self.noise)
        for jitter in (0.0, 1e-8, 1e-6, 1e-4, 1e-2):
            try:
                self._chol = cholesky(k + jitter * hyper.signal * np.eye(len(y)), lower=True, check_finite=False)
                break
            except LinAlgError:
                continue
        else:
            raise LinAlgError("the GP covariance is not positive definite even with jitter")
        self._alpha = cho_solve((self._chol, True), y - mean, check_finite=False)

    def solve(self, v: np.ndarray) -> np.ndarray:
        """``K^-1 v`` for the training covariance ``K`` (noise included), ``v`` of shape ``(n,)``."""
        return cho_solve((self._chol, True), v, check_finite=False)

    def predict(self, xq: np.ndarray, gradient: bool = False) -> tuple[np.ndarray, ...]:
        """Posterior mean and variance of the latent function at ``xq`` (m, f).

        Returns:
            ``(mean, var)``, each shape ``(m,)``; with ``gradient`` also their derivatives
            with respect to ``xq``, each shape ``(m, f)``.
        """
        zq = xq / self._lengths
        r2 = squared_distances(zq, self._z)
        if gradient:
            corr, dcorr = matern52_with_grad(r2)
        else:
            corr = matern52(r2)
        kq = self.hyper.signal * corr
        mean = self.mean + kq @ self._alpha
        v = solve_triangular(self._chol, kq.T, lower=True, check_finite=False)
        var = np.maximum(self.hyper.signal - (v * v).sum(0), 1e-12)
        if not gradient:
            return mean, var
        w = solve_triangular(self._chol.T, v, lower=False, check_finite=False).T  # K^-1 k, shape (m, n)
        dk = self.hyper.signal * dcorr  # dk/dr2, shape (m, n)
        scale = 2.0 / self._lengths**2

        def contract(weights: np.ndarray) -> np.ndarray:
            # sum_i weights_i dk_i/dr2 * d r2_i / d xq
            g = dk * weights
            return scale * (g.sum(1)[:, None] * xq - g @ self.x)

        return mean, var, contract(self._alpha[None, :]), -2.0 * contract(w)

    def condition(self, xq: np.ndarray, yq: np.ndarray, noise: float) -> GaussianProcess:
        """This GP with extra observations ``yq`` at ``xq`` (e.g. fantasies), same hyperparameters."""
        return GaussianProcess(
            np.vstack([self.x, xq]),
            np.concatenate([self.y, yq]),
            self.hyper,
            self.groups,
            np.concatenate([self.noise, np.full(len(yq), noise)]),
            self.mean,
        )
