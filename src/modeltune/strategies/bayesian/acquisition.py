"""Log expected improvement, computed stably far into the tail, with its gradient.

Plain EI underflows to exactly zero away from the data, which leaves an optimiser
nothing to follow; its logarithm stays finite and informative (Ament et al.,
"Unexpected improvements to expected improvement", 2023).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

from modeltune.strategies.bayesian.gp import Posterior

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
# Below this z the two-term asymptotic expansion is accurate to double precision.
_ASYMPTOTIC_Z = -1e4


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z * Phi(z))``, the log of EI for unit variance, for any finite ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    mid = z > -1.0
    zm = z[mid]
    out[mid] = np.log(np.exp(-0.5 * zm * zm - _LOG_SQRT_2PI) + zm * ndtr(zm))
    tail = (z <= -1.0) & (z > _ASYMPTOTIC_Z)
    zt = z[tail]
    inner = np.log(erfcx(-zt / math.sqrt(2.0)) * np.abs(zt)) + _HALF_LOG_PI_OVER_2
    out[tail] = -0.5 * zt * zt - _LOG_SQRT_2PI + _log1mexp(inner)
    far = z <= _ASYMPTOTIC_Z
    zf = z[far]
    out[far] = -0.5 * zf * zf - _LOG_SQRT_2PI - 2.0 * np.log(-zf)
    return out


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x < 0``, accurate near zero and far below it."""
    return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_expected_improvement(
    gp: Posterior, features: np.ndarray, best: float, gradient: bool = False
) -> tuple[np.ndarray, ...]:
    """Log EI below ``best`` at each row of ``features`` (m, f), for a GP of a loss.

    Returns:
        ``(log_ei,)`` of shape ``(m,)``, or with ``gradient`` ``(log_ei, d log_ei / d features)``,
        the latter of shape ``(m, f)``.
    """
    if not gradient:
        mean, var = gp.predict(features)
    else:
        mean, var, dmean, dvar = gp.predict(features, gradient=True)
    sigma = np.sqrt(var)
    z = (best - mean) / sigma
    lh = log_h(z)
    value = lh + np.log(sigma)
    if not gradient:
        return (value,)
    # d EI / d mean = -Phi(z) and d EI / d sigma = phi(z); divide by EI in log space.
    d_mean = -np.exp(log_ndtr(z) - lh) / sigma
    d_sigma = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - lh) / sigma
    grad = d_mean[:, None] * dmean + (d_sigma / (2.0 * sigma))[:, None] * dvar
    return value, grad
